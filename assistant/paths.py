"""Where the project's files are (paths only: nothing is read here)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
ANSWER_SOURCES = PROJECT_ROOT / "data" / "answer_sources.yml"
TRAINING_DATA = PROJECT_ROOT / "data" / "nlu.yml"
ENTITY_PATTERNS = PROJECT_ROOT / "spacy_pipeline" / "entity_patterns.jsonl"
# What the running assistant writes (conversations, logs, secrets): private to its user.
VAR = Path(os.environ.get("ASSISTANT_VAR") or PROJECT_ROOT / "var")
# Real patient text, verbatim from public pages, with each page group's split (assistant/corpus.py).
REAL_TEXT = PROJECT_ROOT / "corpus" / "real"
REAL_PAGES = REAL_TEXT / "pages.yml"
REAL_QUESTIONS = REAL_TEXT / "questions.yml"
REAL_SYMPTOMS = REAL_TEXT / "symptoms.yml"
# Labelled text we wrote ourselves: training additions and held-out sets, always reported as written.
WRITTEN_TEXT = PROJECT_ROOT / "corpus" / "written"
