"""The topic menu ("help", "what can you do?", and "Something else" after "did you mean")."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction
from actions.dispatch import send, topic_buttons
from assistant.replies import Kind


class ActionShowTopics(PatientAction):
    def name(self) -> str:
        return "action_show_topics"

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        send(dispatcher, tracker, domain, "utter_help_topics", Kind.TOPICS, topic_buttons())
