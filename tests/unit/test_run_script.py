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


def test_production_refuses_to_start_without_the_rest_api_key():
    """Issue 19 item 3: behind a proxy every request is loopback, so "this machine only" means
    nothing there: the production profile stops, naming the key; the REST channel refuses too."""
    import pytest

    from channels.rest import PatientRestInput
    from scripts.runtime.profile import PRODUCTION_VARIABLES, profile

    env = {name: "x" for name in PRODUCTION_VARIABLES if name != "REST_API_KEY"}
    env["ASSISTANT_PROFILE"] = "production"
    with pytest.raises(SystemExit, match="REST_API_KEY"):
        profile(env)
    assert profile({**env, "REST_API_KEY": "k"}).endswith("endpoints.production.yml")
    old = {k: os.environ.get(k) for k in ("ASSISTANT_PROFILE", "REST_API_KEY")}
    try:
        os.environ["ASSISTANT_PROFILE"] = "production"
        os.environ.pop("REST_API_KEY", None)
        with pytest.raises(ValueError, match="REST_API_KEY"):
            PatientRestInput.from_credentials(None)
        os.environ["ASSISTANT_PROFILE"] = ""
        assert PatientRestInput.from_credentials(None).expected == b""  # embedded: loopback only
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def test_the_secret_templates_placeholders_are_refused_at_start_up():
    """Issue 19 (low): a server started with secret.example.yaml's values ran with secrets
    anybody can read in this repository. Every value there is recognised, and each server stops."""
    import pytest
    import yaml

    from assistant.profile import refuse_placeholder_secrets
    from channels.rest import PatientRestInput

    template = yaml.safe_load((PROJECT_ROOT / "deploy" / "k8s" / "secret.example.yaml").read_text())
    placeholders = template["stringData"]
    for name, value in placeholders.items():
        with pytest.raises(SystemExit, match=name):
            refuse_placeholder_secrets({name: value})
    old = os.environ.get("REST_API_KEY")
    try:
        os.environ["REST_API_KEY"] = placeholders["REST_API_KEY"]
        with pytest.raises(SystemExit, match="REST_API_KEY"):
            PatientRestInput.from_credentials(None)
    finally:
        os.environ.pop("REST_API_KEY") if old is None else os.environ.__setitem__("REST_API_KEY", old)
    actions = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", "1"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ACTION_SERVER_TOKEN": placeholders["ACTION_SERVER_TOKEN"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert actions.returncode != 0 and "ACTION_SERVER_TOKEN" in actions.stderr
