"""The curator review queue: every fallback, clarification and out-of-scope turn is recorded
(question text redacted, timestamp, what the bot did) in a SQLite table beside the tracker
store, for `make review`. Nothing is learned from it automatically."""
from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Text

from actions.content import PROJECT_ROOT

REVIEW_DB = Path(os.environ.get("REVIEW_DB", PROJECT_ROOT / "var" / "review_queue.db"))
REVIEWED_KINDS = {"fallback", "clarify", "out_of_scope"}

_REDACTIONS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
    (re.compile(r"\b(?:my name is|i am|i'm|im|this is)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"), "[name]"),
    (re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof)\.?\s+[A-Z][a-z]+"), "[name]"),
]


def redact(text: Text) -> Text:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def record(question: Optional[Text], kind: Text, intent: Optional[Text], db: Path = REVIEW_DB) -> None:
    if kind not in REVIEWED_KINDS:
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS review_queue ("
            " recorded_at TEXT NOT NULL, question TEXT NOT NULL, bot_did TEXT NOT NULL,"
            " nlu_guess TEXT)"
        )
        connection.execute(
            "INSERT INTO review_queue VALUES (?, ?, ?, ?)",
            (datetime.now(timezone.utc).isoformat(timespec="seconds"),
             redact((question or "")[:500]), kind, intent),
        )
