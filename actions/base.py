"""The base of every patient-facing action: checks that run before any reply is chosen.

Order, on every turn: unusable input (empty, too long, no words, not English) -> low confidence
-> the action's own reply. A subclass only writes `reply`.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.content import TOPICS
from actions.input_checks import input_problem
from actions.settings import ANSWER_CONFIDENCE_THRESHOLD


def topic_choices() -> List[replies.Choice]:
    """The topic menu: one choice per section of the document, leading to its overview answer."""
    return [(topic.label, f"/{topic.answer_key}") for topic in TOPICS]


def send_fallback(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: Dict[Text, Any],
    response_name: Text = "utter_fallback",
) -> None:
    """Say we are not sure (or why we cannot read the message) and list the topics."""
    choices = topic_choices() if response_name == "utter_fallback" else ()
    replies.send(dispatcher, tracker, domain, response_name, kind="fallback", choices=choices)


def latest_intent(tracker: Tracker) -> Dict[Text, Any]:
    return tracker.latest_message.get("intent") or {}


def is_confident(tracker: Tracker) -> bool:
    """Button payloads and typed intents carry confidence 1.0; classifier output may not."""
    confidence = latest_intent(tracker).get("confidence")
    return confidence is not None and confidence >= ANSWER_CONFIDENCE_THRESHOLD


class PatientAction(Action, metaclass=ABCMeta):
    """Runs the shared checks, then the subclass's `reply`."""

    requires_confidence = True

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        problem = input_problem(tracker.latest_message.get("text"))
        if problem:
            send_fallback(dispatcher, tracker, domain, problem)
        elif self.requires_confidence and not is_confident(tracker):
            send_fallback(dispatcher, tracker, domain)
        else:
            self.reply(dispatcher, tracker, domain, latest_intent(tracker).get("name"))
        return []

    @abstractmethod  # abstract, so rasa-sdk does not register this base class as an action
    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        intent: Optional[Text],
    ) -> None:
        """Send this action's reply through `replies.send`."""
