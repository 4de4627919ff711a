"""The two profiles, chosen by ASSISTANT_PROFILE (README, "Production"):

- embedded (the default): SQLite in var/, one Rasa server (endpoints.yml);
- production: PostgreSQL for conversations and the review queue (stores/review_queue.py finds it
  from the same DB_* variables), Redis for the lock store, so that several
  servers share the work (deploy/endpoints.production.yml).

`make run`, `make purge` and `make review` all read it here, so they agree on where things are.
"""

from __future__ import annotations

from typing import Dict

from assistant import paths
from assistant.profile import is_production

# What the production profile cannot run without (the rest of README "Configuration" applies).
PRODUCTION_VARIABLES = (
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "REDIS_URL",
    "WEB_SESSION_SECRET",  # the same on every server: a web chat may reconnect to another
    "REST_API_KEY",  # behind the proxy every request is loopback: no "this machine only"
)
EMBEDDED_ENDPOINTS = paths.PROJECT_ROOT / "endpoints.yml"
PRODUCTION_ENDPOINTS = paths.PROJECT_ROOT / "deploy" / "endpoints.production.yml"


def profile(env: Dict[str, str]) -> str:
    """The endpoints file of the profile `env` selects; stops with the names of missing
    variables."""
    if not is_production(env):
        return str(EMBEDDED_ENDPOINTS)
    missing = [name for name in PRODUCTION_VARIABLES if not env.get(name)]
    if missing:
        raise SystemExit(
            f"ERROR: ASSISTANT_PROFILE=production needs {', '.join(missing)} (README, Production)."
        )
    return str(PRODUCTION_ENDPOINTS)
