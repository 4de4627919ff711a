"""Which profile this process runs in (README, "Production"): embedded (the default: SQLite, one
server on this machine) or production (ASSISTANT_PROFILE=production: PostgreSQL and Redis,
several servers behind a proxy). What each profile needs is in scripts/runtime/profile.py."""

from __future__ import annotations

from typing import Mapping

PROFILE_VARIABLE = "ASSISTANT_PROFILE"


def is_production(env: Mapping[str, str]) -> bool:
    return env.get(PROFILE_VARIABLE, "") == "production"
