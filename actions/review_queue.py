"""The curator review queue: every fallback, clarification and out-of-scope turn is recorded
(question text redacted, timestamp, what the bot did, a hash of the conversation id so that a
patient's rows can be forgotten) in a SQLite table beside the tracker store, for `make review`.
Nothing is learned from it automatically. A failure here is logged (without text) and never
changes what the patient is told."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from assistant import paths
from assistant.replies import Kind

logger = logging.getLogger(__name__)

REVIEWED_KINDS = {Kind.FALLBACK, Kind.CLARIFY, Kind.OUT_OF_SCOPE}
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS review_queue ("
    " recorded_at TEXT NOT NULL, question TEXT NOT NULL, bot_did TEXT NOT NULL,"
    " nlu_guess TEXT, conversation TEXT)"
)


def review_db() -> Path:
    """Where the queue is kept: REVIEW_DB, or var/review_queue.db beside the tracker store."""
    return Path(os.environ.get("REVIEW_DB") or paths.VAR / "review_queue.db")


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NAME = r"[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?"
_NOT_NAMES = (
    r"(?:said|says|told|tells|asked|thinks|thought|wants|recommended|suggested|about|and|or|is|was|"
    r"will|would|can|could|should|who|to|at|the|my|if|when|that|visit|appointment|office|in|on|"
    r"for|of|a|an|before|after|with|said)"
)
# What could identify a patient, replaced by what it was (the question stays readable).
_REDACTIONS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    # dates (of birth, of the operation): 03/04/1961, 3 april 1961, april 3rd 1961
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), "[date]"),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b,?(?:\s+\d{{2,4}})?", re.I), "[date]"),
    (re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b,?(?:\s+\d{{2,4}})?", re.I), "[date]"),
    # UK postcodes
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I), "[postcode]"),
    # phone numbers, NHS and hospital numbers: any long run of digits
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
    (re.compile(r"\b\d{5,}\b"), "[number]"),
    # a name the patient gives: "my name is jane smith", "I'm Priya", "this is Tom"
    (re.compile(r"\b(?:my name is|my name's|name is)\s+[a-zA-Z'-]+(?:\s+[a-zA-Z'-]+)?", re.I), "[name]"),
    (re.compile(rf"\b(?:[Ii] am|[Ii]'m|[Ii]m|[Tt]his is|[Ii]t's)\s+{_NAME}"), "[name]"),
    # a title and a surname, however it is written: "dr patel", "Dr McDonald", "Mrs O'Neill"
    # (not "my doctor said", "the nurse about": a common word after the title is not a name)
    (
        re.compile(
            rf"\b(?:dr|doctor|mr|mrs|ms|miss|prof|professor|nurse|sister)\.?\s+(?!{_NOT_NAMES}\b)"
            r"[a-zA-Z][a-zA-Z'-]*",
            re.I,
        ),
        "[name]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def conversation_key(sender_id: str) -> str:
    """How a queue row names its conversation: a hash, not the id."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32]


def _connect(db: Path) -> sqlite3.Connection:
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    connection = sqlite3.connect(db, timeout=5)
    connection.execute(SCHEMA)
    columns = {row[1] for row in connection.execute("PRAGMA table_info(review_queue)")}
    if "conversation" not in columns:  # a queue written before rows could be forgotten
        connection.execute("ALTER TABLE review_queue ADD COLUMN conversation TEXT")
    return connection


def record(
    question: str | None, kind: Kind, intent: str | None, sender_id: str = "", db: Path | None = None
) -> None:
    """Queue an unanswered turn; never raises (the patient's reply does not depend on it)."""
    if kind not in REVIEWED_KINDS:
        return
    try:
        text = redact((question or "")[:500]).encode("utf-8", "replace").decode("utf-8")
        with _connect(db or review_db()) as connection:
            connection.execute(
                "INSERT INTO review_queue VALUES (?, ?, ?, ?, ?)",
                (
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    text,
                    Kind(kind).value,
                    intent,
                    conversation_key(sender_id),
                ),
            )
    except Exception as error:
        logger.error("Review queue not written: %s", type(error).__name__)


def forget(sender_id: str, db: Path | None = None) -> int:
    """Delete one conversation's rows; the number deleted."""
    path = db or review_db()
    if not path.exists():
        return 0
    with _connect(path) as connection:
        return connection.execute(
            "DELETE FROM review_queue WHERE conversation = ?", (conversation_key(sender_id),)
        ).rowcount


def purge(older_than_days: float, db: Path | None = None) -> int:
    """Delete the rows recorded more than `older_than_days` ago; the number deleted."""
    path = db or review_db()
    if not path.exists():
        return 0
    cutoff = datetime.now(timezone.utc).timestamp() - older_than_days * 86400
    cutoff_text = datetime.fromtimestamp(cutoff, timezone.utc).isoformat(timespec="seconds")
    with _connect(path) as connection:
        return connection.execute("DELETE FROM review_queue WHERE recorded_at < ?", (cutoff_text,)).rowcount
