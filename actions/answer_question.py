"""Answer intents: send the curated answer for the question the patient asked."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction, send_fallback
from actions.dispatch import send
from assistant import content
from assistant.replies import Kind

# A general "who is it for?" that names a condition gets that condition's answer.
GENERAL_INDICATIONS = "who_is_suitable"
WHEN_TO_GET_HELP = "utter_when_to_get_help"


def send_answer(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], key: str) -> None:
    answer = content.answers()[key]
    send(
        dispatcher,
        tracker,
        domain,
        answer.response_name,
        Kind.ANSWER,
        then=[WHEN_TO_GET_HELP] if answer.when_to_get_help else [],
        answer_key=answer.key,
        sections=list(answer.sections),
    )


def named_condition_answer(tracker: Tracker) -> str | None:
    """The answer for the one condition the patient named (entity ruler), if exactly one."""
    keys = {
        content.condition_answers().get(e.get("value", "").lower())
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "condition"
    }
    keys.discard(None)
    return keys.pop() if len(keys) == 1 else None


class ActionAnswerQuestion(PatientAction):
    def name(self) -> str:
        return "action_answer_question"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        key = intent if intent in content.answers() else None
        if key == GENERAL_INDICATIONS:
            key = named_condition_answer(tracker) or key
        if key is None:  # a rule sent an intent here that has no curated answer
            send_fallback(dispatcher, tracker, domain)
        else:
            send_answer(dispatcher, tracker, domain, key)
