"""Shared fixtures: the real servers for end-to-end tests, and a Tracker plus a
CollectingDispatcher for unit tests of the actions."""
from __future__ import annotations

import itertools
import os
import re
import tempfile
from typing import Any, Dict, Iterator, Optional

# Unit tests of the actions record unanswered turns too: keep them out of the developer's
# var/review_queue.db (read when actions.review_queue is imported, so set before any import).
os.environ.setdefault("REVIEW_DB", os.path.join(tempfile.mkdtemp(prefix="review-"), "review_queue.db"))

import pytest  # noqa: E402
import yaml  # noqa: E402
from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from tests.servers import PROJECT_ROOT, Stack  # noqa: E402


# The environment a clinic would set (README, "Configuration"), with test values.
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TWILIO_PUBLIC_URL = "https://assistant.clinic.example/webhooks/twilio/webhook"  # behind a proxy
CLINIC_ENV = {
    "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_WEBHOOK_URL": TWILIO_PUBLIC_URL,
    "SMS_SENDER_ID_SECRET": "test-sender-secret",
    "CLINIC_NAME": "Northgate Spine Clinic",
    "CLINIC_PHONE": "020 7946 0000",
    "EMERGENCY_NUMBER": "999",
    "ACTION_SERVER_TIMEOUT_SECONDS": "3",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    servers = Stack(workdir, env={**CLINIC_ENV, "REVIEW_DB": str(workdir / "review_queue.db")})
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()


_sender_numbers = itertools.count(1)


@pytest.fixture
def sender(request: pytest.FixtureRequest) -> str:
    """A fresh conversation id per test."""
    return f"test-{re.sub(r'[^A-Za-z0-9_]+', '-', request.node.name)[:40]}-{next(_sender_numbers)}"


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The domain as the action server receives it (responses included)."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(intent: Optional[str], confidence: float = 0.95, text: str = "a question",
                 channel: str = "rest", entities: Any = ()) -> Tracker:
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": confidence}] if intent else [],
        "entities": list(entities),
    }
    events = [{"event": "user", "text": text, "parse_data": latest_message,
               "input_channel": channel}]
    return Tracker("patient-1", {}, latest_message, events, False, None, {}, "action_listen")


@pytest.fixture
def tracker_for():
    return make_tracker
