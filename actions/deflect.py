"""Questions we must not answer from content: off-topic, not in the document, personal advice."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.base import PatientAction, send_fallback

DEFLECTED_INTENTS = {"out_of_scope", "out_of_scope_medical", "personal_advice"}  # each answered by utter_<intent>


class ActionDeflect(PatientAction):
    def name(self) -> Text:
        return "action_deflect"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        intent: Optional[Text],
    ) -> None:
        if intent not in DEFLECTED_INTENTS:
            send_fallback(dispatcher, tracker, domain)
        else:
            replies.send(dispatcher, tracker, domain, f"utter_{intent}", kind="out_of_scope")
