"""The learned urgency layer in the Rasa server (safety/urgency_model.py): it reads each
message's encoder vectors (whole and per sentence, nlu/sentence_features.py) and records
its judgement on the message for the red-flag detector, which combines it with the patterns.

Trained with the model on the real train split, our written safety sets and the NLU examples
(urgency_model.training_set).
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.names import INPUT_PROBLEM_ENTITY
from nlu.minilm import shared_encoder
from nlu.sentence_features import ENCODER_VECTORS
from safety.red_flag_matcher import PATTERNS_FILE, RedFlagMatcher
from safety.urgency_model import (
    Judgement,
    UrgencyModel,
    features,
    sentences,
    train,
    training_files,
    training_set,
)

# The message attribute the judgement is recorded in (read by red_flag_detector.py).
LEARNED_URGENCY = "learned_urgency"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True, model_from="SpacyNLP"
)
class UrgencyClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "urgent_threshold": 0.5,  # the most urgent part's P(urgent) at or above which we escalate
            "emergency_threshold": 0.5,  # ... and P(emergency) for the emergency level
            "regularisation": 1.0,  # the logistic regression's C
            "real_weight": 3.0,  # a real patient's message counts this many written ones
            "random_seed": 2024,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: UrgencyModel | None = None,
    ) -> None:
        self.config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgencyClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UrgencyClassifier:
        with model_storage.read_from(resource) as directory:
            return cls(config, model_storage, resource, UrgencyModel.load(directory))

    # --- training -----------------------------------------------------------------------------
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """Retrain when the real or written sets, or the patterns that label the NLU examples'
        levels, change (they do not pass through the graph)."""
        digest = hashlib.sha256()
        for path in [*training_files(), PATTERNS_FILE]:
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData, model: SpacyModel) -> Resource:
        matcher = RedFlagMatcher(model.model)
        examples = training_set(
            [(e.get(INTENT), e.get(TEXT)) for e in training_data.intent_examples],
            lambda text: matcher.find(text).level,
            float(self.config["real_weight"]),
        )
        # The featurizer already encoded the NLU examples whole; encode only the rest.
        known = {
            e.get(TEXT): e.get(ENCODER_VECTORS)[0]
            for e in training_data.intent_examples
            if e.get(ENCODER_VECTORS) is not None
        }
        parts = {text: [text, *sentences(text)] for text, _, _ in examples}
        missing = sorted({p for ps in parts.values() for p in ps} - set(known))
        known.update(zip(missing, shared_encoder().encode(missing), strict=True))
        self._model = train(
            np.stack([features(np.stack([known[p] for p in parts[text]])) for text, _, _ in examples]),
            [level for _, level, _ in examples],
            [weight for _, _, weight in examples],
            float(self.config["regularisation"]),
            int(self.config["random_seed"]),
        )
        with self._storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    # --- serving ------------------------------------------------------------------------------
    def judge(self, message: Message) -> Judgement | None:
        vectors = message.get(ENCODER_VECTORS)
        if self._model is None or vectors is None or not len(vectors):
            return None  # no words to read: the input guard answers it
        if any(e.get("entity") == INPUT_PROBLEM_ENTITY for e in message.get(ENTITIES) or []):
            # Too long, markup, not English, gibberish: unlike anything it was trained on, so
            # only the patterns read it ("please help" 5,000 times is not an emergency).
            return None
        return self._model.judge(
            message.get(TEXT) or "",
            vectors,
            float(self.config["urgent_threshold"]),
            float(self.config["emergency_threshold"]),
        )

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        for message in messages:
            message.set(LEARNED_URGENCY, self.judge(message))
        return messages
