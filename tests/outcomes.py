"""What a patient got, from the assistant's reply (the metadata every reply carries: kind, answer
key, urgency, choices), and the figures over a set: the one definition the end-to-end tests and
the lab scripts share.

Questions: `right` (an answer whose main section is one the row accepts), `wrong` (any other
answer), `one click` (right, or a "did you mean" offering a right answer), and for out-of-scope
questions `deflected` (no curated answer). Symptom messages: `escalated` (urgent guidance at
either level) and `emergency` (the emergency level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

from assistant import content, corpus


@dataclass(frozen=True)
class Reply:
    kind: str
    answer_key: str | None = None
    urgency: str | None = None
    choices: tuple = ()  # answer keys offered as "did you mean"

    @classmethod
    def of(cls, messages: Sequence[Dict[str, Any]]) -> Reply:
        """The turn's reply (our turns send one message) from the REST channel's JSON."""
        message = messages[0] if messages else {}
        metadata = message.get("metadata") or {}
        payloads = [str(b.get("payload", "")).lstrip("/") for b in message.get("buttons") or []]
        return cls(
            kind=str(metadata.get("kind") or "none"),
            answer_key=metadata.get("answer_key"),
            urgency=metadata.get("urgency"),
            choices=tuple(p for p in payloads if p in content.answers()),
        )


def main_section(answer_key: str) -> str:
    return content.answers()[answer_key].sections[0]


def is_right(question: corpus.Question, answer_key: str | None) -> bool:
    return answer_key is not None and main_section(answer_key) in question.sections


@dataclass
class QuestionFigures:
    answerable: int = 0
    right: int = 0
    wrong: int = 0
    one_click: int = 0
    out_of_scope: int = 0
    deflected: int = 0
    misses: List[str] = field(default_factory=list)

    def add(self, question: corpus.Question, reply: Reply) -> None:
        answered = reply.kind == "answer"
        if question.answer == corpus.OUT_OF_SCOPE:
            self.out_of_scope += 1
            self.deflected += not answered
            if answered:
                self.misses.append(f"out of scope, answered {reply.answer_key}: {question.text}")
            return
        self.answerable += 1
        right = answered and is_right(question, reply.answer_key)
        self.right += right
        self.wrong += answered and not right
        self.one_click += right or (
            reply.kind == "clarify" and any(is_right(question, k) for k in reply.choices)
        )
        if not right:
            got = reply.answer_key if answered else reply.kind
            self.misses.append(f"{question.answer} ({'/'.join(question.sections)}) -> {got}: {question.text}")

    def rates(self) -> Dict[str, float]:
        n, m = max(self.answerable, 1), max(self.out_of_scope, 1)
        return {
            "right": self.right / n,
            "wrong": self.wrong / n,
            "one_click": self.one_click / n,
            "out_of_scope_deflected": self.deflected / m,
        }

    def summary(self, name: str) -> str:
        r = self.rates()
        return (
            f"{name}: {self.answerable} questions: right {r['right']:.3f}, wrong {r['wrong']:.3f}, right or "
            f"one click away {r['one_click']:.3f}; {self.out_of_scope} out of scope: deflected "
            f"{r['out_of_scope_deflected']:.3f}"
        )


@dataclass
class SymptomFigures:
    urgent: int = 0
    escalated: int = 0
    emergency: int = 0
    emergency_first: int = 0
    lookalikes: int = 0
    lookalikes_escalated: int = 0
    misses: List[str] = field(default_factory=list)

    def add(self, level: str, text: str, reply: Reply) -> None:
        escalated = reply.kind == "urgent"
        if level == "not_urgent":
            self.lookalikes += 1
            self.lookalikes_escalated += escalated
            if escalated:
                self.misses.append(f"look-alike escalated ({reply.urgency}): {text}")
            return
        self.urgent += 1
        self.escalated += escalated
        if level == "emergency":
            self.emergency += 1
            self.emergency_first += reply.urgency == "emergency"
        if not escalated or (level == "emergency" and reply.urgency != "emergency"):
            self.misses.append(f"{level} -> {reply.urgency or reply.kind}: {text}")

    def rates(self) -> Dict[str, float]:
        return {
            "urgent_escalated": self.escalated / max(self.urgent, 1),
            "emergency_first": self.emergency_first / max(self.emergency, 1),
            "lookalikes_escalated": self.lookalikes_escalated / max(self.lookalikes, 1),
        }

    def summary(self, name: str) -> str:
        r = self.rates()
        return (
            f"{name}: {self.urgent} urgent: escalated {r['urgent_escalated']:.3f}; {self.emergency} "
            f"emergency: told to call emergency services first {r['emergency_first']:.3f}; "
            f"{self.lookalikes} look-alikes: escalated {r['lookalikes_escalated']:.3f}"
        )
