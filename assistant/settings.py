"""Settings shared by the actions and our Rasa server components, each read when first needed.

Each value has one home: the answer threshold is AnswerConfidence's in config.yml (read only
by the Rasa server and the lab); the clinic's details and the action server timeout come from
the environment (README, "Configuration").
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, Dict

import yaml

from assistant import paths

# "Did you mean": answers whose confidence is at least this, among the top 3, are offered as
# choices when the assistant is not sure enough to answer; with fewer than two, the topics.
CLARIFY_MIN_CONFIDENCE = 0.1
CLARIFY_MIN_CHOICES = 2
CLARIFY_MAX_CHOICES = 3
ANSWER_CONFIDENCE_COMPONENT = "nlu.answer_confidence.AnswerConfidence"


@cache
def pipeline_component(name: str) -> Dict[str, Any]:
    """A component's settings in config.yml's pipeline (by its `name`)."""
    config = yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == name:
            return dict(component)
    raise RuntimeError(f"config.yml's pipeline has no {name}")


def action_server_timeout_seconds() -> float:
    """How long the Rasa server waits for the action server before the "unavailable" reply."""
    return float(os.environ.get("ACTION_SERVER_TIMEOUT_SECONDS", "10"))


def nlu_on_its_own_thread() -> bool:
    """NLU beside the event loop (rasa_patches/nlu_thread.py): on unless NLU_THREAD=off, which is
    for servers that share their cores with other servers (the local cluster)."""
    return os.environ.get("NLU_THREAD", "on").strip().lower() != "off"


# Safe defaults for local use; a clinic sets them in the environment (see README).
CLINIC_DEFAULTS = {
    "clinic_name": ("CLINIC_NAME", "the clinic"),
    "clinic_phone": ("CLINIC_PHONE", "the number on your clinic letter"),
    "emergency_number": ("EMERGENCY_NUMBER", "your local emergency number"),
}


def clinic_contact() -> Dict[str, str]:
    """The clinic's details, filled into replies wherever a response names them ({clinic_phone})."""
    return {key: os.environ.get(variable) or default for key, (variable, default) in CLINIC_DEFAULTS.items()}


def web_session_hours() -> float:
    """How long a web chat token opens its conversation (channels/socketio.py)."""
    return float(os.environ.get("WEB_SESSION_HOURS", "24"))


def trusted_proxy_hops() -> int:
    """How many proxies in front of the Rasa server append to X-Forwarded-For (HAProxy: 1; an
    Ingress before it: 2). 0: the peer address is the client's (no proxy; headers ignored)."""
    return int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))


def clinic_site_origins() -> frozenset:
    """The origins of the clinic's own website that may embed the chat widget (CLINIC_SITE_ORIGINS:
    scheme://host[:port], separated by commas or spaces), normalised as browsers send them."""
    raw = os.environ.get("CLINIC_SITE_ORIGINS", "")
    return frozenset(normal_origin(o) for o in raw.replace(",", " ").split() if o.strip())


def normal_origin(origin: str) -> str:
    """An origin as a browser's Origin header writes it: lower case, no path, no default port."""
    from urllib.parse import urlsplit

    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"CLINIC_SITE_ORIGINS: {origin!r} is not an origin like https://www.clinic.example")
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"
