"""The curator review queue: every fallback, clarification and out-of-scope turn is recorded
(question text redacted by stores/redaction.py, timestamp, what the bot did, a hash of the
conversation id so that a patient's rows can be forgotten) for `make review`. Nothing is
learned from it automatically. A failure here is logged (without text) and never changes what
the patient is told.

Where: REVIEW_DB_URL (any SQLAlchemy URL), else in the production profile the tracker store's
PostgreSQL database (shared by every server), else the SQLite file REVIEW_DB, else
var/review_queue.db."""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Tuple
from urllib.parse import quote

import sqlalchemy as sa

from assistant import paths
from assistant.profile import is_production
from assistant.replies import Kind
from stores.redaction import redact

logger = logging.getLogger(__name__)

REVIEWED_KINDS = {Kind.FALLBACK, Kind.CLARIFY, Kind.OUT_OF_SCOPE}
_METADATA = sa.MetaData()
REVIEW_QUEUE = sa.Table(
    "review_queue",
    _METADATA,
    sa.Column("recorded_at", sa.Text, nullable=False),  # ISO 8601, UTC: sorts as time
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("bot_did", sa.Text, nullable=False),
    sa.Column("nlu_guess", sa.Text),
    sa.Column("conversation", sa.Text, index=True),
)
SCHEMA = (  # the same table, for tests that write to the SQLite file directly
    "CREATE TABLE IF NOT EXISTS review_queue ("
    " recorded_at TEXT NOT NULL, question TEXT NOT NULL, bot_did TEXT NOT NULL,"
    " nlu_guess TEXT, conversation TEXT)"
)


def review_db() -> Path:
    """The SQLite file of the embedded profile: REVIEW_DB, or var/review_queue.db."""
    return Path(os.environ.get("REVIEW_DB") or paths.VAR / "review_queue.db")


def review_db_url(db: Path | str | None = None) -> str:
    """`db` if given; else REVIEW_DB_URL; else, in the production profile, the tracker store's
    PostgreSQL database (DB_*: README, "Production"); else the SQLite file."""
    if isinstance(db, str):
        return db
    env = os.environ
    if db is None and env.get("REVIEW_DB_URL"):
        return env["REVIEW_DB_URL"]
    if db is None and is_production(env):
        user, password = quote(env.get("DB_USER", ""), safe=""), quote(env.get("DB_PASSWORD", ""), safe="")
        return (
            f"postgresql://{user}:{password}@{env.get('DB_HOST')}:{env.get('DB_PORT')}/{env.get('DB_NAME')}"
        )
    return f"sqlite:///{db or review_db()}"


_engines: Dict[str, sa.engine.Engine] = {}


def _engine(url: str, create: bool = True) -> sa.engine.Engine | None:
    """The queue's database, its table created on first use; None if a SQLite file that does
    not exist is only to be read or cleaned."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    address = sa.engine.make_url(url)
    if address.get_backend_name() == "sqlite":
        file = Path(address.database or "")
        if not create and not file.exists():
            return None
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = sa.create_engine(address, connect_args={"timeout": 5})
    else:
        engine = sa.create_engine(address, pool_pre_ping=True, pool_size=2, max_overflow=2)
    _METADATA.create_all(engine)
    if address.get_backend_name() == "sqlite":
        with engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("review_queue")}
            if "conversation" not in columns:  # a queue written before rows could be forgotten
                connection.execute(sa.text("ALTER TABLE review_queue ADD COLUMN conversation TEXT"))
    _engines[url] = engine
    return engine


def conversation_key(sender_id: str) -> str:
    """How a queue row names its conversation: a hash, not the id."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32]


def record(
    question: str | None, kind: Kind, intent: str | None, sender_id: str = "", db: Path | str | None = None
) -> None:
    """Queue an unanswered turn; never raises (the patient's reply does not depend on it)."""
    if kind not in REVIEWED_KINDS:
        return
    try:
        text = redact((question or "")[:500]).encode("utf-8", "replace").decode("utf-8")
        engine = _engine(review_db_url(db))
        assert engine is not None
        with engine.begin() as connection:
            connection.execute(
                REVIEW_QUEUE.insert().values(
                    recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    question=text,
                    bot_did=Kind(kind).value,
                    nlu_guess=intent,
                    conversation=conversation_key(sender_id),
                )
            )
    except Exception as error:
        logger.error("Review queue not written: %s", type(error).__name__)


def forget(sender_id: str, db: Path | str | None = None) -> int:
    """Delete one conversation's rows; the number deleted."""
    engine = _engine(review_db_url(db), create=False)
    if engine is None:
        return 0
    with engine.begin() as connection:
        done = connection.execute(
            REVIEW_QUEUE.delete().where(REVIEW_QUEUE.c.conversation == conversation_key(sender_id))
        )
        return int(done.rowcount)


def purge(older_than_days: float, db: Path | str | None = None) -> int:
    """Delete the rows recorded more than `older_than_days` ago; the number deleted."""
    engine = _engine(review_db_url(db), create=False)
    if engine is None:
        return 0
    cutoff = datetime.now(timezone.utc).timestamp() - older_than_days * 86400
    cutoff_text = datetime.fromtimestamp(cutoff, timezone.utc).isoformat(timespec="seconds")
    with engine.begin() as connection:
        return int(
            connection.execute(REVIEW_QUEUE.delete().where(REVIEW_QUEUE.c.recorded_at < cutoff_text)).rowcount
        )


def rows(db: Path | str | None = None) -> List[Tuple[str, str, str, str | None]]:
    """Every queued turn: recorded_at, question, bot_did, nlu_guess (for `make review`)."""
    engine = _engine(review_db_url(db), create=False)
    if engine is None:
        return []
    columns = [
        REVIEW_QUEUE.c.recorded_at,
        REVIEW_QUEUE.c.question,
        REVIEW_QUEUE.c.bot_did,
        REVIEW_QUEUE.c.nlu_guess,
    ]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*columns))]
