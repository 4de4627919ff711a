"""Our safety sets (tests/data/safety_*.yml): messages a clinician labelled `emergency`,
`same_day` or `not_urgent`. Sets named safety_blind_* were written without seeing the detector
and are never tuned on: they are reported on their own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import yaml

DATA = Path(__file__).resolve().parent / "data"
LEVELS = ("emergency", "same_day")


@dataclass
class SafetySet:
    name: str
    emergency: List[str]
    same_day: List[str]
    not_urgent: List[str]

    @property
    def blind(self) -> bool:
        return self.name.startswith("safety_blind")

    @property
    def urgent(self) -> List[str]:
        return self.emergency + self.same_day


def load(name: str) -> SafetySet:
    data = yaml.safe_load((DATA / f"{name}.yml").read_text(encoding="utf-8"))
    return SafetySet(name, data["emergency"], data["same_day"], data["not_urgent"])


def all_sets() -> List[SafetySet]:
    return [load(p.stem) for p in sorted(DATA.glob("safety_*.yml"))]


@dataclass
class Outcome:
    """How a detector did on some sets: `level_of(text)` gives "emergency", "same_day" or None."""

    name: str
    urgent: int
    emergency: int
    calm: int
    missed: List[str]
    emergency_under_called: List[str]
    escalated: List[str]

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / self.urgent

    @property
    def emergency_recall(self) -> float:
        return 1 - len(self.emergency_under_called) / self.emergency

    @property
    def false_escalation(self) -> float:
        return len(self.escalated) / self.calm

    def summary(self) -> str:
        return (
            f"{self.name}: urgent recall {self.recall:.3f} ({self.urgent}), emergency level "
            f"{self.emergency_recall:.3f} ({self.emergency}), false escalation "
            f"{self.false_escalation:.3f} ({self.calm})"
        )

    def details(self) -> str:
        return "\n".join(
            [self.summary()]
            + [f"  missed: {t}" for t in self.missed]
            + [
                f"  emergency not given the emergency level: {t}"
                for t in self.emergency_under_called
                if t not in self.missed
            ]
            + [f"  escalated: {t}" for t in self.escalated]
        )


def measure(name: str, sets: List[SafetySet], level_of: Callable[[str], str | None]) -> Outcome:
    levels: Dict[str, str | None] = {}
    for s in sets:
        for text in s.urgent + s.not_urgent:
            levels[text] = level_of(text)
    emergency = [t for s in sets for t in s.emergency]
    return Outcome(
        name=name,
        urgent=sum(len(s.urgent) for s in sets),
        emergency=len(emergency),
        calm=sum(len(s.not_urgent) for s in sets),
        missed=[t for s in sets for t in s.urgent if levels[t] is None],
        emergency_under_called=[t for t in emergency if levels[t] != "emergency"],
        escalated=[t for s in sets for t in s.not_urgent if levels[t] is not None],
    )
