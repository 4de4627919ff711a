"""Follow-ups ("tell me more", "what does that mean?") use the topic of the last answer."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.answer_question import send_answer
from actions.base import PatientAction, something_else, topic_choices
from actions.content import ANSWERS, TOPICS
from actions.settings import CLARIFY_MAX_CHOICES


def last_answer_key(tracker: Tracker) -> Optional[Text]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("answer_key"):
            return event["metadata"]["answer_key"]
    return None


def related_answers(key: Text) -> List[Text]:
    """Other answers about the same part of the document, the overview first."""
    section = ANSWERS[key].sections[0]
    return [k for k, a in ANSWERS.items() if k != key and a.sections[0] == section]


class ActionFollowUp(PatientAction):
    def name(self) -> Text:
        return "action_follow_up"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any],
              intent: Optional[Text]) -> None:
        last = last_answer_key(tracker)
        if last is None:
            replies.send(dispatcher, tracker, domain, "utter_follow_up_none", kind="clarify",
                         choices=topic_choices())
            return
        overview = next(t.answer_key for t in TOPICS if t.section == ANSWERS[last].sections[0])
        if overview != last:
            send_answer(dispatcher, tracker, domain, overview)
            return
        choices = [(ANSWERS[k].title, f"/{k}") for k in related_answers(last)[:CLARIFY_MAX_CHOICES]]
        replies.send(dispatcher, tracker, domain, "utter_follow_up_related", kind="clarify",
                     choices=choices + [something_else(domain)])
