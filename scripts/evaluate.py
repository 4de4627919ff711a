"""`make eval`: how well the assistant understands patients, written to reports/ (not committed).

- cross-validation of the NLU on the training data (rasa test nlu --cross-validation)
- the held-out FAQ test set: per-intent precision/recall and the confusion matrix (PNG)
- what a patient would get: right section / wrong answer / deflected, per section
- the safety sets: urgent recall and false escalation
- reports/report.md with the numbers
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from actions.content import ANSWERS  # noqa: E402

REPORTS = ROOT / "reports"
MODEL = ROOT / "models" / "spine-faq.tar.gz"
RASA = str(Path(sys.executable).parent / "rasa")
TEST_SET = ROOT / "tests" / "data" / "nlu_test_set.yml"
SAFETY_SETS = ["safety_test_set", "safety_blind_set"]
DEFLECTING = {"out_of_scope", "out_of_scope_medical", "personal_advice", "nlu_fallback"}
URGENT = "report_urgent_symptom"


def examples(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(b["intent"], l.strip()[2:]) for b in data["nlu"] for l in b["examples"].splitlines() if l.strip()]


def rasa_test(*args: str) -> None:
    subprocess.run([RASA, "test", "nlu", *args], cwd=ROOT, check=True)


async def predictions(texts):
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    return [(await agent.parse_message(t))["intent"]["name"] for t in texts]


def answer_outcomes(pairs, predicted):
    """Per expected section: right section / wrong answer / deflected, as a patient sees it."""
    per_section = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(int)
    out_of_scope = defaultdict(int)
    for (truth, _), guess in zip(pairs, predicted):
        if truth in ANSWERS:
            section = ANSWERS[truth].sections[0]
            if guess in ANSWERS and section in ANSWERS[guess].sections:
                outcome = "right"
            elif guess in ANSWERS:
                outcome = "wrong"
            else:
                outcome = "deflected"
            per_section[section][outcome] += 1
            totals[outcome] += 1
        elif truth in DEFLECTING:
            out_of_scope["deflected" if guess not in ANSWERS else "answered"] += 1
    return per_section, totals, out_of_scope


def main() -> int:
    REPORTS.mkdir(exist_ok=True)
    rasa_test("--nlu", str(TEST_SET), "--model", str(MODEL), "--out", str(REPORTS / "test_set"))
    rasa_test("--nlu", "data/nlu.yml", "--config", "config.yml", "--cross-validation",
              "--folds", "3", "--out", str(REPORTS / "cross_validation"))

    pairs = examples(TEST_SET)
    safety = {n: yaml.safe_load((ROOT / "tests" / "data" / f"{n}.yml").read_text()) for n in SAFETY_SETS}
    texts = [t for _, t in pairs] + [t for s in safety.values() for t in s["urgent"] + s["not_urgent"]]
    predicted = asyncio.run(predictions(texts))
    faq_predicted, rest = predicted[:len(pairs)], predicted[len(pairs):]
    per_section, totals, out_of_scope = answer_outcomes(pairs, faq_predicted)

    lines = ["# NLU evaluation report", ""]
    test_report = json.loads((REPORTS / "test_set" / "intent_report.json").read_text())
    cv_report = json.loads((REPORTS / "cross_validation" / "intent_report.json").read_text())
    lines += [f"- held-out test set ({len(pairs)} questions): intent accuracy "
              f"{test_report['accuracy']:.3f}, weighted F1 {test_report['weighted avg']['f1-score']:.3f}",
              f"- 3-fold cross-validation on the training data: intent accuracy "
              f"{cv_report['accuracy']:.3f}, weighted F1 {cv_report['weighted avg']['f1-score']:.3f}",
              "- confusion matrix: `test_set/intent_confusion_matrix.png`", ""]
    answered = sum(totals.values())
    lines += ["## What patients get (held-out test set)", "",
              f"In-scope questions: right section {totals['right'] / answered:.3f}, wrong answer "
              f"{totals['wrong'] / answered:.3f}, deflected {totals['deflected'] / answered:.3f} "
              f"({answered} questions). Out-of-scope deflected: "
              f"{out_of_scope['deflected'] / max(1, sum(out_of_scope.values())):.3f} "
              f"({sum(out_of_scope.values())} questions).", "",
              "| section | right | wrong | deflected |", "|---|---|---|---|"]
    for section, counts in sorted(per_section.items()):
        n = sum(counts.values())
        lines.append(f"| {section} | {counts['right'] / n:.2f} | {counts['wrong'] / n:.2f} | "
                     f"{counts['deflected'] / n:.2f} |")
    lines += ["", "## Safety", "", "| set | urgent recall | false escalation |", "|---|---|---|"]
    offset = 0
    for name, data in safety.items():
        urgent = rest[offset:offset + len(data["urgent"])]
        offset += len(data["urgent"])
        calm = rest[offset:offset + len(data["not_urgent"])]
        offset += len(data["not_urgent"])
        lines.append(f"| {name} ({len(urgent)} + {len(calm)}) | "
                     f"{sum(p == URGENT for p in urgent) / len(urgent):.3f} | "
                     f"{sum(p == URGENT for p in calm) / len(calm):.3f} |")
    lines += ["", "## Per intent (held-out test set)", "", "| intent | precision | recall | support |",
              "|---|---|---|---|"]
    for intent, scores in sorted(test_report.items()):
        if isinstance(scores, dict) and "support" in scores and intent not in ("weighted avg", "macro avg", "micro avg"):
            lines.append(f"| {intent} | {scores['precision']:.2f} | {scores['recall']:.2f} | {scores['support']} |")
    (REPORTS / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:20]))
    print(f"\nReport: {REPORTS / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
