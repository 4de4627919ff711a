"""Our `action_default_fallback`: NLU below the confidence threshold, unanswerable input, or no
rule applies. It replaces Rasa's default, which would send a bare `utter_default` without the
disclaimer."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction, send_fallback


class ActionDefaultFallback(PatientAction):
    def name(self) -> str:
        return "action_default_fallback"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        send_fallback(dispatcher, tracker, domain)
