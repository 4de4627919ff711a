"""Measuring a detector on labelled sets: our written safety sets (corpus/written/, loaded by
assistant/corpus.py) or real text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

from assistant.corpus import WrittenSafetySet

LEVELS = ("emergency", "same_day")


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


def measure(name: str, sets: Sequence[WrittenSafetySet], level_of: Callable[[str], str | None]) -> Outcome:
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
