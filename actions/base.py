"""The base of every patient-facing action: checks that run before any reply is chosen.

Order, on every turn: red-flag symptoms (urgent guidance only) -> unusable input (empty, too
long, no words, not English) -> low confidence -> the action's own reply. A subclass only
writes `reply`.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.content import ANSWERS, TOPICS
from actions.input_checks import input_problem
from actions.settings import (ANSWER_CONFIDENCE_THRESHOLD, CLARIFY_MAX_CHOICES,
                              CLARIFY_MIN_CONFIDENCE, URGENT_INTENT)


def topic_choices() -> List[replies.Choice]:
    """The topic menu: one choice per section of the document, leading to its overview answer."""
    return [(topic.label, f"/{topic.answer_key}") for topic in TOPICS]


SOMETHING_ELSE: replies.Choice = ("Something else", "/help_topics")  # topics + clinic contact


def candidate_answers(tracker: Tracker) -> List[Text]:
    """The answers NLU hesitated between, best first (for "did you mean")."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    keys = [r["name"] for r in ranking
            if r.get("name") in ANSWERS and r.get("confidence", 0) >= CLARIFY_MIN_CONFIDENCE]
    return keys[:CLARIFY_MAX_CHOICES]


def send_fallback(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: Dict[Text, Any],
    response_name: Text = "utter_fallback",
) -> None:
    """Not sure: offer the likely questions ("did you mean"), else the topics. For unreadable
    input (empty, too long...), say why."""
    if response_name != "utter_fallback":
        replies.send(dispatcher, tracker, domain, response_name, kind="fallback")
        return
    candidates = candidate_answers(tracker)
    if candidates:
        choices = [(ANSWERS[k].title, f"/{k}") for k in candidates] + [SOMETHING_ELSE]
        replies.send(dispatcher, tracker, domain, "utter_clarify", kind="clarify", choices=choices)
    else:
        replies.send(dispatcher, tracker, domain, response_name, kind="fallback",
                     choices=topic_choices())



def send_urgent(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    flags = [e["value"] for e in tracker.latest_message.get("entities", []) if e.get("entity") == "red_flag"]
    replies.send(dispatcher, tracker, domain, "utter_urgent", kind="urgent", red_flags=flags)


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
        if latest_intent(tracker).get("name") == URGENT_INTENT:  # safety before anything else
            send_urgent(dispatcher, tracker, domain)
        elif problem:
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
