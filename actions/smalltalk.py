"""Greeting, goodbye, thanks and "are you a bot?"."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction, send_fallback
from actions.dispatch import send, topic_buttons
from assistant.names import GREET_INTENT, SMALLTALK_INTENTS
from assistant.replies import Kind


class ActionSmalltalk(PatientAction):
    def name(self) -> str:
        return "action_smalltalk"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        if intent not in SMALLTALK_INTENTS:
            send_fallback(dispatcher, tracker, domain)
        else:
            # The greeting opens the web chat: it offers the topics straight away.
            buttons = topic_buttons() if intent == GREET_INTENT else []
            send(dispatcher, tracker, domain, f"utter_{intent}", Kind.SMALLTALK, buttons)
