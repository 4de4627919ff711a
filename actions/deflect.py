"""Questions we must not answer from content: off-topic, not in the document, personal advice."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction, send_fallback
from actions.dispatch import send
from assistant.names import DEFLECTION_INTENTS
from assistant.replies import Kind


class ActionDeflect(PatientAction):
    def name(self) -> str:
        return "action_deflect"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        if intent not in DEFLECTION_INTENTS:
            send_fallback(dispatcher, tracker, domain)
        else:
            send(dispatcher, tracker, domain, f"utter_{intent}", Kind.OUT_OF_SCOPE)
