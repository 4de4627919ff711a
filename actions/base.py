"""The base of every patient-facing action: checks that run before any reply is chosen.

Order, on every turn: red-flag symptoms (urgent guidance only, at its level) -> input the Rasa
server marked unanswerable (nlu/input_guard.py: empty, too long, markup, not English,
gibberish) -> the action's own reply. A subclass only writes `reply`. Whether to answer at all is
decided once, in the Rasa server (nlu/answer_confidence.py: not sure becomes `nlu_fallback`,
which the rules send to action_default_fallback); the actions trust that decision.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dispatch import answer_buttons, send, something_else, topic_buttons
from assistant import content, settings
from assistant.names import (
    INPUT_PROBLEM_ENTITY,
    RED_FLAG_ENTITY,
    URGENCY_ENTITY,
    URGENCY_LEVELS,
    URGENT_INTENT,
)
from assistant.replies import Kind

# Input problems whose reply also offers the topics.
PROBLEMS_WITH_TOPICS = {"not_understood"}


def candidate_answers(tracker: Tracker) -> List[str]:
    """The answers NLU hesitated between, best first (for "did you mean")."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    keys = [
        r["name"]
        for r in ranking
        if r.get("name") in content.answers() and r.get("confidence", 0) >= settings.CLARIFY_MIN_CONFIDENCE
    ]
    return keys[: settings.CLARIFY_MAX_CHOICES]


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    return [e["value"] for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


def send_fallback(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> None:
    """Not sure: offer the likely questions ("did you mean", at least two real choices), else the
    topics."""
    candidates = candidate_answers(tracker)
    if len(candidates) >= settings.CLARIFY_MIN_CHOICES:
        send(
            dispatcher,
            tracker,
            domain,
            "utter_clarify",
            Kind.CLARIFY,
            answer_buttons(candidates) + [something_else(domain)],
        )
    else:
        send(dispatcher, tracker, domain, "utter_fallback", Kind.FALLBACK, topic_buttons())


def send_input_problem(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], problem: str
) -> None:
    """Input we cannot answer as written: say why (utter_<problem>)."""
    buttons = topic_buttons() if problem in PROBLEMS_WITH_TOPICS else []
    send(dispatcher, tracker, domain, f"utter_{problem}", Kind.FALLBACK, buttons, input_problem=problem)


def send_urgent(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> None:
    """Urgent guidance at the most urgent level found (same day when no level was given)."""
    levels = entity_values(tracker, URGENCY_ENTITY)
    level = next((lvl for lvl in URGENCY_LEVELS if lvl in levels), "same_day")
    send(
        dispatcher,
        tracker,
        domain,
        f"utter_urgent_{level}",
        Kind.URGENT,
        urgency=level,
        red_flags=entity_values(tracker, RED_FLAG_ENTITY),
    )


def latest_intent(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


class PatientAction(Action, metaclass=ABCMeta):
    """Runs the shared checks, then the subclass's `reply`."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        problems = entity_values(tracker, INPUT_PROBLEM_ENTITY)
        if latest_intent(tracker).get("name") == URGENT_INTENT:  # safety before anything else
            send_urgent(dispatcher, tracker, domain)
        elif problems:
            send_input_problem(dispatcher, tracker, domain, problems[0])
        else:
            self.reply(dispatcher, tracker, domain, latest_intent(tracker).get("name"))
        return []

    @abstractmethod  # abstract, so rasa-sdk does not register this base class as an action
    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        intent: str | None,
    ) -> None:
        """Send this action's reply through `dispatch.send`."""
