"""The learned layer of the safety check: how urgent a message reads, from the sentence encoder's
vectors (nlu/minilm.py) of the whole message and of each of its sentences.

Patterns (red_flags.yml) cannot list every way a patient tells a story ("coughed and noticed
urine came out", "couldn't feel anything from the waist down"); a classifier over the encoder's
vectors, trained on real patients' messages (corpus/real/, train split) and on ours, reads them.
It is a multinomial logistic regression over three levels (emergency, same day, not urgent). It
reads the whole message and each sentence together: the whole message's vector, the last
sentence's (where a story says how it ended: "then it went away"), and the mean and the maximum
over the sentences (one sentence of a long story can be the emergency). On the real dev split
this read look-alikes better than taking the most urgent sentence alone (the lab's figures:
scripts/lab/real_text_lab.py). Its two thresholds are chosen on the real dev split, recall first,
and live in config.yml.

No Rasa here: nlu/urgency_classifier.py runs it in the Rasa server; tests and the lab use
it directly. Weights are stored as plain arrays (numpy's format, no pickle).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Tuple

import numpy as np

from assistant import corpus, paths
from assistant.names import URGENT_INTENT

LEVELS = ("emergency", "same_day", "not_urgent")  # the classifier's columns, in this order
EMERGENCY, SAME_DAY, NOT_URGENT = range(3)
WEIGHTS_FILE = "urgency_weights.npz"
SETTINGS_FILE = "urgency.json"

# Sentence ends: . ! ? (not inside numbers: "38.5"), line breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\d\.)\s+|\n+")
MIN_SENTENCE_CHARS = 12  # "Thanks." or "Day 3." alone carry no report


def sentences(text: str) -> List[str]:
    """The sentences of a message worth reading on their own: none when it has only one."""
    parts = [p.strip() for p in _SENTENCE_END.split(text or "") if p and p.strip()]
    parts = [p for p in parts if len(p) >= MIN_SENTENCE_CHARS]
    return parts if len(parts) > 1 else []


# A sentence that asks: ends with "?", or opens as a question does ("how do we keep it dry").
_QUESTION_START = re.compile(
    r"^(how|what|when|where|why|who|which|can|could|should|would|will|is|are|am|do|does|did|may|"
    r"might|shall)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r",\s*")  # "..., how do we keep it dry" asks too
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MIN_REPORT_WORDS = 5  # "ok", "banana", "tell me more": nothing told


def tells_something(text: str) -> bool:
    """Whether the message tells something rather than only asks: at least one sentence that is
    not a question (no "?", and no clause opening as a question does), and a few words. The
    classifier reads stories; a message that only asks ("Could I get an infection?") is the
    patterns' to read (they know "is it normal to have a fever of 39 since the op?" is a report).
    On the real dev split this rule keeps urgent recall and cuts real questions escalated from
    0.057 to 0.008 (scripts/lab/real_text_lab.py)."""
    if len(_WORD.findall(text or "")) < MIN_REPORT_WORDS:
        return False
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    return any(
        not p.endswith("?") and not any(_QUESTION_START.match(clause) for clause in _CLAUSE.split(p))
        for p in parts
    )


@dataclass(frozen=True)
class Judgement:
    level: str | None  # "emergency", "same_day" or None (not urgent)
    urgent_score: float  # the message's probability of being urgent (either level)
    emergency_score: float  # ... of being an emergency


def features(vectors: np.ndarray) -> np.ndarray:
    """What the classifier reads of one message, from its encoder vectors (rows [whole,
    sentence 1, ...]): whole, last sentence, mean and maximum over the sentences."""
    vectors = np.asarray(vectors, dtype=np.float64)
    parts = vectors[1:] if len(vectors) > 1 else vectors
    return np.concatenate([vectors[0], parts[-1], parts.mean(axis=0), parts.max(axis=0)])


@dataclass
class UrgencyModel:
    weights: np.ndarray  # (features, 3)
    bias: np.ndarray  # (3,)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """(n, 3): each feature row's probability of each level."""
        logits = np.asarray(rows, dtype=np.float64) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def scores(self, vectors: np.ndarray) -> Tuple[float, float]:
        """(P(urgent), P(emergency)) of a message from its encoder vectors."""
        p = self.probabilities(features(vectors)[None, :])[0]
        return float(1.0 - p[NOT_URGENT]), float(p[EMERGENCY])

    def judge(
        self, text: str, vectors: np.ndarray, urgent_threshold: float, emergency_threshold: float
    ) -> Judgement:
        urgent, emergency = self.scores(vectors)
        if not tells_something(text):
            level: str | None = None
        elif emergency >= emergency_threshold:
            level = LEVELS[EMERGENCY]
        elif urgent >= urgent_threshold:
            level = LEVELS[SAME_DAY]
        else:
            level = None
        return Judgement(level, urgent, emergency)

    # --- storage ------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        np.savez(directory / WEIGHTS_FILE, weights=self.weights, bias=self.bias)
        (directory / SETTINGS_FILE).write_text(json.dumps({"levels": LEVELS}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> UrgencyModel:
        settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        if tuple(settings["levels"]) != LEVELS:
            raise ValueError(f"urgency model trained for levels {settings['levels']}, not {LEVELS}")
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as stored:
            return cls(stored["weights"], stored["bias"])


def training_set(
    nlu_examples: Iterable[Tuple[str, str]],
    pattern_level: Callable[[str], str | None],
    real_weight: float,
    real_symptoms: Sequence[corpus.Symptom] | None = None,
    real_questions: Sequence[corpus.Question] | None = None,
) -> List[Tuple[str, str, float]]:
    """(text, level, weight) of every example the classifier learns from:
    - real patients' messages of the train split (their questions too, as not urgent), weighted
      `real_weight`: the text it must understand;
    - our written safety sets, except the blind ones;
    - the NLU training examples (intent, text): `report_urgent_symptom` as urgent, at the level
      the patterns give (same day when they give none), every other intent as not urgent.
    The real rows are the train split's unless given (cross-validation gives its folds'); the
    dev and test splits never appear here otherwise."""
    if real_symptoms is None:
        real_symptoms = corpus.symptoms_in("train")
    if real_questions is None:
        real_questions = corpus.questions_in("train")
    examples: List[Tuple[str, str, float]] = []
    for intent, text in nlu_examples:
        level = (pattern_level(text) or LEVELS[SAME_DAY]) if intent == URGENT_INTENT else LEVELS[NOT_URGENT]
        examples.append((text, level, 1.0))
    for written in corpus.written_safety_sets():
        if not written.blind:
            examples += [(text, level, 1.0) for text, level in written.labelled()]
    examples += [(s.text, s.level, real_weight) for s in real_symptoms]
    examples += [(q.text, LEVELS[NOT_URGENT], real_weight) for q in real_questions]
    return examples


def training_files() -> List[Path]:
    """The files `training_set` reads besides the NLU data (for Rasa's training cache)."""
    return [
        paths.REAL_PAGES,
        paths.REAL_SYMPTOMS,
        paths.REAL_QUESTIONS,
        *corpus.written_safety_set_files(),
    ]


def train(
    rows: np.ndarray, levels: Sequence[str], weights: Sequence[float], regularisation: float, seed: int
) -> UrgencyModel:
    """A multinomial logistic regression on feature rows (`features`); `weights` per example
    (real rows count more than ours), each level then balanced so that the rarer urgent levels
    are not drowned."""
    from sklearn.linear_model import LogisticRegression  # training only: not loaded to serve

    y = np.array([LEVELS.index(level) for level in levels])
    w = np.asarray(weights, dtype=np.float64).copy()
    share = w.sum() / len(LEVELS)  # each level's examples weigh the same in all
    for column in range(len(LEVELS)):
        mask = y == column
        if mask.any():
            w[mask] *= share / w[mask].sum()
    w *= len(w) / w.sum()  # mean weight 1: `regularisation` keeps its usual scale
    model = LogisticRegression(C=regularisation, max_iter=5000, random_state=seed)
    model.fit(np.asarray(rows, dtype=np.float64), y, sample_weight=w)
    order = [list(model.classes_).index(c) for c in range(len(LEVELS))]
    return UrgencyModel(model.coef_[order].T.copy(), model.intercept_[order].copy())
