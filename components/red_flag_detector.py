"""Red-flag detection: the safety check that runs on every message, on every channel, before any
answer is chosen. Two layers; either one escalates, and the message's intent becomes
`report_urgent_symptom`:
1. the red-flag matcher (red_flag_matcher.py, red_flags.yml): symptoms at their urgency level,
   read clause by clause;
2. DIET's own `report_urgent_symptom` intent (trained on patient phrasings), for reports the
   patterns do not know, unless the patterns understood every symptom word as a non-report
   ("no fever", "what if I get a fever"). DIET alone gives the `same_day` level.
The escalated message carries `red_flag` entities (which symptoms, where in the text) and one
`urgency` entity (the level): the audit trail of why a patient was escalated, and what
action_urgent reads to choose the wording.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.names import FALLBACK_INTENT, RED_FLAG_ENTITY, URGENCY_ENTITY, URGENT_INTENT
from components.red_flag_matcher import SAME_DAY, Findings, RedFlagMatcher


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False, model_from="SpacyNLP"
)
class RedFlagDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # DIET's confidence in report_urgent_symptom at or above which we escalate.
        return {"nlu_threshold": 0.85}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.nlu_threshold = float(config["nlu_threshold"])
        self._matcher: RedFlagMatcher | None = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(config)

    @staticmethod
    def _nlu_confidence(message: Message) -> float:
        ranking = message.get(INTENT_RANKING_KEY) or []
        return max((r["confidence"] for r in ranking if r.get("name") == URGENT_INTENT), default=0.0)

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._matcher is None:
            self._matcher = RedFlagMatcher(model.model)
        for message in messages:
            findings = self._matcher.find(message.get(TEXT) or "")
            nlu_confidence = self._nlu_confidence(message)
            by_nlu = nlu_confidence >= self.nlu_threshold and not findings.dismissed
            if findings.flags or by_nlu:
                self._escalate(message, findings, nlu_confidence)
            elif (message.get(INTENT) or {}).get("name") == URGENT_INTENT:
                # DIET said urgent but the patterns understood every symptom as a non-report
                # ("no fever", "what if I get a fever"): take the best other intent; the actions
                # apply the confidence threshold to it.
                others = [
                    r
                    for r in message.get(INTENT_RANKING_KEY) or []
                    if r.get("name") not in (URGENT_INTENT, FALLBACK_INTENT)
                ]
                best = others[0] if others else {"name": FALLBACK_INTENT, "confidence": 0.0}
                message.set(INTENT, dict(best), add_to_output=True)
        return messages

    @staticmethod
    def _escalate(message: Message, findings: Findings, nlu_confidence: float) -> None:
        text = message.get(TEXT) or ""
        level = findings.level or SAME_DAY  # DIET alone: contact the team today
        entities = (
            list(message.get(ENTITIES) or [])
            + [
                {
                    "entity": RED_FLAG_ENTITY,
                    "value": f.name,
                    "start": f.start,
                    "end": f.end,
                    "text": text[f.start : f.end],
                    "extractor": "RedFlagDetector",
                }
                for f in findings.flags
            ]
            + [
                {
                    "entity": URGENCY_ENTITY,
                    "value": level,
                    "start": 0,
                    "end": 0,
                    "extractor": "RedFlagDetector",
                }
            ]
        )
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(INTENT, {"name": URGENT_INTENT, "confidence": 1.0}, add_to_output=True)
        # The ranking keeps DIET's own confidence, so evaluation can tell the two layers apart.
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != URGENT_INTENT]
        message.set(
            INTENT_RANKING_KEY,
            [{"name": URGENT_INTENT, "confidence": nlu_confidence}] + ranking,
            add_to_output=True,
        )
