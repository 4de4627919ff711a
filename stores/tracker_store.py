"""Our tracker store (endpoints.yml `tracker_store: type: stores.tracker_store.PatientTrackerStore`):
Rasa's SQL tracker store (SQLite by default, PostgreSQL in production) that can also forget.

- A conversation whose turn set the forget_conversation slot (action_forget_me: the patient
  asked to be forgotten and confirmed, or texted STOP) is deleted instead of saved: every
  event, the turn's reply included. The next message starts a new conversation.
- `purge(older_than_days)` deletes every conversation nobody has written to for that long
  (`make purge DAYS=n`).
- A turn reads only the conversation's recent events (assistant/history.py): the newest
  RECENT_EVENTS of the current session, with one indexed query, and saves only the events it
  added; so a turn costs the same at the 300th message as at the first. Everything else (the
  HTTP API's history, purge, forget) reads the whole conversation, as Rasa's store does.
- No silent fallback: when the database is unreachable the error is raised (StoreUnavailable),
  not answered from memory as Rasa's FailSafeTrackerStore would (rasa_patches/tracker_store.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from typing import Any, Dict, List

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from assistant.history import RECENT_EVENTS, reading_recent_history
from assistant.names import FORGET_CONVERSATION_SLOT

logger = logging.getLogger(__name__)

# Connections kept open to an SQLite tracker store (one event loop: few are ever in use).
SQLITE_POOL_SIZE = 4


def asks_to_forget(tracker: DialogueStateTracker) -> bool:
    """Whether the conversation is to be deleted: a turn set the forget_conversation slot (a
    conversation that had been would have been deleted then, so any such event is this turn's)."""
    return any(
        isinstance(e, SlotSet) and e.key == FORGET_CONVERSATION_SLOT and e.value is True
        for e in tracker.events
    )


class StoreUnavailable(Exception):
    """The conversation could not be read or saved (the database is unreachable)."""


class PatientTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After a database restart the pooled connections are dead: test each before use, so
        # that the first patient afterwards is answered rather than told "unavailable".
        self.engine.pool._pre_ping = True
        if self.engine.dialect.name == "sqlite":
            self._reuse_sqlite_connections()
        # The newest events of one conversation, found without sorting all of them.
        sa.Index("events_sender_id_id", self.SQLEvent.sender_id, self.SQLEvent.id).create(
            self.engine, checkfirst=True
        )

    def _reuse_sqlite_connections(self) -> None:
        """Rasa's SQLite engine opens and closes a connection for every use, and SQLite
        checkpoints its log whenever the last connection closes: several times a turn. A small
        pool keeps them open. The write-ahead log makes a save one fsync instead of several,
        and reading never waits for a write; as durable as before (fsync on commit)."""
        rasa_engine: Any = self.engine  # type: ignore[has-type]
        url = rasa_engine.url
        rasa_engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            pool_pre_ping=True,
            connect_args={"check_same_thread": False},  # a pooled connection moves between threads
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not reading_recent_history.get():
            return await super().retrieve(sender_id)
        newest_first = await asyncio.to_thread(self._newest_events, sender_id)
        # the current session only, as Rasa's retrieve: from its newest session start on
        recent = list(itertools.takewhile(lambda row: row[0] != SessionStarted.type_name, newest_first))
        if len(recent) < len(newest_first):
            recent.append(newest_first[len(recent)])
        if not recent or self.domain is None:
            return None
        events = [json.loads(row[1]) for row in reversed(recent)]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        tracker._stored_events = len(tracker.events)
        return tracker

    def _newest_events(self, sender_id: str) -> List[Any]:
        """(type name, JSON) of a conversation's newest RECENT_EVENTS events, newest first."""
        with self.session_scope() as session:
            return (
                session.query(self.SQLEvent.type_name, self.SQLEvent.data)
                .filter(self.SQLEvent.sender_id == sender_id)
                .order_by(self.SQLEvent.id.desc())
                .limit(RECENT_EVENTS)
                .all()
            )

    async def save(self, tracker: DialogueStateTracker) -> None:
        if asks_to_forget(tracker):
            self.forget(tracker.sender_id)
            return
        stored = getattr(tracker, "_stored_events", None)
        if stored is None:  # not read here: Rasa's own way of telling the new events
            await super().save(tracker)
        else:
            rows = self._rows(tracker, itertools.islice(tracker.events, stored, None))
            if rows:
                await asyncio.to_thread(self._insert, rows)
        tracker._stored_events = len(tracker.events)

    def _rows(self, tracker: DialogueStateTracker, events: Any) -> List[Dict[str, Any]]:
        """The rows Rasa's save writes for the events it finds new, for events we know are new."""
        rows = []
        for event in events:
            data = event.as_dict()
            rows.append(
                {
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        return rows

    def _insert(self, rows: List[Dict[str, Any]]) -> None:
        with self.session_scope() as session:
            # one INSERT for all, without the ORM's bookkeeping of objects nobody reads again
            session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()

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
