"""Sending a reply from an action: composed by assistant/replies.py for the patient's channel,
sent through the dispatcher, and, when the assistant could not answer, recorded for review."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import content
from assistant.names import HELP_TOPICS_INTENT, payload
from assistant.replies import SOMETHING_ELSE_RESPONSE, Button, Kind, compose, response_text
from stores import review_queue


def send(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: Dict[str, Any],
    response_name: str,
    kind: Kind,
    buttons: Sequence[Button] = (),
    then: Sequence[str] = (),
    **metadata: Any,
) -> None:
    """Send one message; queue unanswered ones for review."""
    message = compose(
        domain["responses"],
        tracker.get_latest_input_channel(),
        response_name,
        kind,
        buttons,
        then,
        **metadata,
    )
    dispatcher.utter_message(**message)
    review_queue.record(
        tracker.latest_message.get("text"),
        Kind(kind),
        (tracker.latest_message.get("intent") or {}).get("name"),
        tracker.sender_id,
    )


def topic_buttons() -> List[Button]:
    """The topic menu: one choice per section of the document, leading to its overview answer."""
    return [(topic.label, payload(topic.answer_key)) for topic in content.topics()]


def answer_buttons(keys: Sequence[str]) -> List[Button]:
    return [(content.answers()[key].title, payload(key)) for key in keys]


def something_else(domain: Dict[str, Any]) -> Button:
    """The last choice of "did you mean" and related questions: the topics and the clinic."""
    return (response_text(domain["responses"], SOMETHING_ELSE_RESPONSE, None), payload(HELP_TOPICS_INTENT))
