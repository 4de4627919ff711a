"""Greeting, goodbye, thanks and "are you a bot?"."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.base import PatientAction, send_fallback, topic_choices

SMALLTALK_INTENTS = {"greet", "goodbye", "thanks", "bot_identity"}  # each answered by utter_<intent>


class ActionSmalltalk(PatientAction):
    def name(self) -> Text:
        return "action_smalltalk"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        intent: Optional[Text],
    ) -> None:
        if intent not in SMALLTALK_INTENTS:
            send_fallback(dispatcher, tracker, domain)
        else:
            # The greeting opens the web chat: it offers the topics straight away.
            choices = topic_choices() if intent == "greet" else ()
            replies.send(dispatcher, tracker, domain, f"utter_{intent}", kind="smalltalk", choices=choices)
