"""Red-flag detection: the safety check that runs on every message, on every channel, before any
answer is chosen. Two layers; either one escalates, the most urgent level wins, and the message's
intent becomes `report_urgent_symptom`:
1. the red-flag matcher (red_flag_matcher.py, red_flags.yml): symptoms at their urgency level,
   read clause by clause;
2. the urgency classifier (urgency_classifier.py), trained on real patients' messages, for the
   ways of telling a symptom that no pattern lists. A pattern's dismissal ("no fever", "what if
   I get a fever") never vetoes it.
The escalated message carries `red_flag` entities (which symptoms, where in the text; the
classifier's as `learned_urgency`) and one `urgency` entity (the level): the audit trail of why a
patient was escalated, and what action_urgent reads to choose the wording.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.names import FALLBACK_INTENT, RED_FLAG_ENTITY, URGENCY_ENTITY, URGENCY_LEVELS, URGENT_INTENT
from nlu.answer_confidence import ANSWER_IF_NOT_URGENT
from nlu.urgency_classifier import LEARNED_URGENCY
from safety.red_flag_matcher import Findings, RedFlagMatcher
from safety.urgency_model import Judgement


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False, model_from="SpacyNLP"
)
class RedFlagDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, config: Dict[str, Any]) -> None:
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

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._matcher is None:
            self._matcher = RedFlagMatcher(model.model)
        for message in messages:
            findings = self._matcher.find(message.get(TEXT) or "")
            learned: Judgement | None = message.get(LEARNED_URGENCY)
            levels = {findings.level, learned.level if learned else None} - {None}
            if levels:
                level = next(lvl for lvl in URGENCY_LEVELS if lvl in levels)
                self._escalate(message, findings, level, learned if learned and learned.level else None)
            elif (message.get(INTENT) or {}).get("name") == URGENT_INTENT:
                # The intent classifier said urgent but neither layer did: what AnswerConfidence
                # decided without the urgent intent (answer_confidence.py).
                decided = message.get(ANSWER_IF_NOT_URGENT) or {"name": FALLBACK_INTENT, "confidence": 0.0}
                message.set(INTENT, dict(decided), add_to_output=True)
        return messages

    @staticmethod
    def _escalate(message: Message, findings: Findings, level: str, learned: Judgement | None) -> None:
        text = message.get(TEXT) or ""
        flags = [
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
        if learned:
            flags.append(
                {
                    "entity": RED_FLAG_ENTITY,
                    "value": LEARNED_URGENCY,
                    "start": 0,
                    "end": len(text),
                    "confidence": round(learned.urgent_score, 3),
                    "extractor": "UrgencyClassifier",
                }
            )
        urgency = {
            "entity": URGENCY_ENTITY,
            "value": level,
            "start": 0,
            "end": 0,
            "extractor": "RedFlagDetector",
        }
        message.set(ENTITIES, [*(message.get(ENTITIES) or []), *flags, urgency], add_to_output=True)
        message.set(INTENT, {"name": URGENT_INTENT, "confidence": 1.0}, add_to_output=True)
