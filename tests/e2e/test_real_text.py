"""What real patients get: every real message of the dev and test splits (corpus/real/, verbatim
from public pages) sent over REST to the running servers, each in a new conversation, and the
reply read as the patient reads it (tests/outcomes.py). The test split gates; dev is printed
beside it (thresholds were chosen on it, so it flatters), with its misses: the test split's stay
unread, so that nobody tunes on them. Then 5-fold cross-validation grouped by page over the real
train and dev rows (scripts/lab/real_text_lab.py). Sets we wrote are reported by test_nlu_quality.py
and test_safety.py, labelled as written by us.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import pytest

from assistant import corpus
from tests.outcomes import QuestionFigures, Reply, SymptomFigures

# What issue 17 asks of the real test split, printed beside the figures: not reached yet.
TARGET = {
    "right": 0.90,
    "wrong": 0.04,
    "out_of_scope_deflected": 0.90,
    "urgent_escalated": 0.98,
    "emergency_first": 0.95,
    "lookalikes_escalated": 0.10,
}
# The gates: what the assistant reached on the real test split when the figures were first taken
# (issue 17's note), less a little, so that a change that loses real patients fails.
FLOOR = {
    "right": 0.75,  # 0.789 on 2026-12-07
    "wrong": 0.08,  # 0.056
    "out_of_scope_deflected": 0.60,  # 0.645
    "urgent_escalated": 0.94,  # 0.968
    "emergency_first": 0.90,  # 0.960 (25 messages: one miss is 0.04)
    "lookalikes_escalated": 0.60,  # 0.553
}
LOWER_IS_BETTER = ("wrong", "lookalikes_escalated")
_senders = itertools.count(1)


def replies(stack, texts: List[str]) -> List[Reply]:
    """Each text as the first message of its own REST conversation (8 at a time)."""

    def ask(text: str) -> Reply:
        return Reply.of(stack.rest(f"real-{next(_senders)}", text))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(ask, texts))


@pytest.fixture(scope="module")
def figures(stack) -> Dict[str, Tuple[QuestionFigures, SymptomFigures]]:
    result = {}
    for split in ("dev", "test"):
        questions, symptoms = corpus.questions_in(split), corpus.symptoms_in(split)
        asked = replies(stack, [q.text for q in questions] + [s.text for s in symptoms])
        q_figures, s_figures = QuestionFigures(), SymptomFigures()
        for question, reply in zip(questions, asked[: len(questions)], strict=True):
            q_figures.add(question, reply)
        for symptom, reply in zip(symptoms, asked[len(questions) :], strict=True):
            s_figures.add(symptom.level, symptom.text, reply)
        result[split] = (q_figures, s_figures)
    return result


def test_real_patients_get_the_right_answer_and_urgent_guidance(figures, capsys):
    rates = {**figures["test"][0].rates(), **figures["test"][1].rates()}
    with capsys.disabled():  # part of `make test`'s output, pass or fail
        print()
        for split in ("test", "dev"):
            q_figures, s_figures = figures[split]
            name = f"real {split}" + (" (thresholds chosen here)" if split == "dev" else "")
            print(q_figures.summary(name))
            print(s_figures.summary(name))
        print(
            "real test against issue 17's targets: "
            + ", ".join(f"{k} {rates[k]:.3f} (target {v})" for k, v in TARGET.items())
        )
        q_figures, s_figures = figures["dev"]
        print("real dev misses:\n  " + "\n  ".join(q_figures.misses + s_figures.misses))
    failing = {
        k: round(v, 3)
        for k, v in rates.items()
        if k in FLOOR and (v > FLOOR[k] if k in LOWER_IS_BETTER else v < FLOOR[k])
    }
    assert failing == {}, f"real test split below its floors {FLOOR}: {failing}"


def test_cross_validation_grouped_by_page(capsys):
    """Five folds over the real train and dev pages: each fold's pages left out of training and
    measured. The gates are floors under the means first taken (2026-12-07, before the last 217
    rows: right 0.772, urgent escalated 0.961, emergency first 0.856)."""
    from scripts.lab.real_text_lab import Featurized, cross_validation

    with capsys.disabled():
        print("\n5-fold cross-validation grouped by page, real train + dev rows:")
        summary = cross_validation(Featurized())
    assert summary["right"]["mean"] >= 0.70
    assert summary["urgent_escalated"]["mean"] >= 0.92
    assert summary["emergency_first"]["mean"] >= 0.78
