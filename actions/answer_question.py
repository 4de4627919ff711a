"""Answer intents: send the curated answer for the question the patient asked."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.base import PatientAction, send_fallback
from actions.content import ANSWERS


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
        answer = ANSWERS.get(intent or "")
        if answer is None:  # a rule sent an intent here that has no curated answer
            send_fallback(dispatcher, tracker, domain)
            return
        replies.send(
            dispatcher,
            tracker,
            domain,
            answer.response_name,
            kind="answer",
            answer_key=answer.key,
            sections=list(answer.sections),
        )
