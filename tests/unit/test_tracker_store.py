"""The tracker store on SQLite: a turn reads only recent history of the current session and
saves only what it added; everything stays stored and readable in full."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from assistant import paths
from assistant.history import RECENT_EVENTS, reading_recent_history
from stores.tracker_store import PatientTrackerStore

TURNS = RECENT_EVENTS  # four events a turn: four times what a turn reads


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN))


@pytest.fixture
def store(tmp_path, domain) -> PatientTrackerStore:
    return PatientTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def turn(number: int) -> list:
    return [
        UserUttered(f"question {number}", {"name": "what_is_it", "confidence": 0.9}),
        ActionExecuted("action_answer_question"),
        BotUttered(f"answer {number}", metadata={"kind": "answer", "answer_key": f"a{number}"}),
        ActionExecuted("action_listen"),
    ]


def recent(store: PatientTrackerStore, sender: str) -> DialogueStateTracker | None:
    token = reading_recent_history.set(True)
    try:
        return asyncio.run(store.retrieve(sender))
    finally:
        reading_recent_history.reset(token)


def stored_rows(store: PatientTrackerStore, sender: str) -> int:
    with store.engine.connect() as connection:
        query = sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s")
        return int(connection.execute(query, {"s": sender}).scalar())


def converse(store: PatientTrackerStore, domain: Domain, sender: str, turns: int, first: int = 0) -> None:
    """Each turn as a Rasa turn does it: read (recent history), add the turn's events, save."""
    for number in range(first, first + turns):
        tracker = recent(store, sender) or DialogueStateTracker(sender, domain.slots)
        for event in turn(number):
            tracker.update(event)
        asyncio.run(store.save(tracker))


def test_a_turn_reads_the_newest_events_and_every_event_is_stored_once(store, domain):
    converse(store, domain, "long", TURNS)
    assert stored_rows(store, "long") == 4 * TURNS
    tracker = recent(store, "long")
    assert len(tracker.events) == RECENT_EVENTS
    assert tracker.events[-2].text == f"answer {TURNS - 1}"  # the newest, in order
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)][0] == (
        f"question {TURNS - RECENT_EVENTS // 4}"
    )
    full = asyncio.run(store.retrieve("long"))  # not a patient's turn: the whole conversation
    assert len(full.events) == 4 * TURNS and full.events[0].text == "question 0"


def test_a_turn_reads_only_the_current_session(store, domain):
    converse(store, domain, "two-sessions", 5)
    tracker = recent(store, "two-sessions")
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    converse(store, domain, "two-sessions", 2, first=100)
    events = recent(store, "two-sessions").events
    assert isinstance(events[0], SessionStarted)
    assert [e.text for e in events if isinstance(e, UserUttered)] == ["question 100", "question 101"]
    assert stored_rows(store, "two-sessions") == 4 * 7 + 2


def test_an_unknown_conversation_reads_as_none(store):
    assert recent(store, "nobody") is None


def test_the_forget_conversation_event_deletes_the_conversation_and_a_reply_kind_does_not(store, domain):
    """Forgetting is an explicit step (action_forget_me's slot event), not a kind of reply."""
    from rasa.shared.core.events import SlotSet

    from assistant.names import FORGET_CONVERSATION_SLOT

    converse(store, domain, "kept", 2)
    tracker = recent(store, "kept")
    tracker.update(BotUttered("Deleted.", metadata={"kind": "forgotten"}))
    asyncio.run(store.save(tracker))
    assert stored_rows(store, "kept") == 9

    converse(store, domain, "gone", 2)
    tracker = recent(store, "gone")
    for event in [
        BotUttered("Deleted.", metadata={"kind": "forgotten"}),
        SlotSet(FORGET_CONVERSATION_SLOT, True),
    ]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    assert stored_rows(store, "gone") == 0
    converse(store, domain, "gone", 1)  # the next message starts a new conversation
    assert stored_rows(store, "gone") == 4


def said_with_id(store: PatientTrackerStore, domain: Domain, sender: str, text: str, message_id: str) -> None:
    """One turn whose user message carries the channel's message id (Twilio's Sid, REST's message_id)."""
    tracker = recent(store, sender) or DialogueStateTracker(sender, domain.slots)
    tracker.update(
        UserUttered(text, {"name": "what_is_it", "confidence": 0.9}, metadata={"message_id": message_id})
    )
    tracker.update(ActionExecuted("action_answer_question"))
    tracker.update(BotUttered(f"answer to {text}"))
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))


def test_a_message_id_counts_as_received_only_with_its_stored_turn(store, domain):
    """Issue 19 items 1 and 9: "seen" is written in the transaction that stores the turn, so a
    delivery whose turn was not stored (its server died mid-turn) is processed on retry, and a
    duplicate of a stored turn is refused at save (two servers racing) without a second turn."""
    from stores.tracker_store import DuplicateMessage

    assert not store.was_received("sms-a", "SM1")  # a turn that never reached the store
    said_with_id(store, domain, "sms-a", "first", "SM1")
    assert store.was_received("sms-a", "SM1") and stored_rows(store, "sms-a") == 4
    with pytest.raises(DuplicateMessage):
        said_with_id(store, domain, "sms-a", "first", "SM1")
    assert stored_rows(store, "sms-a") == 4
    assert not store.was_received("sms-b", "SM1")  # ids belong to one conversation
    said_with_id(store, domain, "sms-a", "second", "SM2")
    assert stored_rows(store, "sms-a") == 8


def test_purge_deletes_old_events_of_active_conversations_too(store, domain):
    """Issue 19 item 6: a patient who writes monthly must not keep years of history; what is
    newer than the window stays, in every conversation."""
    import time

    now = time.time()
    converse(store, domain, "monthly", 3)
    converse(store, domain, "gone-quiet", 2)
    first_two_turns = "SELECT id FROM events WHERE sender_id = 'monthly' ORDER BY id LIMIT 8"
    with store.engine.begin() as connection:  # 40 days ago: all of one, the first two turns of the other
        connection.execute(
            sa.text(
                "UPDATE events SET timestamp = :t WHERE sender_id = 'gone-quiet' "
                f"OR id IN ({first_two_turns})"
            ),
            {"t": now - 40 * 86400},
        )
    said_with_id(store, domain, "monthly", "recent", "SM-recent")
    store.purge(30, now=now)
    assert stored_rows(store, "gone-quiet") == 0
    kept = asyncio.run(store.retrieve("monthly"))
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["question 2", "recent"]
    assert store.was_received("monthly", "SM-recent")
