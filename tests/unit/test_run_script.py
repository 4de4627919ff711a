"""`make run`'s start script warns when the clinic's urgent contact details are missing."""

from __future__ import annotations

import os
import subprocess

from tests.helpers import PROJECT_ROOT


def check_config(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("CLINIC_PHONE", "EMERGENCY_NUMBER")}
    environment.update(env)
    result = subprocess.run(
        ["bash", "scripts/run.sh", "check-config"],
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


def test_no_warning_when_the_clinic_has_set_them():
    assert check_config(CLINIC_PHONE="020 7946 0000", EMERGENCY_NUMBER="999") == ""
