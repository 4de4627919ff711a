"""The curator review queue (stores/review_queue.py): what it redacts, that it can forget and
purge, and that a failure to write it never reaches the patient."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.replies import Kind
from stores import review_queue
from stores.review_queue import redact  # stores/redaction.py, as the queue applies it


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me on 07700 900123", "call me on [phone]"),
        ("mail jo@example.com please", "mail [email] please"),
        ("my name is Jane Smith and", "my name is [name] and"),
        ("My name is John Smith and I had surgery", "My name is [name] and I had surgery"),
        ("my name is priya", "my name is [name]"),
        ("I'm Priya, is it safe?", "I'm [name], is it safe?"),
        ("This is Tom", "This is [name]"),
        ("Dr Patel said so", "Dr [name] said so"),
        ("dr patel said it's fine", "dr [name] said it's fine"),
        ("Dr McDonald told me", "Dr [name] told me"),
        ("Mrs O'Neill called", "Mrs [name] called"),
        ("born 03/04/1961", "born [date]"),
        ("born 3rd April 1961", "born [date]"),
        ("on April 3, 1961 I", "on [date] I"),
        ("I live in SW1A 1AA", "I live in [postcode]"),
        ("my NHS number is 943 476 5919", "my NHS number is [phone]"),
        ("MRN 12345678", "MRN [number]"),
    ],
)
def test_what_could_identify_a_patient_is_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["my doctor said I need it", "ask the nurse about it", "is it safe for me?", "can I walk on day 2?"],
)
def test_ordinary_questions_stay_readable(text):
    assert redact(text) == text


def rows(db: Path) -> list:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT question, bot_did, conversation FROM review_queue").fetchall()


def test_only_unanswered_turns_are_queued_and_a_conversation_can_be_forgotten(tmp_path):
    db = tmp_path / "queue.db"
    review_queue.record("parking at the hospital?", Kind.OUT_OF_SCOPE, "out_of_scope", "web-a", db)
    review_queue.record("what are the risks?", Kind.ANSWER, "risks_overview", "web-a", db)
    review_queue.record("banana", Kind.FALLBACK, "nlu_fallback", "web-b", db)
    assert [r[:2] for r in rows(db)] == [
        ("parking at the hospital?", "out_of_scope"),
        ("banana", "fallback"),
    ]
    assert all("web-" not in r[2] for r in rows(db))  # a hash, not the conversation id
    assert review_queue.forget("web-a", db) == 1
    assert [r[0] for r in rows(db)] == ["banana"]


def test_purge_deletes_only_old_rows(tmp_path):
    db = tmp_path / "queue.db"
    review_queue.record("banana", Kind.FALLBACK, None, "web-b", db)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO review_queue VALUES ('2020-01-01T00:00:00+00:00', 'old', 'fallback', NULL, 'x')"
        )
    assert review_queue.purge(30, db) == 1
    assert [r[0] for r in rows(db)] == ["banana"]


@pytest.mark.parametrize("problem", ["a directory in the way", "not a database", "locked", "surrogate"])
def test_a_failed_write_never_raises(tmp_path, problem, caplog):
    db = tmp_path / "queue.db"
    text = "why? \ud800 my name is Jane" if problem == "surrogate" else "why? my name is Jane"
    if problem == "a directory in the way":  # (a read-only disk cannot be made as root)
        db.mkdir()
    elif problem == "not a database":
        db.write_bytes(b"this is not sqlite" * 100)
    elif problem == "locked":
        holder = sqlite3.connect(db)
        holder.execute(review_queue.SCHEMA)
        holder.execute("BEGIN EXCLUSIVE")
    review_queue.record(text, Kind.FALLBACK, None, "web-c", db)  # must not raise
    assert "Jane" not in caplog.text and "why" not in caplog.text  # logged without text
    if problem == "surrogate":
        assert rows(db) and "\ud800" not in rows(db)[0][0]
    else:
        assert "Review queue not written" in caplog.text
