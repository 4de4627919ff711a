"""The base of every patient-facing action: checks that run before any reply is chosen.

Order, on every turn: red-flag symptoms (urgent guidance only, at its level) -> input the Rasa
server marked unanswerable (components/input_guard.py: empty, too long, markup, not English,
gibberish) -> low confidence -> the action's own reply. A subclass only writes `reply`.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.content import ANSWERS, TOPICS
from actions.settings import (ANSWER_CONFIDENCE_THRESHOLD, CLARIFY_MAX_CHOICES,
                              CLARIFY_MIN_CONFIDENCE, URGENT_INTENT)

# Entities our Rasa server components add (components/red_flag_detector.py, input_guard.py).
RED_FLAG_ENTITY, URGENCY_ENTITY, INPUT_PROBLEM_ENTITY = "red_flag", "urgency", "input_problem"
URGENCY_LEVELS = ("emergency", "same_day")  # most urgent first; utter_urgent_<level>
# An input problem whose reply also offers the topics.
PROBLEMS_WITH_TOPICS = {"not_understood"}


def topic_choices() -> List[replies.Choice]:
    """The topic menu: one choice per section of the document, leading to its overview answer."""
    return [(topic.label, f"/{topic.answer_key}") for topic in TOPICS]


def something_else(domain: Dict[Text, Any]) -> replies.Choice:
    """The last choice of "did you mean": the topics and the clinic's contact."""
    return (replies.response_text(domain, "utter_something_else", None), "/help_topics")


def candidate_answers(tracker: Tracker) -> List[Text]:
    """The answers NLU hesitated between, best first (for "did you mean")."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    keys = [r["name"] for r in ranking
            if r.get("name") in ANSWERS and r.get("confidence", 0) >= CLARIFY_MIN_CONFIDENCE]
    return keys[:CLARIFY_MAX_CHOICES]


def entity_values(tracker: Tracker, entity: Text) -> List[Text]:
    return [e["value"] for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


def send_fallback(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    """Not sure: offer the likely questions ("did you mean"), else the topics."""
    candidates = candidate_answers(tracker)
    if candidates:
        choices = [(ANSWERS[k].title, f"/{k}") for k in candidates] + [something_else(domain)]
        replies.send(dispatcher, tracker, domain, "utter_clarify", kind="clarify", choices=choices)
    else:
        replies.send(dispatcher, tracker, domain, "utter_fallback", kind="fallback",
                     choices=topic_choices())


def send_input_problem(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any],
                       problem: Text) -> None:
    """Input we cannot answer as written: say why (utter_<problem>)."""
    choices = topic_choices() if problem in PROBLEMS_WITH_TOPICS else ()
    replies.send(dispatcher, tracker, domain, f"utter_{problem}", kind="fallback", choices=choices,
                 input_problem=problem)


def send_urgent(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    """Urgent guidance at the most urgent level found (same day when no level was given)."""
    levels = entity_values(tracker, URGENCY_ENTITY)
    level = next((lvl for lvl in URGENCY_LEVELS if lvl in levels), "same_day")
    replies.send(dispatcher, tracker, domain, f"utter_urgent_{level}", kind="urgent",
                 urgency=level, red_flags=entity_values(tracker, RED_FLAG_ENTITY))


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
        problems = entity_values(tracker, INPUT_PROBLEM_ENTITY)
        if latest_intent(tracker).get("name") == URGENT_INTENT:  # safety before anything else
            send_urgent(dispatcher, tracker, domain)
        elif problems:
            send_input_problem(dispatcher, tracker, domain, problems[0])
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
