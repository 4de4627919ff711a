"""`make run`'s supervisor warns when the clinic's urgent contact details or the REST key are missing."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import PROJECT_ROOT

VARIABLES = ("CLINIC_PHONE", "EMERGENCY_NUMBER", "REST_API_KEY")


def check_config(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-m", "scripts.runtime.supervise", "check-config"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr


def test_missing_contact_details_are_warned_about():
    warnings = check_config()
    assert "CLINIC_PHONE is not set" in warnings and "EMERGENCY_NUMBER is not set" in warnings
    assert "urgent replies use generic wording" in warnings
    assert "REST_API_KEY is not set" in warnings


def test_no_warning_when_the_clinic_has_set_them():
    assert check_config(CLINIC_PHONE="020 7946 0000", EMERGENCY_NUMBER="999", REST_API_KEY="k") == ""
