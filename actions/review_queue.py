"""The curator review queue: every fallback, clarification and out-of-scope turn is recorded
(question text redacted, timestamp, what the bot did) in a SQLite table beside the tracker
store, for `make review`. Nothing is learned from it automatically."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from assistant import paths
from assistant.replies import Kind

REVIEWED_KINDS = {Kind.FALLBACK, Kind.CLARIFY, Kind.OUT_OF_SCOPE}


def review_db() -> Path:
    """Where the queue is kept: REVIEW_DB, or var/review_queue.db beside the tracker store."""
    return Path(os.environ.get("REVIEW_DB") or paths.VAR / "review_queue.db")


_REDACTIONS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
    (re.compile(r"\b(?:my name is|i am|i'm|im|this is)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"), "[name]"),
    (re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof)\.?\s+[A-Z][a-z]+"), "[name]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def record(question: str | None, kind: Kind, intent: str | None, db: Path | None = None) -> None:
    if kind not in REVIEWED_KINDS:
        return
    db = db or review_db()
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS review_queue ("
            " recorded_at TEXT NOT NULL, question TEXT NOT NULL, bot_did TEXT NOT NULL,"
            " nlu_guess TEXT)"
        )
        connection.execute(
            "INSERT INTO review_queue VALUES (?, ?, ?, ?)",
            (
                datetime.now(timezone.utc).isoformat(timespec="seconds"),
                redact((question or "")[:500]),
                Kind(kind).value,
                intent,
            ),
        )
