""" "Forget me": a patient can have their conversation deleted, on any channel, after confirming.

forget_me -> action_confirm_forget_me asks, with Yes / No choices; then Yes
(forget_me_confirmed, or "yes" typed right after the question) -> action_forget_me deletes their
rows from the review queue, says so (`kind: forgotten`), and sets the forget_conversation slot:
the explicit step on which our tracker store (stores/tracker_store.py) deletes the whole
conversation, that reply included, instead of saving it; No -> action_keep_conversation.
An SMS opt-out (STOP) is deleted by the channel itself, without this action
(channels/inbound.py forget_conversation), so that it works when the action server does not.
(Rules: data/rules.yml.)
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dispatch import send
from assistant.names import (
    FORGET_CONVERSATION_SLOT,
    FORGET_ME_CANCELLED_INTENT,
    FORGET_ME_CONFIRMED_INTENT,
    payload,
)
from assistant.replies import Kind, response_text
from stores import review_queue


class ActionConfirmForgetMe(Action):
    def name(self) -> str:
        return "action_confirm_forget_me"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        responses = domain["responses"]
        buttons = [
            (response_text(responses, "utter_forget_me_yes", None), payload(FORGET_ME_CONFIRMED_INTENT)),
            (response_text(responses, "utter_forget_me_no", None), payload(FORGET_ME_CANCELLED_INTENT)),
        ]
        send(dispatcher, tracker, domain, "utter_forget_me_confirm", Kind.CONFIRM, buttons)
        return []


class ActionForgetMe(Action):
    def name(self) -> str:
        return "action_forget_me"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        review_queue.forget(tracker.sender_id)
        send(dispatcher, tracker, domain, "utter_forgotten", Kind.FORGOTTEN)
        return [SlotSet(FORGET_CONVERSATION_SLOT, True)]


class ActionKeepConversation(Action):
    def name(self) -> str:
        return "action_keep_conversation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        send(dispatcher, tracker, domain, "utter_forget_me_cancelled", Kind.SMALLTALK)
        return []
