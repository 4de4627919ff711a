"""The review queue's redaction (stores/redaction.py) on tests/data/redaction_sentences.yml: 87
sentences we wrote as patients might (issue 19 item 7 asks for at least 80): no phone, email,
id, date, postcode or address survives, at least 95% of the names do not, and what a curator
needs (spine levels, "in pain", durations) stays."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from stores.redaction import redact
from tests.helpers import PROJECT_ROOT

SENTENCES = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "redaction_sentences.yml").read_text("utf-8"))


def leaked(item: dict) -> list:
    out = redact(item["text"]).lower()
    return [p for p in item.get("pii", []) if str(p["value"]).lower() in out]


def test_the_set_is_large_and_varied_enough():
    assert len(SENTENCES) >= 80
    kinds = Counter(p["type"] for s in SENTENCES for p in s.get("pii", []))
    assert set(kinds) == {"name", "phone", "email", "id", "date", "postcode", "address"}


@pytest.mark.parametrize("kind", ["phone", "email", "id", "date", "postcode", "address"])
def test_nothing_of_this_kind_survives(kind):
    leaks = [(s["text"], redact(s["text"])) for s in SENTENCES for p in leaked(s) if p["type"] == kind]
    assert not leaks, leaks


def test_at_least_95_percent_of_names_are_taken_out():
    names = [(s, p) for s in SENTENCES for p in s.get("pii", []) if p["type"] == "name"]
    missed = [(s["text"], redact(s["text"])) for s in SENTENCES for p in leaked(s) if p["type"] == "name"]
    share = 1 - len(missed) / len(names)
    print(f"\nnames taken out: {share:.3f} of {len(names)}; missed: {missed}")
    assert share >= 0.95, missed


def test_what_a_curator_needs_stays():
    lost = [
        (s["text"], redact(s["text"]))
        for s in SENTENCES
        for k in s.get("keep", [])
        if k not in redact(s["text"])
    ]
    assert not lost, lost


def test_the_blind_set_written_after_the_redaction_was_built():
    """tests/data/redaction_sentences_blind.yml (25 sentences) was written once the redaction was
    done and run once: on 2026-12-08, 0 leaks and nothing lost. Kept as a check, reported apart."""
    blind = yaml.safe_load(
        (PROJECT_ROOT / "tests" / "data" / "redaction_sentences_blind.yml").read_text("utf-8")
    )
    leaks = [(s["text"], redact(s["text"])) for s in blind if leaked(s)]
    lost = [s["text"] for s in blind for k in s.get("keep", []) if k not in redact(s["text"])]
    print(f"\nblind set: {len(blind)} sentences, {len(leaks)} with a leak, {len(lost)} lost text")
    assert not leaks and not lost, (leaks, lost)
