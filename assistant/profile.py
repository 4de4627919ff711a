"""Which profile this process runs in (README, "Production"): embedded (the default: SQLite, one
server on this machine) or production (ASSISTANT_PROFILE=production: PostgreSQL and Redis,
several servers behind a proxy). What each profile needs is in scripts/runtime/profile.py."""

from __future__ import annotations

from typing import Mapping

PROFILE_VARIABLE = "ASSISTANT_PROFILE"


def is_production(env: Mapping[str, str]) -> bool:
    return env.get(PROFILE_VARIABLE, "") == "production"


# Every value in deploy/k8s/secret.example.yaml is a placeholder that says "replace-with-...": a
# server started with one of them would run with a secret everybody can read in this repository.
PLACEHOLDER_MARK = "replace-with"


def refuse_placeholder_secrets(env: Mapping[str, str]) -> None:
    """Stop, naming the variables that still hold the template's placeholder."""
    left = sorted(name for name, value in env.items() if PLACEHOLDER_MARK in str(value))
    if left:
        raise SystemExit(
            f"ERROR: {', '.join(left)} still hold the placeholder of deploy/k8s/secret.example.yaml: "
            "set real secrets (deploy/README.md)."
        )
