"""Our tracker store (endpoints.yml `tracker_store: type: stores.tracker_store.PatientTrackerStore`):
Rasa's SQL tracker store (SQLite by default, PostgreSQL in production) that can also forget.

- A conversation whose turn set the forget_conversation slot (action_forget_me: the patient
  asked to be forgotten and confirmed, or texted STOP) is deleted instead of saved: every
  event, the turn's reply included. The next message starts a new conversation.
- A turn reads only the conversation's recent events (assistant/history.py): the newest
  RECENT_EVENTS of the current session, with one indexed query, and saves only the events it
  added; so a turn costs the same at the 300th message as at the first. Everything else (the
  HTTP API's history, purge, forget) reads the whole conversation, as Rasa's store does.
- A message the channel gives an id (Twilio's MessageSid, REST's `message_id`) is recorded as
  received in the same transaction that stores its turn (`received_messages`: a hash of the
  conversation and the id, and when). A delivery whose turn was not stored (its server died
  mid-turn) is therefore processed when it comes again; a second copy of a stored turn is
  refused at save (DuplicateMessage) even when two servers ran it at once. The rows hold no
  conversation id, so they outlive "forget me" (a replayed STOP stays harmless) and are purged
  with the events.
- `purge(older_than_days)` deletes every event older than that, in every conversation, in one
  statement (`make purge DAYS=n`, scheduled: deploy/README.md).
- Fencing: a turn that lost its conversation's lock mid-turn (stores/lock_store.py) is not saved.
- No silent fallback: when the database is unreachable the error is raised (StoreUnavailable),
  not answered from memory as Rasa's FailSafeTrackerStore would (rasa_patches/tracker_store.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import time
from typing import Any, Dict, Iterable, List

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from assistant.history import RECENT_EVENTS, reading_recent_history
from assistant.names import FORGET_CONVERSATION_SLOT, MESSAGE_ID_KEY
from stores.lock_store import held_lock

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


class DuplicateMessage(Exception):
    """This message (by its channel's id) is already stored with its turn: not saved again."""


def received_key(sender_id: str, message_id: str) -> str:
    """What `received_messages` keeps of a message id: unlinkable to the conversation."""
    return hashlib.sha256(f"{sender_id}\0{message_id}".encode()).hexdigest()


def message_ids(events: Iterable[Any]) -> List[str]:
    """The channel ids of the user messages among `events`."""
    return [
        str(e.metadata[MESSAGE_ID_KEY])
        for e in events
        if isinstance(e, UserUttered) and (e.metadata or {}).get(MESSAGE_ID_KEY)
    ]


class PatientTrackerStore(SQLTrackerStore):
    engine: Any  # Rasa's, replaced for SQLite (_reuse_sqlite_connections)

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
        sa.Index("events_timestamp", self.SQLEvent.timestamp).create(self.engine, checkfirst=True)
        self.received = self._hash_table("received_messages")
        self.retired = self._hash_table("retired_conversations")  # no web chat token opens these

    def _hash_table(self, name: str) -> sa.Table:
        """A table of hashes (no conversation id) and when each was written (for purge)."""
        table = sa.Table(
            name,
            sa.MetaData(),
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("at", sa.Float, nullable=False, index=True),
        )
        table.create(self.engine, checkfirst=True)
        return table

    def _holds(self, table: sa.Table, key: str) -> bool:
        with self.session_scope() as session:
            return session.execute(sa.select(table.c.key).where(table.c.key == key)).first() is not None

    def _reuse_sqlite_connections(self) -> None:
        """Rasa's SQLite engine opens and closes a connection for every use, and SQLite
        checkpoints its log whenever the last connection closes: several times a turn. A small
        pool keeps them open. The write-ahead log makes a save one fsync instead of several,
        and reading never waits for a write; as durable as before (fsync on commit)."""
        rasa_engine = self.engine
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
        held = held_lock()
        if held is not None and held.conversation_id == tracker.sender_id:
            await held.confirm()  # fencing: a turn that lost its lock meanwhile is not saved
        if asks_to_forget(tracker):
            await asyncio.to_thread(self.forget, tracker.sender_id, message_ids(tracker.events))
            return
        stored = getattr(tracker, "_stored_events", None)
        if stored is None:  # not read here: Rasa's own way of telling the new events
            await self.stream_events(tracker)
        await asyncio.to_thread(self._save_new_events, tracker, stored)
        tracker._stored_events = len(tracker.events)

    def _save_new_events(self, tracker: DialogueStateTracker, stored: int | None) -> None:
        """The turn's events and its message ids as received, in one transaction."""
        with self.session_scope() as session:
            if stored is None:
                new_events = list(self._additional_events(session, tracker))
            else:
                new_events = list(itertools.islice(tracker.events, stored, None))
            if not new_events:
                return
            self._mark_received(session, tracker.sender_id, message_ids(new_events))
            # one INSERT for all, without the ORM's bookkeeping of objects nobody reads again
            session.execute(sa.insert(self.SQLEvent.__table__), self._rows(tracker, new_events))
            session.commit()

    def _mark_received(self, session: Any, sender_id: str, ids: List[str], again_ok: bool = False) -> None:
        if not ids:
            return
        keys = {received_key(sender_id, i) for i in ids}
        if again_ok:  # only those not recorded yet
            keys -= set(
                session.execute(sa.select(self.received.c.key).where(self.received.c.key.in_(keys))).scalars()
            )
        rows = [{"key": key, "at": time.time()} for key in sorted(keys)]
        if not rows:
            return
        try:
            session.execute(sa.insert(self.received), rows)
            session.flush()
        except sa.exc.IntegrityError as error:
            session.rollback()
            raise DuplicateMessage(sender_id) from error

    def was_received(self, sender_id: str, message_id: str) -> bool:
        """Whether a turn with this message id is stored (or was, before "forget me")."""
        return self._holds(self.received, received_key(sender_id, message_id))

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

    def retire(self, sender_id: str) -> None:
        """No token may open this conversation id again (its conversation was forgotten)."""
        key = received_key(sender_id, "retired")
        if not self._holds(self.retired, key):
            with self.session_scope() as session:
                session.execute(sa.insert(self.retired), [{"key": key, "at": time.time()}])
                session.commit()

    def is_retired(self, sender_id: str) -> bool:
        return self._holds(self.retired, received_key(sender_id, "retired"))

    def forget(self, sender_id: str, received: Iterable[str] = ()) -> int:
        """Delete every event of one conversation, recording `received` (the message ids of
        the turn that asked) in the same transaction; the number of events deleted."""
        with self.session_scope() as session:
            self._mark_received(session, sender_id, list(received), again_ok=True)
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("Conversation %s forgotten (%d events deleted).", sender_id, deleted)
        return int(deleted)

    def purge(self, older_than_days: float, now: float | None = None) -> int:
        """Delete every event older than `older_than_days`, in every conversation, and the
        received-message records as old; the number of events deleted. One DELETE each, by
        time only: a turn committed meanwhile is newer than the cutoff and stays."""
        cutoff = (now or time.time()) - older_than_days * 86400
        with self.session_scope() as session:
            events = sa.delete(self.SQLEvent.__table__).where(self.SQLEvent.__table__.c.timestamp < cutoff)
            deleted = session.execute(events).rowcount
            session.execute(sa.delete(self.received).where(self.received.c.at < cutoff))
            session.execute(sa.delete(self.retired).where(self.retired.c.at < cutoff))
            session.commit()
        return int(deleted)

    @classmethod
    def from_endpoint_config(cls, config: Any) -> PatientTrackerStore:
        """The store endpoints.yml configures (for scripts that run without the Rasa server)."""
        kwargs = {k: v for k, v in (config.kwargs or {}).items() if k != "type"}
        return cls(domain=None, host=config.url, **kwargs)  # as Rasa loads it: `url` is the host
