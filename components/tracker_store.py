"""Our tracker store (endpoints.yml `tracker_store: type: components.tracker_store.PatientTrackerStore`):
Rasa's SQL tracker store (SQLite by default, PostgreSQL in production) that can also forget.

- A conversation whose newest reply is marked `kind: forgotten` (the patient asked to be
  forgotten and confirmed, or texted STOP) is deleted instead of saved: every event, that last
  reply included. The next message starts a new conversation.
- `purge(older_than_days)` deletes every conversation nobody has written to for that long
  (`make purge DAYS=n`).
- No silent fallback: Rasa wraps every tracker store in a `FailSafeTrackerStore` that, when the
  database is unreachable, answers from an empty in-memory tracker (the patient's history
  gone) and keeps the turn in memory only. For this store the error is raised instead, so the
  channel tells the patient "unavailable" and nothing is acknowledged that was not stored.
"""

from __future__ import annotations

import logging
import time
from typing import Any, List

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from assistant.replies import Kind

logger = logging.getLogger(__name__)


def asks_to_forget(tracker: DialogueStateTracker) -> bool:
    """Whether the newest reply confirms that the conversation is to be forgotten."""
    last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
    return last_bot is not None and (last_bot.metadata or {}).get("kind") == Kind.FORGOTTEN.value


class StoreUnavailable(Exception):
    """The conversation could not be read or saved (the database is unreachable)."""


_rasa_on_error = FailSafeTrackerStore.on_tracker_store_error
_rasa_on_retrieve_error = FailSafeTrackerStore.on_tracker_store_retrieve_error


def _raise_for_ours(fallback: Any) -> Any:
    def on_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(self._tracker_store, PatientTrackerStore):
            logger.error("Conversation store unavailable: %s", type(error).__name__)
            raise StoreUnavailable() from error
        fallback(self, error)

    return on_error


def refuse_in_memory_fallback() -> None:
    """Idempotent: make Rasa's FailSafeTrackerStore raise for our store instead of falling back."""
    FailSafeTrackerStore.on_tracker_store_error = _raise_for_ours(_rasa_on_error)
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _raise_for_ours(_rasa_on_retrieve_error)


class PatientTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        refuse_in_memory_fallback()
        super().__init__(*args, **kwargs)
        # After a database restart the pooled connections are dead: test each before use, so
        # that the first patient afterwards is answered rather than told "unavailable".
        self.engine.pool._pre_ping = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        if asks_to_forget(tracker):
            self.forget(tracker.sender_id)
            return
        await super().save(tracker)

    def forget(self, sender_id: str) -> int:
        """Delete every event of one conversation; the number deleted."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("Conversation %s forgotten (%d events deleted).", sender_id, deleted)
        return int(deleted)

    def purge(self, older_than_days: float, now: float | None = None) -> List[str]:
        """Delete the conversations whose newest event is older than `older_than_days`; their ids."""
        cutoff = (now or time.time()) - older_than_days * 86400
        with self.session_scope() as session:
            newest = sa.func.max(self.SQLEvent.timestamp)
            stale = [
                sender
                for (sender,) in session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(newest < cutoff)
                .all()
            ]
            for start in range(0, len(stale), 500):
                batch = stale[start : start + 500]
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id.in_(batch)).delete(
                    synchronize_session=False
                )
            session.commit()
        return stale

    @classmethod
    def from_endpoint_config(cls, config: Any) -> PatientTrackerStore:
        """The store endpoints.yml configures (for scripts that run without the Rasa server)."""
        kwargs = {k: v for k, v in (config.kwargs or {}).items() if k != "type"}
        return cls(domain=None, host=config.url, **kwargs)  # as Rasa loads it: `url` is the host
