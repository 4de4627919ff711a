"""Answer intents: send the curated answer for the question the patient asked."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.base import PatientAction, send_fallback
from actions.content import ANSWERS, CONDITION_ANSWERS

# A general "who is it for?" that names a condition gets that condition's answer.
GENERAL_INDICATIONS = "who_is_suitable"


def send_answer(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any],
                key: Text) -> None:
    answer = ANSWERS[key]
    replies.send(dispatcher, tracker, domain, answer.response_name, kind="answer",
                 then=["utter_when_to_get_help"] if answer.when_to_get_help else [],
                 answer_key=answer.key, sections=list(answer.sections))


def named_condition_answer(tracker: Tracker) -> Optional[Text]:
    """The answer for the one condition the patient named (entity ruler), if exactly one."""
    keys = {CONDITION_ANSWERS.get(e.get("value", "").lower())
            for e in tracker.latest_message.get("entities", []) if e.get("entity") == "condition"}
    keys.discard(None)
    return keys.pop() if len(keys) == 1 else None


class ActionAnswerQuestion(PatientAction):
    def name(self) -> Text:
        return "action_answer_question"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        intent: Optional[Text],
    ) -> None:
        key = intent if intent in ANSWERS else None
        if key == GENERAL_INDICATIONS:
            key = named_condition_answer(tracker) or key
        if key is None:  # a rule sent an intent here that has no curated answer
            send_fallback(dispatcher, tracker, domain)
        else:
            send_answer(dispatcher, tracker, domain, key)
