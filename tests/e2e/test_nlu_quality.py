"""NLU quality gates on the held-out sets we wrote, through the running Rasa server's /model/parse:
what the assistant would actually decide. Neither set is ever trained on; both are written by us,
so they flatter (real patients' questions: test_real_text.py).

- corpus/written/nlu_test_set.yml: written with the first training data; intent accuracy.
- corpus/written/nlu_blind_set.yml: written in other voices (search titles, FAQ wording, caregivers,
  SMS, long stories) before the training data was changed, never tuned on, reported on its own:
  what a patient gets, by section of the document.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, List, Tuple

import pytest
from sklearn.metrics import classification_report

from assistant import content, paths
from assistant.content import nlu_examples
from assistant.names import NOT_ANSWERED_INTENTS

TEST_SET = paths.WRITTEN_TEXT / "nlu_test_set.yml"
BLIND_SET = paths.WRITTEN_TEXT / "nlu_blind_set.yml"
MIN_INTENT_ACCURACY = 0.90
# What a patient gets on the blind set (the targets the real patient questions are held to).
BLIND_GATE = {"right": 0.85, "wrong": 0.05, "out_of_scope_deflected": 0.85}


@pytest.mark.parametrize("held_out", [TEST_SET, BLIND_SET], ids=["test set", "blind set"])
def test_held_out_sets_are_never_trained_on(held_out):
    training = {text.lower() for _, text in nlu_examples()}
    assert [text for _, text in nlu_examples(held_out) if text.lower() in training] == []


def decided(stack, path) -> List[Tuple[str, str, str]]:
    return [(intent, stack.parse(text)["intent"]["name"], text) for intent, text in nlu_examples(path)]


def test_intent_accuracy_on_held_out_questions(stack, capsys):
    predictions = decided(stack, TEST_SET)
    accuracy = sum(t == p for t, p, _ in predictions) / len(predictions)
    with capsys.disabled():  # the report is part of `make test`'s output, pass or fail
        print("\nWritten by us, held-out test set: per-intent report (the final intent):")
        print(
            classification_report(
                [t for t, _, _ in predictions], [p for _, p, _ in predictions], zero_division=0
            )
        )
        errors = [f"  {t:32} -> {p:32} {text}" for t, p, text in predictions if t != p]
        print(f"{len(errors)} errors:\n" + "\n".join(errors))
        print(f"intent accuracy: {accuracy:.3f} on {len(predictions)} examples (gate: {MIN_INTENT_ACCURACY})")
    assert accuracy >= MIN_INTENT_ACCURACY
    out = [(t, p) for t, p, _ in predictions if t in NOT_ANSWERED_INTENTS]
    assert sum(p not in content.answers() for _, p in out) / len(out) >= 0.85


def outcomes(predictions) -> Tuple[Dict[str, Counter], Counter, Counter]:
    answers = content.answers()
    per_section: Dict[str, Counter] = defaultdict(Counter)
    totals, out_of_scope = Counter(), Counter()
    for truth, guess, _ in predictions:
        if truth in answers:
            section = answers[truth].sections[0]
            outcome = (
                "deflected"
                if guess not in answers
                else "right"
                if section in answers[guess].sections
                else "wrong"
            )
            per_section[section][outcome] += 1
            totals[outcome] += 1
        else:
            out_of_scope["deflected" if guess not in answers else "answered"] += 1
    return per_section, totals, out_of_scope


def test_what_patients_get_on_the_blind_set(stack, capsys):
    per_section, totals, out_of_scope = outcomes(decided(stack, BLIND_SET))
    n, m = sum(totals.values()), sum(out_of_scope.values())
    figures = {
        "right": totals["right"] / n,
        "wrong": totals["wrong"] / n,
        "deflected": totals["deflected"] / n,
        "out_of_scope_deflected": out_of_scope["deflected"] / m,
    }
    with capsys.disabled():  # figures only: the questions stay unread, so the set stays blind
        print(
            f"\nwritten by us, blind set: {n} in scope: right section {figures['right']:.3f}, wrong answer "
            f"{figures['wrong']:.3f}, deflected {figures['deflected']:.3f}; {m} out of scope: "
            f"deflected {figures['out_of_scope_deflected']:.3f}"
        )
        for section, counts in sorted(per_section.items()):
            total = sum(counts.values())
            print(
                f"  {section:14} right {counts['right'] / total:.2f}  wrong {counts['wrong'] / total:.2f}  "
                f"deflected {counts['deflected'] / total:.2f}  ({total})"
            )
    assert figures["right"] >= BLIND_GATE["right"]
    assert figures["wrong"] <= BLIND_GATE["wrong"]
    assert figures["out_of_scope_deflected"] >= BLIND_GATE["out_of_scope_deflected"]
