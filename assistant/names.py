"""The names that several parts of the code must agree on. Each has its home here."""

from __future__ import annotations

from typing import FrozenSet

# Set by nlu/red_flag_detector.py (the patterns or the urgency classifier) for red-flag
# symptoms; answered only with the urgent guidance.
URGENT_INTENT = "report_urgent_symptom"
# Rasa's own intent for "not sure": below the confidence threshold, or unanswerable input.
FALLBACK_INTENT = "nlu_fallback"
# Deflected, each answered by utter_<intent> (actions/deflect.py).
DEFLECTION_INTENTS: FrozenSet[str] = frozenset({"out_of_scope", "out_of_scope_medical", "personal_advice"})
# Small talk, each answered by utter_<intent> (actions/smalltalk.py).
SMALLTALK_INTENTS: FrozenSet[str] = frozenset({"greet", "goodbye", "thanks", "bot_identity"})
GREET_INTENT = "greet"
HELP_TOPICS_INTENT = "help_topics"
# "Forget me": asked (forget_me), then confirmed (forget_me_confirmed: the Yes choice, or an SMS
# opt-out) before the conversation is deleted (actions/forget_me.py).
FORGET_ME_CONFIRMED_INTENT = "forget_me_confirmed"
FORGET_ME_CANCELLED_INTENT = "forget_me_cancelled"
# The step that deletes: action_forget_me sets this slot (an event of the turn), and the tracker
# store (stores/tracker_store.py) deletes the conversation instead of saving it.
FORGET_CONVERSATION_SLOT = "forget_conversation"
# Where a channel puts its id of the patient's message in the stored metadata (stores/tracker_store.py).
MESSAGE_ID_KEY = "message_id"
# Intents whose reply is not a curated answer and that should not count as one in evaluation.
NOT_ANSWERED_INTENTS: FrozenSet[str] = DEFLECTION_INTENTS | {FALLBACK_INTENT}

# Entities our Rasa server components add to a parsed message.
RED_FLAG_ENTITY = "red_flag"  # which red-flag symptom (nlu/red_flag_detector.py)
URGENCY_ENTITY = "urgency"  # its level: one of URGENCY_LEVELS
INPUT_PROBLEM_ENTITY = "input_problem"  # why the text cannot be answered (nlu/input_guard.py)
URGENCY_LEVELS = ("emergency", "same_day")  # most urgent first; answered by utter_urgent_<level>


def payload(intent: str) -> str:
    """The button payload that triggers `intent` directly (Rasa's "/intent" syntax)."""
    return f"/{intent}"
