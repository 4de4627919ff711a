"""Choosing when to answer: cross-validated intent rankings on our training data, and the curve
of right / wrong / deflected they give for each answer threshold and ambiguity margin of
nlu/answer_confidence.py. Used by `make eval` (scripts/lab/evaluate.py)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import yaml
from sklearn.model_selection import StratifiedKFold

from assistant import content, paths
from assistant.names import URGENT_INTENT
from nlu.answer_confidence import decide

Ranked = Tuple[str, str, List[Dict[str, Any]]]  # (true intent, text, the classifier's ranking)
THRESHOLDS = [round(0.20 + 0.05 * i, 2) for i in range(15)]  # 0.20 ... 0.90
MARGINS = [0.0, 0.05, 0.1, 0.15, 0.2]
MAX_WRONG = 0.03  # the share of in-scope questions we accept answering from the wrong section
MIN_OUT_OF_SCOPE_DEFLECTED = 0.90  # ... and of questions we have no answer for, not answering
SEED = 2024


@dataclass(frozen=True)
class Point:
    threshold: float
    margin: float
    right: float  # in-scope questions answered from the right section
    wrong: float  # ... answered from another section
    deflected: float  # ... not answered (did you mean, topics)
    out_of_scope_deflected: float  # questions we have no answer for, not answered


def _write_nlu(examples: Sequence[Tuple[str, str]], path: Path) -> None:
    by_intent: Dict[str, List[str]] = {}
    for intent, text in examples:
        by_intent.setdefault(intent, []).append(text)
    blocks = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in by_intent.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


async def _rank(model: str, texts: Sequence[str]) -> List[List[Dict[str, Any]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [(await agent.parse_message(t)).get("intent_ranking", []) for t in texts]


def cross_validated_rankings(folds: int = 3) -> List[Ranked]:
    """Each training example ranked by a model trained on the other folds (urgent reports left
    out: the red-flag layer, not this decision, answers them)."""
    from rasa.model_training import train_nlu

    examples = [(i, t) for i, t in content.nlu_examples() if i != URGENT_INTENT]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    ranked: List[Ranked] = []
    with tempfile.TemporaryDirectory() as tmp:
        for fold, (train, test) in enumerate(splitter.split(examples, [i for i, _ in examples])):
            data = Path(tmp) / f"train_{fold}.yml"
            _write_nlu([examples[k] for k in train], data)
            model = train_nlu(str(paths.CONFIG), str(data), tmp, fixed_model_name=f"fold_{fold}")
            assert model, "training a cross-validation model failed"
            held_out = [examples[k] for k in test]
            rankings = asyncio.run(_rank(model, [t for _, t in held_out]))
            ranked += [(i, t, r) for (i, t), r in zip(held_out, rankings, strict=True)]
    return ranked


def outcome(ranked: Sequence[Ranked], threshold: float, margin: float) -> Point:
    sections = {key: a.sections for key, a in content.answers().items()}
    main = {key: s[0] for key, s in sections.items()}
    counts = {"right": 0, "wrong": 0, "deflected": 0, "oos": 0, "oos_deflected": 0}
    for truth, _, ranking in ranked:
        ranking = [r for r in ranking if r["name"] != URGENT_INTENT]
        chosen, _ = decide(ranking, threshold, margin, main)
        answered = chosen in sections
        if truth in sections:
            if not answered:
                counts["deflected"] += 1
            elif main[truth] in sections[str(chosen)]:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
        else:
            counts["oos"] += 1
            counts["oos_deflected"] += not answered
    in_scope = max(1, counts["right"] + counts["wrong"] + counts["deflected"])
    return Point(
        threshold,
        margin,
        counts["right"] / in_scope,
        counts["wrong"] / in_scope,
        counts["deflected"] / in_scope,
        counts["oos_deflected"] / max(1, counts["oos"]),
    )


def curve(ranked: Sequence[Ranked]) -> List[Point]:
    return [outcome(ranked, t, m) for m in MARGINS for t in THRESHOLDS]


def best(points: Sequence[Point]) -> Point:
    """The most right answers with at most MAX_WRONG wrong and at least MIN_OUT_OF_SCOPE_DEFLECTED
    of the questions we cannot answer deflected; ties go to the surer setting."""
    allowed = [
        p for p in points if p.wrong <= MAX_WRONG and p.out_of_scope_deflected >= MIN_OUT_OF_SCOPE_DEFLECTED
    ] or list(points)
    return max(allowed, key=lambda p: (round(p.right, 3), p.out_of_scope_deflected, p.threshold, p.margin))
