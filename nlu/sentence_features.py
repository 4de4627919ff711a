"""Dense sentence features from a pretrained English sentence encoder (nlu/minilm.py),
beside our sparse ones: spaCy still tokenises, lemmatises and finds entities, the count
featurizers still give word and character features, and the intent classifier reads both.

A pretrained encoder knows that "am I awake for it?" and "will I be put to sleep?" ask the same
thing though they share no word: the phrasing our training data lacks. Each message is embedded
once, with its sentences in the same pass when it has several (for the urgency classifier); the
encoder is loaded once per process, with the model, and is not stored in the model archive (its
files are installed, pinned by hash).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.minilm import shared_encoder
from safety.urgency_model import sentences

# The message attribute with the encoder's vectors of a message: rows [whole, sentence 1, ...].
ENCODER_VECTORS = "sentence_encoder_vectors"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        shared_encoder()  # loaded with the model, not on the first patient's message
        return cls(execution_context.node_name, config)

    def _featurize(self, messages: List[Message], with_sentences: bool) -> None:
        # Like the count featurizers, nothing for a text without tokens (empty, only spaces): the
        # classifier needs every featurizer's features or none.
        texts = [m for m in messages if m.get(TEXT) is not None and m.get(TOKENS_NAMES[TEXT])]
        # One encoder pass for the message and, when serving, each of its sentences (read by the
        # urgency classifier): a message's vectors are rows [whole, sentence 1, ...].
        parts = [[m.get(TEXT), *(sentences(m.get(TEXT)) if with_sentences else [])] for m in texts]
        vectors = shared_encoder().encode([part for message_parts in parts for part in message_parts])
        start = 0
        for message, message_parts in zip(texts, parts, strict=True):
            rows = vectors[start : start + len(message_parts)]
            start += len(message_parts)
            self.add_features_to_message(None, rows[:1], TEXT, message)
            message.set(ENCODER_VECTORS, rows)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, with_sentences=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages, with_sentences=True)
        return messages
