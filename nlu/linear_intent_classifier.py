"""The intent classifier: a multinomial logistic regression over the message's features (the
count featurizers' word lemmas and character n-grams, and the sentence encoder's vector).

Chosen over DIET on the real dev split (python -m scripts.lab.real_text_lab answers, and ... diet for
DIET on the same features and data): on real patients' questions the linear model ranks the right
answer first more often, its probabilities suit the answer threshold better
(nlu/answer_confidence.py: fewer wrong answers at the same right ones), and the whole model
trains in about 200 s rather than 390.
Weights are stored as plain arrays (numpy's format, no pickle).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

WEIGHTS_FILE = "intent_weights.npz"
INTENTS_FILE = "intents.json"


def features(messages: List[Message], dense_weight: float) -> scipy.sparse.csr_matrix:
    """One row per message: its sentence-level sparse features, then its dense ones (scaled: the
    encoder's unit vector would otherwise weigh little beside word counts)."""
    rows = []
    for message in messages:
        sparse = message.get_sparse_features(TEXT)[1]
        dense = message.get_dense_features(TEXT)[1]
        parts = []
        if sparse is not None:
            parts.append(scipy.sparse.csr_matrix(sparse.features))
        if dense is not None:
            parts.append(scipy.sparse.csr_matrix(np.asarray(dense.features) * dense_weight))
        rows.append(scipy.sparse.hstack(parts, format="csr"))
    return scipy.sparse.vstack(rows, format="csr")


def fit(
    x: scipy.sparse.csr_matrix, intents: List[str], regularisation: float, seed: int
) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """The fit, for the component and the lab alike: (intents, weights (features, intents), bias)."""
    from sklearn.linear_model import LogisticRegression  # training only

    model = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=3000, random_state=seed)
    model.fit(x, intents)
    return [str(c) for c in model.classes_], model.coef_.T, model.intercept_


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "regularisation": 10.0,  # the logistic regression's C
            "dense_weight": 3.0,  # the encoder's vector, scaled beside the counts
            "random_seed": 2024,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        intents: List[str] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.weights, self.bias, self.intents = weights, bias, intents or []

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        with model_storage.read_from(resource) as directory:
            intents = json.loads((directory / INTENTS_FILE).read_text(encoding="utf-8"))
            with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as stored:
                return cls(config, model_storage, resource, stored["weights"], stored["bias"], intents)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        self.intents, weights, bias = fit(
            features(examples, float(self.config["dense_weight"])),
            [e.get(INTENT) for e in examples],
            float(self.config["regularisation"]),
            int(self.config["random_seed"]),
        )
        self.weights, self.bias = weights.astype(np.float32), bias.astype(np.float32)
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, weights=self.weights, bias=self.bias)
            (directory / INTENTS_FILE).write_text(json.dumps(self.intents), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.weights is None or self.bias is None:
            return messages
        readable = [m for m in messages if m.features_present(TEXT)]
        if not readable:
            return messages
        logits = features(readable, float(self.config["dense_weight"])) @ self.weights + self.bias
        logits = np.asarray(logits) - np.max(logits, axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        for message, row in zip(readable, probabilities, strict=True):
            order = np.argsort(-row)[: int(self.config["ranking_length"])]
            ranking = [{"name": self.intents[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
