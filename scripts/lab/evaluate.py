"""`make eval` (python -m scripts.lab.evaluate): how well the assistant understands patients, written
to reports/ (not committed).

- 3-fold cross-validation on the training data, and the curve it gives of right / wrong /
  deflected for each answer threshold and ambiguity margin (scripts/lab/calibration.py), with the
  setting it recommends beside the one in config.yml
- the held-out FAQ test set: per-intent precision/recall and the confusion matrix (PNG)
- what a patient would get: right section / wrong answer / deflected, per section, on the
  held-out test set and, reported apart, the blind set (other voices, never tuned on)
- the safety sets: urgent recall, emergency-level recall and false escalation, each set on its
  own (blind sets apart), through the whole NLU
- reports/report.md with the numbers
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import DefaultDict, Tuple

from assistant import content, paths, settings
from assistant.content import nlu_examples
from assistant.corpus import written_safety_sets
from assistant.names import NOT_ANSWERED_INTENTS, URGENCY_ENTITY, URGENT_INTENT
from scripts.lab import calibration
from scripts.lab.safety_sets import measure

ROOT = paths.PROJECT_ROOT

REPORTS = ROOT / "reports"
MODEL = ROOT / "models" / "spine-faq.tar.gz"
RASA = str(Path(sys.executable).parent / "rasa")
TEST_SET = paths.WRITTEN_TEXT / "nlu_test_set.yml"
BLIND_SET = paths.WRITTEN_TEXT / "nlu_blind_set.yml"


def rasa_test(*args: str) -> None:
    subprocess.run([RASA, "test", "nlu", *args], cwd=ROOT, check=True)


async def parse_all(texts):
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    return {t: await agent.parse_message(t) for t in texts}


def urgency(parsed) -> str | None:
    if parsed["intent"]["name"] != URGENT_INTENT:
        return None
    return next(e["value"] for e in parsed["entities"] if e["entity"] == URGENCY_ENTITY)


Counts = DefaultDict[str, int]


def answer_outcomes(pairs, predicted) -> Tuple[DefaultDict[str, Counts], Counts, Counts]:
    """Per expected section: right section / wrong answer / deflected, as a patient sees it."""
    answers = content.answers()
    per_section: DefaultDict[str, Counts] = defaultdict(lambda: defaultdict(int))
    totals: Counts = defaultdict(int)
    out_of_scope: Counts = defaultdict(int)
    for (truth, _), guess in zip(pairs, predicted, strict=True):
        if truth in answers:
            section = answers[truth].sections[0]
            if guess in answers and section in answers[guess].sections:
                outcome = "right"
            elif guess in answers:
                outcome = "wrong"
            else:
                outcome = "deflected"
            per_section[section][outcome] += 1
            totals[outcome] += 1
        elif truth in NOT_ANSWERED_INTENTS:
            out_of_scope["deflected" if guess not in answers else "answered"] += 1
    return per_section, totals, out_of_scope


def main() -> int:
    REPORTS.mkdir(exist_ok=True)
    rasa_test("--nlu", str(TEST_SET), "--model", str(MODEL), "--out", str(REPORTS / "test_set"))
    ranked = calibration.cross_validated_rankings()
    points = calibration.curve(ranked)

    sets = {
        "held-out test set": nlu_examples(TEST_SET),
        "blind set (never tuned on)": nlu_examples(BLIND_SET),
    }
    safety = written_safety_sets()
    texts = {t for pairs in sets.values() for _, t in pairs} | {
        t for s in safety for t in s.urgent + s.not_urgent
    }
    parsed = asyncio.run(parse_all(sorted(texts)))

    lines = ["# NLU evaluation report", ""]
    test_report = json.loads((REPORTS / "test_set" / "intent_report.json").read_text())
    cv_accuracy = sum(r[0]["name"] == truth for truth, _, r in ranked if r) / len(ranked)
    current = settings.pipeline_component(settings.ANSWER_CONFIDENCE_COMPONENT)
    now = calibration.outcome(ranked, float(current["threshold"]), float(current["ambiguity_margin"]))
    chosen = calibration.best(points)
    lines += [
        f"- held-out test set ({len(sets['held-out test set'])} questions): intent accuracy "
        f"{test_report['accuracy']:.3f}, weighted F1 {test_report['weighted avg']['f1-score']:.3f}",
        f"- 3-fold cross-validation on the training data ({len(ranked)} examples): top intent "
        f"accuracy {cv_accuracy:.3f}",
        "- confusion matrix: `test_set/intent_confusion_matrix.png`",
        "",
        "## When to answer: cross-validated on the training data",
        "",
        f"config.yml: threshold {now.threshold}, ambiguity margin {now.margin}: right {now.right:.3f}, "
        f"wrong {now.wrong:.3f}, deflected {now.deflected:.3f}, out of scope deflected "
        f"{now.out_of_scope_deflected:.3f}.",
        f"Recommended (most right with at most {calibration.MAX_WRONG} wrong and at least "
        f"{calibration.MIN_OUT_OF_SCOPE_DEFLECTED} of out of scope deflected): threshold "
        f"{chosen.threshold}, ambiguity margin {chosen.margin}: right {chosen.right:.3f}, wrong "
        f"{chosen.wrong:.3f}, deflected {chosen.deflected:.3f}, out of scope deflected "
        f"{chosen.out_of_scope_deflected:.3f}.",
        "",
        "| margin | threshold | right | wrong | deflected | out of scope deflected |",
        "|---|---|---|---|---|---|",
        *(
            f"| {p.margin} | {p.threshold} | {p.right:.3f} | {p.wrong:.3f} | {p.deflected:.3f} | "
            f"{p.out_of_scope_deflected:.3f} |"
            for p in points
        ),
        "",
    ]
    for set_name, pairs in sets.items():
        per_section, totals, out_of_scope = answer_outcomes(
            pairs, [parsed[t]["intent"]["name"] for _, t in pairs]
        )
        answered = sum(totals.values())
        lines += [
            f"## What patients get: {set_name}",
            "",
            f"In-scope questions: right section {totals['right'] / answered:.3f}, wrong answer "
            f"{totals['wrong'] / answered:.3f}, deflected {totals['deflected'] / answered:.3f} "
            f"({answered} questions). Out-of-scope deflected: "
            f"{out_of_scope['deflected'] / max(1, sum(out_of_scope.values())):.3f} "
            f"({sum(out_of_scope.values())} questions). Escalated as urgent: "
            f"{sum(parsed[t]['intent']['name'] == URGENT_INTENT for _, t in pairs)}.",
            "",
            "| section | right | wrong | deflected |",
            "|---|---|---|---|",
        ]
        for section, counts in sorted(per_section.items()):
            n = sum(counts.values())
            lines.append(
                f"| {section} | {counts['right'] / n:.2f} | {counts['wrong'] / n:.2f} | "
                f"{counts['deflected'] / n:.2f} |"
            )
        lines.append("")
    lines += [
        "## Safety (through the whole NLU: patterns and the urgency classifier)",
        "",
        "| set | urgent recall | emergency level | false escalation |",
        "|---|---|---|---|",
    ]
    for s in safety:
        outcome = measure(s.name, [s], lambda t: urgency(parsed[t]))
        lines.append(
            f"| {s.name}{' (blind)' if s.blind else ''} ({outcome.urgent} + {outcome.calm}) | "
            f"{outcome.recall:.3f} | {outcome.emergency_recall:.3f} | "
            f"{outcome.false_escalation:.3f} |"
        )
    lines += [
        "",
        "## Per intent (held-out test set)",
        "",
        "| intent | precision | recall | support |",
        "|---|---|---|---|",
    ]
    for intent, scores in sorted(test_report.items()):
        if (
            isinstance(scores, dict)
            and "support" in scores
            and intent not in ("weighted avg", "macro avg", "micro avg")
        ):
            lines.append(
                f"| {intent} | {scores['precision']:.2f} | {scores['recall']:.2f} | {scores['support']} |"
            )
    (REPORTS / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nReport: {REPORTS / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
