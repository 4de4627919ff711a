"""The curated content's metadata, read from data/ the first time it is asked for.

data/answer_sources.yml is the one home of each answer's question title, the document sections
it draws on, whether it says when to get help, and the topic menu; the answer texts themselves
are responses `utter_<answer key>` in domain.yml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from assistant import paths


@dataclass(frozen=True)
class Answer:
    key: str  # also the intent that asks for it
    title: str  # how a patient would ask it: "did you mean" choices, related questions
    sections: Tuple[str, ...]  # the document sections it restates, the main one first
    when_to_get_help: bool = False  # followed by utter_when_to_get_help

    @property
    def response_name(self) -> str:
        return f"utter_{self.key}"


@dataclass(frozen=True)
class Topic:
    section: str
    label: str
    answer_key: str  # the answer a topic choice gives


@cache
def _answer_sources() -> Dict:
    return yaml.safe_load(paths.ANSWER_SOURCES.read_text(encoding="utf-8"))


def sections() -> Dict[str, str]:
    """Section id -> its heading in the document, in document order."""
    return dict(_answer_sources()["sections"])


@cache
def answers() -> Dict[str, Answer]:
    return {
        key: Answer(
            key=key,
            title=entry["title"],
            sections=tuple(entry["sections"]),
            when_to_get_help=bool(entry.get("when_to_get_help")),
        )
        for key, entry in _answer_sources()["answers"].items()
    }


@cache
def topics() -> Tuple[Topic, ...]:
    return tuple(Topic(t["section"], t["label"], t["answer"]) for t in _answer_sources()["topics"])


def overview_of(key: str) -> str:
    """The overview answer of the section an answer belongs to (its topic's answer)."""
    section = answers()[key].sections[0]
    return next(t.answer_key for t in topics() if t.section == section)


def related_answers(key: str) -> List[str]:
    """Other answers about the same part of the document, the overview first."""
    section = answers()[key].sections[0]
    return [k for k, a in answers().items() if k != key and a.sections[0] == section]


@cache
def condition_answers() -> Dict[str, str]:
    """Condition phrase found by our entity ruler -> the answer about that condition."""
    lines = paths.ENTITY_PATTERNS.read_text(encoding="utf-8").splitlines()
    patterns = [json.loads(line) for line in lines if line.strip()]
    return {
        p["pattern"].lower(): f"treats_{p['id']}"
        for p in patterns
        if p["label"] == "condition" and f"treats_{p['id']}" in answers()
    }


def nlu_examples(path: Path = paths.TRAINING_DATA) -> List[Tuple[str, str]]:
    """(intent, text) of every example in a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (block["intent"], line.strip()[2:])
        for block in data["nlu"]
        for line in block["examples"].splitlines()
        if line.strip()
    ]


def examples_by_intent(path: Path = paths.TRAINING_DATA) -> Dict[str, List[str]]:
    by_intent: Dict[str, List[str]] = {}
    for intent, text in nlu_examples(path):
        by_intent.setdefault(intent, []).append(text)
    return by_intent
