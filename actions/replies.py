"""Sending a reply: the one place where the surgeon disclaimer (utter_disclaimer) is added.

Every message the assistant sends is built by `compose` (and sent by `send`), which
- picks the response text for the patient's channel (`channel:` variations in domain.yml) and
  fills in the clinic's details,
- adds the responses that go with it (the "when to get help" line after some answers),
- appends the disclaimer exactly once, in the same message (channels split messages on blank
  lines, so lines are joined by single line breaks),
- turns choices into buttons, or numbered options over SMS (connectors/twilio_sms.py maps a
  numeric reply back to its choice),
- records `kind` (and for answers `answer_key` and `sections`) in the BotUttered metadata: the
  audit trail of what each patient was told.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import review_queue
from actions.settings import CLINIC_CONTACT

DISCLAIMER_RESPONSE = "utter_disclaimer"

KINDS = {"answer", "clarify", "fallback", "out_of_scope", "urgent", "smalltalk", "unavailable"}

SMS_CHANNEL = "twilio"
# The web widget renders Markdown, where a plain newline is not a line break.
LINE_BREAKS = {"socketio": "  \n"}

Choice = Tuple[Text, Text]  # (title shown to the patient, payload such as "/hospital_stay")


def response_text(domain: Dict[Text, Any], response_name: Text, channel: Optional[Text]) -> Text:
    """The text of a domain response, preferring the variation for `channel`."""
    variations = domain["responses"][response_name]
    for_channel = [v for v in variations if channel and v.get("channel") == channel]
    generic = [v for v in variations if not v.get("channel")]
    return (for_channel or generic)[0]["text"].strip().format_map(CLINIC_CONTACT)


def disclaimer(domain: Dict[Text, Any], channel: Optional[Text]) -> Text:
    return response_text(domain, DISCLAIMER_RESPONSE, channel)


def compose(
    domain: Dict[Text, Any],
    channel: Optional[Text],
    response_name: Text,
    kind: Text,
    choices: Sequence[Choice] = (),
    then: Sequence[Text] = (),
    **metadata: Any,
) -> Dict[Text, Any]:
    """The message to send: text (then the `then` responses) with the disclaimer, buttons or
    numbered options, metadata."""
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}")
    lines: List[Text] = [response_text(domain, name, channel) for name in (response_name, *then)]
    message: Dict[Text, Any] = {"kind": kind, **metadata}
    if choices and channel == SMS_CHANNEL:
        lines += [f"{n} {title}" for n, (title, _) in enumerate(choices, start=1)]
        message["options"] = [payload for _, payload in choices]  # lets "2" mean the 2nd choice
    elif choices:
        message["buttons"] = [{"title": title, "payload": payload} for title, payload in choices]
    lines.append(disclaimer(domain, channel))
    message["text"] = LINE_BREAKS.get(channel or "", "\n").join(line.rstrip() for line in lines)
    return message


def send(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: Dict[Text, Any],
    response_name: Text,
    kind: Text,
    choices: Sequence[Choice] = (),
    then: Sequence[Text] = (),
    **metadata: Any,
) -> None:
    """Send one message for the patient's latest channel; queue unanswered ones for review."""
    message = compose(domain, tracker.get_latest_input_channel(), response_name, kind, choices,
                      then, **metadata)
    dispatcher.utter_message(**message)
    review_queue.record(tracker.latest_message.get("text"), kind,
                        (tracker.latest_message.get("intent") or {}).get("name"))
