"""Follow-ups ("tell me more", "what does that mean?") use the topic of the last answer."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_question import send_answer
from actions.base import PatientAction
from actions.dispatch import answer_buttons, send, something_else, topic_buttons
from assistant import content, settings
from assistant.replies import Kind


def last_answer_key(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("answer_key"):
            return str(event["metadata"]["answer_key"])
    return None


class ActionFollowUp(PatientAction):
    def name(self) -> str:
        return "action_follow_up"

    def reply(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], intent: str | None
    ) -> None:
        last = last_answer_key(tracker)
        if last is None:  # nothing to follow up: the topics
            send(dispatcher, tracker, domain, "utter_follow_up_none", Kind.TOPICS, topic_buttons())
            return
        overview = content.overview_of(last)
        if overview != last:
            send_answer(dispatcher, tracker, domain, overview)
            return
        related = content.related_answers(last)[: settings.CLARIFY_MAX_CHOICES]
        send(
            dispatcher,
            tracker,
            domain,
            "utter_follow_up_related",
            Kind.CLARIFY,
            answer_buttons(related) + [something_else(domain)],
        )
