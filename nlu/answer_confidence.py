"""When the assistant is sure enough to answer: the one decision, made in the Rasa server after
the intent classifier (it replaces Rasa's FallbackClassifier).

The classifier ranks the intents. An answer is given when the answers from the best one's section of the
document together reach `threshold`, and no intent from elsewhere comes within `ambiguity_margin`
of them: two candidates from the same section are not a reason to hesitate (either one answers
from the same part of the document), two from different sections are. Otherwise the intent
becomes `nlu_fallback`, with the classifier's ranking kept for "did you mean". Other intents (small talk,
deflections) need `threshold` on their own.

The chosen intent carries the confidence the decision was made on. The action server trusts the
decision (it never sees the threshold). When the classifier's best is `report_urgent_symptom`, the
safety layers after this one (red_flag_detector.py) confirm it or drop it; for the second case the
decision without it is kept on the message (ANSWER_IF_NOT_URGENT), so that it too is made here.
Both values are chosen on the real dev split (python -m scripts.lab.real_text_lab answers).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from assistant import content
from assistant.names import FALLBACK_INTENT, URGENT_INTENT

# The message attribute with the decision made without the urgent intent (read by the detector).
ANSWER_IF_NOT_URGENT = "answer_if_not_urgent"

Ranking = Sequence[Mapping[str, Any]]  # [{"name": intent, "confidence": float}, ...], best first


def decide(
    ranking: Ranking, threshold: float, margin: float, section_of: Mapping[str, str]
) -> Tuple[str | None, float]:
    """(the intent to act on, the confidence it was chosen with), or (None, best confidence)
    when the assistant is not sure. `section_of` maps answer intents to their main section."""
    if not ranking:
        return None, 0.0
    best = str(ranking[0]["name"])
    section = section_of.get(best)
    if section is None:  # not an answer: small talk, deflection, ...
        confidence = float(ranking[0]["confidence"])
        return (best, confidence) if confidence >= threshold else (None, confidence)
    together = sum(float(r["confidence"]) for r in ranking if section_of.get(str(r["name"])) == section)
    elsewhere = max(
        (float(r["confidence"]) for r in ranking if section_of.get(str(r["name"])) != section), default=0.0
    )
    if together >= threshold and together - elsewhere >= margin:
        return best, min(together, 1.0)
    return None, together


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AnswerConfidence(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"threshold": 0.5, "ambiguity_margin": 0.1}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.threshold = float(config["threshold"])
        self.margin = float(config["ambiguity_margin"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerConfidence:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        sections = {key: answer.sections[0] for key, answer in content.answers().items()}
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            intent, confidence = decide(ranking, self.threshold, self.margin, sections)
            if not ranking and (message.get(INTENT) or {}).get("name"):
                continue  # a typed "/intent" payload: Rasa set it at confidence 1
            name = intent or FALLBACK_INTENT
            message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
            if name == URGENT_INTENT:
                others = [r for r in ranking if r.get("name") not in (URGENT_INTENT, FALLBACK_INTENT)]
                other, other_confidence = decide(others, self.threshold, self.margin, sections)
                message.set(
                    ANSWER_IF_NOT_URGENT, {"name": other or FALLBACK_INTENT, "confidence": other_confidence}
                )
        return messages
