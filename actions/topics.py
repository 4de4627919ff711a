"""The topic menu ("help", "what can you do?")."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.base import PatientAction, topic_choices


class ActionShowTopics(PatientAction):
    def name(self) -> Text:
        return "action_show_topics"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        intent: Optional[Text],
    ) -> None:
        replies.send(dispatcher, tracker, domain, "utter_help_topics", kind="smalltalk",
                     choices=topic_choices())
