"""Real patient text: messages that patients and caregivers posted on public pages, verbatim, each
with the address it came from (corpus/real/). The only text that measures understanding; text we
wrote ourselves is kept apart and reported as written (../shared/guide/real-text.md).

Rows are split by page group (`page_group`: a site's pages stay together, so a blog's tag page
and its post, or a thread's pages, never land in two splits), and each group's split is recorded
in corpus/real/pages.yml when its first row arrives, before any model sees it (`assign_split`).
Models train on `train`, thresholds and patterns are chosen on `dev`, and `test` is only reported.

corpus/written/ holds what we wrote. Its safety sets (`written_safety_sets`) say by their folder
what they are: corpus/written/safety/blind/ were written without seeing the detector and are
never trained or tuned on; corpus/written/safety/tuned/ are training data for the urgency
classifier and tuning sets for the patterns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Dict, List, Tuple
from urllib.parse import urlsplit

import yaml

from assistant import paths

SPLITS = ("train", "dev", "test")
# A new page group's split, from a hash of its key: about 35 % test, 20 % dev, 45 % train.
SPLIT_BOUNDS = (("test", 0.35), ("dev", 0.55), ("train", 1.0))
OUT_OF_SCOPE = "out_of_scope"
LEVELS = ("emergency", "same_day", "not_urgent")
WRITTEN_SAFETY = paths.WRITTEN_TEXT / "safety"
LOOKALIKE_KINDS = ("resolved", "hypothetical", "expected", "worry", "before_op", "question", "other")
# Hosts where many unrelated people write (forums, Q&A sites): there a page group is one thread;
# elsewhere (blogs, clinics' sites) it is the whole site.
_THREAD_PATH = re.compile(
    r"^(/(?:[^/]+/){0,2}?(?:t|topic|thread|threads|discussion|discussions|questions|post|posts|comments)/[^/]+)"
)

# A thread's later pages: ".../p2", ".../page/3", ".../page-4", "topic,63991.25.html".
_PAGE_SUFFIX = re.compile(r"(/(p|page)[/-]?\d+|\.\d+)?(\.html?)?$")


@dataclass(frozen=True)
class Question:
    text: str
    url: str
    answer: str  # the answer key a careful reader would give, or OUT_OF_SCOPE
    sections: Tuple[str, ...]  # acceptable sections, the main one first; () when out of scope


@dataclass(frozen=True)
class Symptom:
    text: str
    url: str
    level: str  # one of LEVELS
    why: str
    lookalike: str | None = None  # for not_urgent: which kind of look-alike


def host(url: str) -> str:
    name = urlsplit(url).netloc.lower()
    return name[4:] if name.startswith("www.") else name


def page_group(url: str) -> str:
    """The group a page belongs to for splitting: its site, or its thread on a forum."""
    parts = urlsplit(url)
    site = host(url)
    if site in _forum_hosts():
        match = _THREAD_PATH.match(parts.path)
        thread = match.group(1) if match else _PAGE_SUFFIX.sub("", parts.path.rstrip("/"), count=1)
        return site + thread
    return site


def assign_split(group: str) -> str:
    """The split a new page group gets: fixed by its key, so it never depends on model output."""
    share = int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return next(split for split, bound in SPLIT_BOUNDS if share < bound)


@cache
def _pages() -> Dict[str, Any]:
    return yaml.safe_load(paths.REAL_PAGES.read_text(encoding="utf-8"))


def _forum_hosts() -> frozenset:
    return frozenset(_pages().get("forum_hosts") or ())


def page_splits() -> Dict[str, str]:
    """Page group -> split, as recorded."""
    return dict(_pages()["groups"] or {})


def split_of(url: str) -> str:
    return page_splits()[page_group(url)]


@cache
def questions() -> Tuple[Question, ...]:
    rows = yaml.safe_load(paths.REAL_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    return tuple(
        Question(str(r["text"]), str(r["url"]), str(r["answer"]), tuple(r.get("sections") or ()))
        for r in rows
    )


@cache
def symptoms() -> Tuple[Symptom, ...]:
    rows = yaml.safe_load(paths.REAL_SYMPTOMS.read_text(encoding="utf-8"))["symptoms"]
    return tuple(
        Symptom(str(r["text"]), str(r["url"]), str(r["level"]), str(r.get("why") or ""), r.get("lookalike"))
        for r in rows
    )


def questions_in(split: str) -> List[Question]:
    return [q for q in questions() if split_of(q.url) == split]


def symptoms_in(split: str) -> List[Symptom]:
    return [s for s in symptoms() if split_of(s.url) == split]


@dataclass(frozen=True)
class WrittenSafetySet:
    """Messages we wrote, labelled `emergency`, `same_day` or `not_urgent` (corpus/written/)."""

    name: str
    emergency: Tuple[str, ...]
    same_day: Tuple[str, ...]
    not_urgent: Tuple[str, ...]
    blind: bool  # written without seeing the detector, never tuned on (corpus/written/safety/blind/)

    @property
    def urgent(self) -> Tuple[str, ...]:
        return self.emergency + self.same_day

    def labelled(self) -> List[Tuple[str, str]]:
        """(text, level) of every message."""
        return [(t, level) for level in LEVELS for t in getattr(self, level)]


def written_safety_set_files() -> List[Path]:
    """corpus/written/safety/tuned/*.yml (we tune on them), then .../blind/*.yml (we never do)."""
    return [path for folder in ("tuned", "blind") for path in sorted((WRITTEN_SAFETY / folder).glob("*.yml"))]


def written_safety_sets() -> List[WrittenSafetySet]:
    sets = []
    for path in written_safety_set_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        emergency, same_day, not_urgent = (tuple(data.get(level) or ()) for level in LEVELS)
        name = f"{path.parent.name}/{path.stem}"
        sets.append(
            WrittenSafetySet(name, emergency, same_day, not_urgent, blind=path.parent.name == "blind")
        )
    return sets
