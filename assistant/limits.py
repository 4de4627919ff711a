"""Every limit on what a client may send, in one place. Our channels (channels/) apply them
before a message reaches NLU, so that one oversized or malformed request cannot slow the
assistant down for every other patient."""

from __future__ import annotations

import re

# A request body larger than this is refused with 413, on every route of the Rasa server.
MAX_REQUEST_BYTES = 64 * 1024
# A socket.io packet larger than this closes the connection (python-socketio's buffer).
MAX_SOCKET_MESSAGE_BYTES = 16 * 1024
# Text beyond this is not read at all (NLU, red flags): it is cut before NLU, and the patient is
# asked for a shorter message (nlu/input_guard.py asks above its own, lower limit).
MAX_TEXT_CHARS = 4000
# Metadata a client may attach to a REST message (kept in the tracker store with it).
MAX_METADATA_KEYS = 10
MAX_METADATA_BYTES = 1024
# Conversation ids a REST client may use; each channel prefixes its own ids (no shared space).
SENDER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
# A client's id for one message (REST `message_id`, the widget's): a retry with it is answered
# once (channels/inbound.py). Twilio's MessageSid is 34 characters.
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")


def valid_sender_id(sender: str) -> bool:
    """The whole id matches (fullmatch: `$` would also accept a final newline)."""
    return SENDER_ID.fullmatch(sender) is not None


def valid_message_id(message_id: str) -> bool:
    return MESSAGE_ID.fullmatch(message_id) is not None


# Twilio's SMS webhook: a form of a few fields.
MAX_SMS_FORM_BYTES = 16 * 1024

# The web chat (channels/socketio.py): what one socket, and one address, may do. A message over
# these gets a "too quickly" warning instead of a turn; SOCKET_STRIKES of those disconnect it.
SOCKET_MESSAGES_PER_SECOND = 1.0  # sustained; a patient types far slower
SOCKET_BURST = 5  # quick clicks on the topic buttons
SOCKET_QUEUED_TURNS = 2  # a socket's turns waiting or running at once
SOCKET_STRIKES = 20
ADDRESS_MESSAGES_PER_SECOND = 10.0  # every socket of one address together (a household, a NAT)
ADDRESS_BURST = 30
ADDRESS_CONNECTIONS = 20
SOCKETS_PER_CONVERSATION = 3  # a patient's open tabs; one more gets a conversation of its own
