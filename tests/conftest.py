"""Fixtures for every test: the domain as the action server receives it, and a Tracker plus a
CollectingDispatcher for the actions. (The servers: tests/e2e/conftest.py.)"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Dict

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.helpers import DOMAIN

# Tests record unanswered turns too: keep them out of the developer's var/review_queue.db.
os.environ.setdefault("REVIEW_DB", os.path.join(tempfile.mkdtemp(prefix="review-"), "review_queue.db"))


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The domain as the action server receives it (responses included)."""
    return DOMAIN


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: str | None,
    confidence: float = 0.95,
    text: str = "a question",
    channel: str = "rest",
    entities: Any = (),
) -> Tracker:
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": confidence}] if intent else [],
        "entities": list(entities),
    }
    events = [{"event": "user", "text": text, "parse_data": latest_message, "input_channel": channel}]
    return Tracker("patient-1", {}, latest_message, events, False, None, {}, "action_listen")


@pytest.fixture
def tracker_for():
    return make_tracker
