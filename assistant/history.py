"""How much of a conversation a turn reads.

Rasa rebuilds the whole conversation from the tracker store at every turn, and its policies
walk all of it: the cost of a turn grew with the conversation's length. What a turn of ours
needs is recent: the last answer ("tell me more"), the last choices ("did you mean", an SMS "2"),
the last question ("forget me" then "yes"), and the rules' few previous steps. So a turn that a
patient's message starts reads only the newest RECENT_EVENTS events of the current session
(stores/tracker_store.py); the store still keeps every event (the audit trail), and the HTTP
API's conversation history, purge and "forget me" still see all of them.
"""

from __future__ import annotations

import contextvars

# About 15 turns (a turn is usually 4 events: the message, the action, the reply, listening).
RECENT_EVENTS = 60

# Set by our channels (channels/) while they hand a patient's message to Rasa.
reading_recent_history = contextvars.ContextVar("reading_recent_history", default=False)
