"""Loads our patches of Rasa (rasa_patches/) in the Rasa server. A graph component, because the
model is the one thing Rasa loads in every mode (`rasa run`, `rasa shell`, the HTTP API) and for
every channel; it does not touch messages. Listed last in config.yml's pipeline."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message

import rasa_patches


# Registered as an entity extractor: a kind of NLU component Rasa runs without asking it for an
# intent; a pass-through.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class RasaPatchesLoader(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RasaPatchesLoader:
        rasa_patches.install()
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
