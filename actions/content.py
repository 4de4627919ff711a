"""The curated content's metadata: answer keys, their titles and source sections, the topic menu.

Loaded once from data/answer_sources.yml (the single source of truth for titles and sections).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ANSWER_SOURCES_FILE = PROJECT_ROOT / "data" / "answer_sources.yml"
ENTITY_PATTERNS_FILE = PROJECT_ROOT / "spacy_pipeline" / "entity_patterns.jsonl"


@dataclass(frozen=True)
class Answer:
    key: str
    title: str
    sections: Tuple[str, ...]
    # Answers that tell patients to watch for problems also say when and how to get help.
    when_to_get_help: bool = False

    @property
    def response_name(self) -> str:
        return f"utter_{self.key}"


@dataclass(frozen=True)
class Topic:
    section: str
    label: str
    answer_key: str


def _load(path: Path = ANSWER_SOURCES_FILE) -> Tuple[Dict[str, str], Dict[str, Answer], List[Topic]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    answers = {
        key: Answer(key=key, title=entry["title"], sections=tuple(entry["sections"]),
                    when_to_get_help=bool(entry.get("when_to_get_help")))
        for key, entry in raw["answers"].items()
    }
    topics = [Topic(t["section"], t["label"], t["answer"]) for t in raw["topics"]]
    return raw["sections"], answers, topics


SECTIONS, ANSWERS, TOPICS = _load()


def _condition_answers(path: Path = ENTITY_PATTERNS_FILE) -> Dict[str, str]:
    """Condition phrase found by our entity ruler -> the answer about that condition."""
    patterns = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {p["pattern"].lower(): f"treats_{p['id']}" for p in patterns
            if p["label"] == "condition" and f"treats_{p['id']}" in ANSWERS}


CONDITION_ANSWERS = _condition_answers()
