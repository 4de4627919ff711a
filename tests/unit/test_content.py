"""The curated content against its source: coverage, provenance, and consistency of the files
that name each answer (answer_sources.yml, domain.yml, nlu.yml, rules.yml)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Dict, List

import yaml

from assistant import content
from tests.helpers import PROJECT_ROOT

ANSWERS, SECTIONS, TOPICS = content.answers(), content.sections(), content.topics()

SOURCE = PROJECT_ROOT / "source" / "endoscopic-spine-surgery.txt"
# The clinic's document as every answer was reviewed against (sha256 of the clinic's original):
# a changed document fails here, so the answers are re-checked against it before anything ships.
REVIEWED_SOURCE_SHA256 = "591973e4b8a0127aa84b955383340ecfb96879ac0ae04f2bb8c5f4855ad0c4a3"
MIN_EXAMPLES_PER_ANSWER_INTENT = 20


def parse_document(text: str) -> Dict[str, List[str]]:
    """Section id -> its bullets, in document order. The opening paragraph is `what_is`."""
    ids = list(SECTIONS)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    sections: Dict[str, List[str]] = {ids[0]: []}
    current = ids[0]
    for line in lines[1:]:
        heading = re.match(r"^(\d+)\.\s", line)
        if heading:
            current = ids[int(heading.group(1))]
            sections[current] = []
        elif line.startswith("·"):
            sections[current].append(line.lstrip("· ").strip())
    return sections


DOCUMENT = parse_document(SOURCE.read_text(encoding="utf-8"))


def load(path: str):
    return yaml.safe_load((PROJECT_ROOT / path).read_text(encoding="utf-8"))


def nlu_examples() -> Dict[str, List[str]]:
    return content.examples_by_intent()


def test_the_source_is_the_document_the_answers_were_reviewed_against():
    assert hashlib.sha256(SOURCE.read_bytes()).hexdigest() == REVIEWED_SOURCE_SHA256, (
        "source/ changed: re-check every answer against it (tests/unit/test_content.py), then update the hash"
    )


def test_document_parses_into_the_nine_sections():
    assert list(DOCUMENT) == list(SECTIONS)
    assert sum(len(b) for b in DOCUMENT.values()) == 31


def test_every_bullet_of_the_document_is_covered_by_some_answer():
    raw = load("data/answer_sources.yml")["answers"]
    covered = {(s, n) for entry in raw.values() for s, bullets in entry["sections"].items() for n in bullets}
    missing = [
        f"{s} {n}: {b}"
        for s, bullets in DOCUMENT.items()
        for n, b in enumerate(bullets, start=1)
        if (s, n) not in covered
    ]
    assert not missing, "bullets no answer restates:\n" + "\n".join(missing)


def test_every_answer_names_existing_sections_and_bullets():
    raw = load("data/answer_sources.yml")["answers"]
    for key, entry in raw.items():
        assert entry["sections"], f"{key} names no section"
        for section, bullets in entry["sections"].items():
            assert section in DOCUMENT, f"{key}: unknown section {section}"
            for n in bullets:
                assert 1 <= n <= len(DOCUMENT[section]), f"{key}: {section} has no bullet {n}"


def test_answer_count_is_fine_grained():
    assert 35 <= len(ANSWERS) <= 50


def answered_intents():
    return {
        step["intent"]
        for rule in load("data/rules.yml")["rules"]
        if rule["steps"][-1].get("action") == "action_answer_question"
        for step in rule["steps"][0].get("or", [rule["steps"][0]])
    }


def test_every_answer_is_in_every_place_the_recipe_names():
    """README, "Add an answer": each step, checked, with the file to edit when one was missed."""
    domain = load("domain.yml")
    examples = nlu_examples()
    ruled = answered_intents()
    missing = []
    for key in ANSWERS:
        if key not in domain["intents"]:
            missing.append(f"domain.yml: add `- {key}` under intents")
        variations = domain["responses"].get(f"utter_{key}", [])
        if not [v for v in variations if not v.get("channel")]:
            missing.append(f"domain.yml: add the response utter_{key} (the answer text)")
        if not [v for v in variations if v.get("channel") == "twilio"]:
            missing.append(f"domain.yml: add a `channel: twilio` variation of utter_{key} (the SMS text)")
        if key not in ruled:
            missing.append(
                f"data/rules.yml: add `- intent: {key}` to the rule ending in action_answer_question"
            )
        if len(examples.get(key, [])) < MIN_EXAMPLES_PER_ANSWER_INTENT:
            missing.append(
                f"data/nlu.yml: give {key} at least {MIN_EXAMPLES_PER_ANSWER_INTENT} examples "
                f"(it has {len(examples.get(key, []))})"
            )
    for intent in sorted(ruled - set(ANSWERS)):
        missing.append(f"data/answer_sources.yml: {intent} is answered by a rule but has no entry")
    assert not missing, "An answer is missing from some places:\n  " + "\n  ".join(missing)


def test_topics_point_to_answers():
    assert {t.section for t in TOPICS} == set(SECTIONS)
    assert all(t.answer_key in ANSWERS for t in TOPICS)


def test_training_examples_are_unique():
    counts = Counter(e.lower() for block in nlu_examples().values() for e in block)
    assert [e for e, n in counts.items() if n > 1] == []


def all_response_texts():
    for name, variations in load("domain.yml")["responses"].items():
        for variation in variations:
            yield name, variation.get("channel"), variation["text"]


def test_responses_keep_to_one_message_and_plain_text():
    for name, _channel, text in all_response_texts():
        assert "\n\n" not in text.strip(), f"{name} would be split into two messages"
        assert text.isascii(), f"{name} has non-ASCII characters (costly in SMS)"


def test_answers_add_no_numbers_the_document_does_not_give():
    """A guard against invented durations, percentages and doses."""
    source_numbers = set(re.findall(r"\d+", SOURCE.read_text(encoding="utf-8")))
    for name, _channel, text in all_response_texts():
        invented = set(re.findall(r"\d+", text)) - source_numbers
        assert not invented, f"{name} gives numbers not in the source: {invented}"
