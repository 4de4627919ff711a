"""NLU quality gate on our held-out test set (tests/data/nlu_test_set.yml, never trained on),
measured against the running Rasa server's /model/parse: what the bot would actually decide."""

from __future__ import annotations

from typing import List, Tuple

import pytest
import yaml
from sklearn.metrics import classification_report

from tests.servers import PROJECT_ROOT

TEST_SET = PROJECT_ROOT / "tests" / "data" / "nlu_test_set.yml"
MIN_INTENT_ACCURACY = 0.90
DEFLECTION = {"out_of_scope", "out_of_scope_medical", "personal_advice", "nlu_fallback"}


def examples(path) -> List[Tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (block["intent"], line.strip()[2:])
        for block in data["nlu"]
        for line in block["examples"].splitlines()
        if line.strip()
    ]


def test_test_set_is_held_out():
    training = {text.lower() for _, text in examples(PROJECT_ROOT / "data" / "nlu.yml")}
    overlap = [text for _, text in examples(TEST_SET) if text.lower() in training]
    assert overlap == []


@pytest.fixture(scope="module")
def predictions(stack) -> List[Tuple[str, str, str]]:
    return [(intent, stack.parse(text)["intent"]["name"], text) for intent, text in examples(TEST_SET)]


def test_intent_accuracy_on_held_out_questions(predictions, capsys):
    truth = [t for t, _, _ in predictions]
    predicted = [p for _, p, _ in predictions]
    accuracy = sum(t == p for t, p, _ in predictions) / len(predictions)
    with capsys.disabled():  # the report is part of `make test`'s output, pass or fail
        print_report(truth, predicted, predictions, accuracy)
    assert accuracy >= MIN_INTENT_ACCURACY


def print_report(truth, predicted, predictions, accuracy: float) -> None:
    print("\nPer-intent report on the held-out test set (final intent after the fallback threshold):")
    print(classification_report(truth, predicted, zero_division=0))
    errors = [f"  {t:32} -> {p:32} {text}" for t, p, text in predictions if t != p]
    print(f"{len(errors)} errors:\n" + "\n".join(errors))
    print(f"intent accuracy: {accuracy:.3f} on {len(predictions)} examples (gate: {MIN_INTENT_ACCURACY})")


def test_out_of_scope_questions_are_deflected_not_answered(predictions):
    """An out-of-scope question must never get a curated answer (a wrong medical answer)."""
    out = [(t, p, text) for t, p, text in predictions if t in DEFLECTION]
    answered = [f"{text!r} -> {p}" for t, p, text in out if p not in DEFLECTION]
    rate = 1 - len(answered) / len(out)
    print(
        f"\nout-of-scope deflected: {rate:.3f} of {len(out)}; answered instead:\n  " + "\n  ".join(answered)
    )
    assert rate >= 0.85
