"""The lab for real patient text: choosing the classifiers' settings and thresholds on the real dev
split, and cross-validation grouped by page. Never reads the test split.

    python -m scripts.lab.real_text_lab answers   # intent classifier settings, answer threshold/margin
    python -m scripts.lab.real_text_lab diet      # DIET (the previous classifier) on the same dev split
    python -m scripts.lab.real_text_lab urgency   # urgency thresholds (recall first)
    python -m scripts.lab.real_text_lab folds     # 5-fold cross-validation grouped by page (train+dev)

Each works on the trained model (models/spine-faq.tar.gz) and its featurizers: messages are
featurized once by the model's own graph, then the classifiers are refit here exactly as the
components fit them (same features, same code, same seeds), so a setting chosen here is the
setting the model gets. Results are printed; `make test` prints the cross-validation too.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

from assistant import content, corpus, paths, settings
from assistant.names import URGENT_INTENT
from nlu.answer_confidence import decide
from nlu.linear_intent_classifier import features as intent_features
from nlu.linear_intent_classifier import fit as fit_linear
from nlu.real_text_importer import intent_of
from safety import urgency_model

MODEL = paths.PROJECT_ROOT / "models" / "spine-faq.tar.gz"
FEATURIZER = "SentenceEncoderFeaturizer"
FOLDS = 5
SEED = 2024
# Recall first: the thresholds are the highest that keep dev recall at these, then the ones that
# escalate the fewest look-alikes.
URGENT_RECALL_TARGET = 0.98
EMERGENCY_TARGET = 0.95


# --- the model's own featurizers --------------------------------------------------------------
class Featurized:
    """Messages through the trained model's graph up to the sentence encoder (and the patterns)."""

    def __init__(self) -> None:
        import spacy
        from rasa.core.agent import Agent

        from safety.red_flag_matcher import RedFlagMatcher

        self.agent = Agent.load(str(MODEL))
        nodes = self.agent.processor.model_metadata.predict_schema.nodes
        self.target = next(name for name in nodes if FEATURIZER in name)
        self.matcher = RedFlagMatcher(
            spacy.load(str(paths.PROJECT_ROOT / "build" / "spacy" / "en_spine_faq"))
        )
        self._cache: Dict[str, Any] = {}

    def messages(self, texts: Sequence[str]) -> List[Any]:
        from rasa.core.channels.channel import UserMessage

        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            runner = self.agent.processor.graph_runner
            out = runner.run(inputs={"__message__": [UserMessage(t) for t in batch]}, targets=[self.target])
            for text, message in zip(batch, out[self.target], strict=True):
                self._cache[text] = message
        return [self._cache[t] for t in texts]


# --- answers ----------------------------------------------------------------------------------
def training_examples() -> List[Tuple[str, str]]:
    """(intent, text) as the model trains on them: data/nlu.yml and the real train questions."""
    return content.nlu_examples() + [(intent_of(q), q.text) for q in corpus.questions_in("train")]


@dataclass
class LinearModel:
    weights: np.ndarray
    bias: np.ndarray
    intents: List[str]
    dense_weight: float

    def rankings(self, messages: List[Any]) -> List[List[Dict[str, Any]]]:
        logits = np.asarray(intent_features(messages, self.dense_weight) @ self.weights + self.bias)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return [
            [{"name": self.intents[i], "confidence": float(row[i])} for i in np.argsort(-row)[:10]]
            for row in p
        ]


def fit_intents(
    messages: List[Any], intents: List[str], regularisation: float, dense_weight: float
) -> LinearModel:
    classes, weights, bias = fit_linear(
        intent_features(messages, dense_weight), intents, regularisation, SEED
    )
    return LinearModel(weights, bias, classes, dense_weight)


def answer_figures(
    questions: Sequence[corpus.Question],
    rankings: Sequence[List[Dict[str, Any]]],
    threshold: float,
    margin: float,
) -> Dict[str, float]:
    """right / wrong / out-of-scope deflected, deciding as AnswerConfidence does (urgent and
    unreadable messages aside: other layers answer them)."""
    sections = {key: answer.sections[0] for key, answer in content.answers().items()}
    right = wrong = answerable = oos = deflected = 0
    for question, ranking in zip(questions, rankings, strict=True):
        intent, _ = decide([r for r in ranking if r["name"] != URGENT_INTENT], threshold, margin, sections)
        answered = intent in sections
        if question.answer == corpus.OUT_OF_SCOPE:
            oos += 1
            deflected += not answered
        else:
            answerable += 1
            ok = answered and sections[str(intent)] in question.sections
            right += ok
            wrong += answered and not ok
    return {
        "right": right / max(answerable, 1),
        "wrong": wrong / max(answerable, 1),
        "out_of_scope_deflected": deflected / max(oos, 1),
    }


def answers(lab: Featurized) -> None:
    train = training_examples()
    train_messages = lab.messages([t for _, t in train])
    dev = corpus.questions_in("dev")
    dev_messages = lab.messages([q.text for q in dev])
    current = settings.pipeline_component("nlu.linear_intent_classifier.LinearIntentClassifier")
    print(f"{len(train)} training examples, {len(dev)} real dev questions; config.yml: {current}")
    for regularisation, dense_weight in itertools.product([3.0, 10.0, 30.0], [1.0, 3.0, 6.0]):
        model = fit_intents(train_messages, [i for i, _ in train], regularisation, dense_weight)
        rankings = model.rankings(dev_messages)
        top = sum(
            bool(r)
            and r[0]["name"] in content.answers()
            and content.answers()[r[0]["name"]].sections[0] in q.sections
            for q, r in zip(dev, rankings, strict=True)
            if q.answer != corpus.OUT_OF_SCOPE
        ) / max(sum(q.answer != corpus.OUT_OF_SCOPE for q in dev), 1)
        print(f"C={regularisation:<5} dense_weight={dense_weight:<4} top answer in a right section {top:.3f}")
        for threshold, margin in itertools.product([0.25, 0.35, 0.45, 0.55], [0.0, 0.1]):
            f = answer_figures(dev, rankings, threshold, margin)
            print(
                f"    threshold {threshold:.2f} margin {margin:.2f}: right {f['right']:.3f} "
                f"wrong {f['wrong']:.3f} out of scope deflected {f['out_of_scope_deflected']:.3f}"
            )


# --- urgency ----------------------------------------------------------------------------------
def urgency_scores(model: urgency_model.UrgencyModel, lab: Featurized, texts: Sequence[str]) -> np.ndarray:
    """(urgent score, emergency score) per text, as the classifier reads it when serving: 0 for
    a message that does not tell something (urgency_model.tells_something)."""
    encoder_vectors = [m.get("sentence_encoder_vectors") for m in lab.messages(list(texts))]
    return np.array(
        [
            model.scores(v) if urgency_model.tells_something(t) else (0.0, 0.0)
            for t, v in zip(texts, encoder_vectors, strict=True)
        ]
    )


def fit_urgency(lab: Featurized, examples: Sequence[Tuple[str, str, float]]) -> urgency_model.UrgencyModel:
    config = settings.pipeline_component("nlu.urgency_classifier.UrgencyClassifier")
    messages = lab.messages([t for t, _, _ in examples])
    rows = np.stack([urgency_model.features(m.get("sentence_encoder_vectors")) for m in messages])
    return urgency_model.train(
        rows,
        [lv for _, lv, _ in examples],
        [w for _, _, w in examples],
        float(config["regularisation"]),
        SEED,
    )


def combined_levels(
    pattern_levels: Sequence[str | None], scores: np.ndarray, urgent: float, emergency: float
) -> List[str | None]:
    """What the red-flag detector decides: the more urgent of the patterns' and the classifier's."""
    out = []
    for pattern, (u, e) in zip(pattern_levels, scores, strict=True):
        learned = "emergency" if e >= emergency else "same_day" if u >= urgent else None
        levels = {pattern, learned} - {None}
        out.append("emergency" if "emergency" in levels else "same_day" if levels else None)
    return out


def safety_figures(levels: Sequence[str], decided: Sequence[str | None]) -> Dict[str, float]:
    """`levels`: each message's label, or "question" for a real question (not urgent)."""
    pairs = list(zip(levels, decided, strict=True))

    def share(rows: List[str | None], wanted: Callable[[str | None], bool]) -> float:
        return sum(map(wanted, rows)) / max(len(rows), 1)

    return {
        "urgent_escalated": share(
            [d for lv, d in pairs if lv in ("emergency", "same_day")], lambda d: d is not None
        ),
        "emergency_first": share([d for lv, d in pairs if lv == "emergency"], lambda d: d == "emergency"),
        "lookalikes_escalated": share([d for lv, d in pairs if lv == "not_urgent"], lambda d: d is not None),
        "questions_escalated": share([d for lv, d in pairs if lv == "question"], lambda d: d is not None),
    }


def rows_for_urgency(split: str) -> List[Tuple[str, str]]:
    """(text, level): the split's symptom messages, and its questions (level "question")."""
    return [(s.text, s.level) for s in corpus.symptoms_in(split)] + [
        (q.text, "question") for q in corpus.questions_in(split)
    ]


def urgency(lab: Featurized) -> None:
    examples = urgency_model.training_set(
        content.nlu_examples(),
        lambda text: lab.matcher.find(text).level,
        float(settings.pipeline_component("nlu.urgency_classifier.UrgencyClassifier")["real_weight"]),
    )
    model = fit_urgency(lab, examples)
    dev = rows_for_urgency("dev")
    scores = urgency_scores(model, lab, [t for t, _ in dev])
    patterns = [lab.matcher.find(t).level for t, _ in dev]
    grid = [round(x, 2) for x in np.arange(0.2, 0.96, 0.05)]
    best = None
    print(f"{len(dev)} real dev messages; patterns alone: {safety_figures([lv for _, lv in dev], patterns)}")
    for urgent_t, emergency_t in itertools.product(grid, grid):
        f = safety_figures([lv for _, lv in dev], combined_levels(patterns, scores, urgent_t, emergency_t))
        if f["urgent_escalated"] >= URGENT_RECALL_TARGET and f["emergency_first"] >= EMERGENCY_TARGET:
            key = (f["lookalikes_escalated"], f["questions_escalated"], -urgent_t, -emergency_t)
            if best is None or key < best[0]:
                best = (key, urgent_t, emergency_t, f)
    for urgent_t in grid:
        f = safety_figures([lv for _, lv in dev], combined_levels(patterns, scores, urgent_t, urgent_t))
        print(f"  thresholds {urgent_t:.2f}/{urgent_t:.2f}: {f}")
    print(f"recommended (recall first): {best}")


# --- cross-validation grouped by page ---------------------------------------------------------
def folds_of(rows: Sequence[Tuple[str, str]]) -> List[int]:
    """A fold per page group, from a hash of the group (rows of one group share a fold)."""
    import hashlib

    return [int(hashlib.sha256(corpus.page_group(url).encode()).hexdigest(), 16) % FOLDS for _, url in rows]


def cross_validation(lab: Featurized, report: Callable[[str], None] = print) -> Dict[str, Dict[str, float]]:
    """5 folds over the real train and dev pages (never test): each fold's real rows are left out
    of training and measured; our written data is always in training."""
    real_q = [q for split in ("train", "dev") for q in corpus.questions_in(split)]
    real_s = [s for split in ("train", "dev") for s in corpus.symptoms_in(split)]
    q_fold = folds_of([(q.text, q.url) for q in real_q])
    s_fold = folds_of([(s.text, s.url) for s in real_s])
    written = content.nlu_examples()
    intent_config = settings.pipeline_component("nlu.linear_intent_classifier.LinearIntentClassifier")
    urgency_config = settings.pipeline_component("nlu.urgency_classifier.UrgencyClassifier")
    answer_config = settings.pipeline_component(settings.ANSWER_CONFIDENCE_COMPONENT)
    pattern_level = {s.text: lab.matcher.find(s.text).level for s in real_s}
    totals: Dict[str, List[float]] = {}
    for fold in range(FOLDS):
        held_q = [q for q, f in zip(real_q, q_fold, strict=True) if f == fold]
        kept_q = [q for q, f in zip(real_q, q_fold, strict=True) if f != fold]
        held_s = [s for s, f in zip(real_s, s_fold, strict=True) if f == fold]
        kept_s = [s for s, f in zip(real_s, s_fold, strict=True) if f != fold]
        train = written + [(intent_of(q), q.text) for q in kept_q]
        model = fit_intents(
            lab.messages([t for _, t in train]),
            [i for i, _ in train],
            float(intent_config["regularisation"]),
            float(intent_config["dense_weight"]),
        )
        a = answer_figures(
            held_q,
            model.rankings(lab.messages([q.text for q in held_q])),
            float(answer_config["threshold"]),
            float(answer_config["ambiguity_margin"]),
        )
        examples = urgency_model.training_set(
            written, lambda t: lab.matcher.find(t).level, float(urgency_config["real_weight"]), kept_s, kept_q
        )
        urgency = fit_urgency(lab, examples)
        held = [(s.text, s.level) for s in held_s] + [(q.text, "question") for q in held_q]
        scores = urgency_scores(urgency, lab, [t for t, _ in held])
        patterns = [pattern_level[t] if t in pattern_level else lab.matcher.find(t).level for t, _ in held]
        u = safety_figures(
            [lv for _, lv in held],
            combined_levels(
                patterns,
                scores,
                float(urgency_config["urgent_threshold"]),
                float(urgency_config["emergency_threshold"]),
            ),
        )
        for key, value in {**a, **u}.items():
            totals.setdefault(key, []).append(value)
        report(
            f"  fold {fold + 1}: {len(held_q)} questions, {len(held_s)} symptom messages: "
            + ", ".join(f"{k} {v:.3f}" for k, v in {**a, **u}.items())
        )
    summary = {k: {"mean": float(np.mean(v)), "min": float(np.min(v))} for k, v in totals.items()}
    report("  mean over folds: " + ", ".join(f"{k} {v['mean']:.3f}" for k, v in summary.items()))
    return summary


def diet(lab: Featurized) -> None:
    """DIET as config.yml had it before, trained (NLU only) on the same data, through the same
    decision: the comparison that chose the linear classifier."""
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8"))
    pipeline = config["pipeline"]
    at = next(i for i, c in enumerate(pipeline) if c["name"].endswith("LinearIntentClassifier"))
    pipeline[at : at + 1] = [
        {"name": "LexicalSyntacticFeaturizer"},
        {
            "name": "DIETClassifier",
            "epochs": 150,
            "random_seed": SEED,
            "entity_recognition": False,
            "number_of_transformer_layers": 0,
            "constrain_similarities": True,
        },
    ]
    out = paths.PROJECT_ROOT / "build" / "lab"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config-diet.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    model = train_nlu(
        str(out / "config-diet.yml"), str(paths.PROJECT_ROOT / "data"), str(out), fixed_model_name="diet"
    )
    agent = Agent.load(model)
    dev = corpus.questions_in("dev")

    async def rank() -> List[List[Dict[str, Any]]]:
        return [(await agent.parse_message(q.text)).get("intent_ranking", []) for q in dev]

    import asyncio

    rankings = asyncio.run(rank())
    for threshold, margin in itertools.product([0.25, 0.35, 0.45, 0.55, 0.65], [0.0, 0.1]):
        f = answer_figures(dev, rankings, threshold, margin)
        print(
            f"DIET threshold {threshold:.2f} margin {margin:.2f}: right {f['right']:.3f} "
            f"wrong {f['wrong']:.3f} out of scope deflected {f['out_of_scope_deflected']:.3f}"
        )


def print_cross_validation(lab: Featurized) -> None:
    cross_validation(lab)  # it prints as it goes


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["answers", "diet", "urgency", "folds"])
    args = parser.parse_args(argv)
    experiments: Dict[str, Callable[[Featurized], None]] = {
        "answers": answers,
        "diet": diet,
        "urgency": urgency,
        "folds": print_cross_validation,
    }
    experiments[args.what](Featurized())
    return 0


if __name__ == "__main__":
    sys.exit(main())
