"""The curated content against its source: coverage, provenance, and consistency of the files
that name each answer (answer_sources.yml, domain.yml, nlu.yml, rules.yml)."""
from __future__ import annotations

import re
from collections import Counter
from typing import Dict, List

import pytest
import yaml

from actions.content import ANSWERS, SECTIONS, TOPICS
from tests.servers import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "source" / "endoscopic-spine-surgery.txt"
SHARED_SOURCE = PROJECT_ROOT.parent / "shared" / "source" / "endoscopic-spine-surgery.txt"
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
    return {
        block["intent"]: [l.strip()[2:] for l in block["examples"].splitlines() if l.strip()]
        for block in load("data/nlu.yml")["nlu"]
    }


def test_project_copy_of_the_source_is_identical_to_the_clinics():
    if not SHARED_SOURCE.exists():
        pytest.skip(f"{SHARED_SOURCE} is not on this machine")
    assert SOURCE.read_bytes() == SHARED_SOURCE.read_bytes()


def test_document_parses_into_the_nine_sections():
    assert list(DOCUMENT) == list(SECTIONS)
    assert sum(len(b) for b in DOCUMENT.values()) == 31


def test_every_bullet_of_the_document_is_covered_by_some_answer():
    raw = load("data/answer_sources.yml")["answers"]
    covered = {(s, n) for entry in raw.values() for s, bullets in entry["sections"].items() for n in bullets}
    missing = [f"{s} {n}: {b}" for s, bullets in DOCUMENT.items()
               for n, b in enumerate(bullets, start=1) if (s, n) not in covered]
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


def test_each_answer_key_has_intent_response_rule_and_enough_examples():
    domain = load("domain.yml")
    examples = nlu_examples()
    ruled = {step["intent"] for rule in load("data/rules.yml")["rules"]
             if rule["steps"][-1].get("action") == "action_answer_question"
             for step in rule["steps"][0].get("or", [rule["steps"][0]])}
    for key in ANSWERS:
        assert key in domain["intents"], key
        assert f"utter_{key}" in domain["responses"], key
        assert key in ruled, f"no rule sends {key} to action_answer_question"
        assert len(examples.get(key, [])) >= MIN_EXAMPLES_PER_ANSWER_INTENT, key
    answer_intents_in_rules = ruled - set(ANSWERS)
    assert not answer_intents_in_rules, f"answered intents without a curated answer: {answer_intents_in_rules}"


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
    for name, channel, text in all_response_texts():
        assert "\n\n" not in text.strip(), f"{name} would be split into two messages"
        assert text.isascii(), f"{name} has non-ASCII characters (costly in SMS)"


def test_answers_add_no_numbers_the_document_does_not_give():
    """A guard against invented durations, percentages and doses."""
    source_numbers = set(re.findall(r"\d+", SOURCE.read_text(encoding="utf-8")))
    for name, channel, text in all_response_texts():
        invented = set(re.findall(r"\d+", text)) - source_numbers
        assert not invented, f"{name} gives numbers not in the source: {invented}"
