"""The reply model: what a message of ours is, before any channel renders it.

Every message the assistant sends is composed here (by the actions, and by the Rasa server when
the action server cannot answer), so that
- its wording comes from domain.yml (with the channel's `channel:` variation, if any), the
  clinic's details filled in;
- its closing lines are carried as their own part (`closing`, beside the `body` before them) as
  well as in the whole `text`: the emergency route (utter_emergency_route) on every reply that
  does not answer, then the surgeon disclaimer (utter_disclaimer), the last line, exactly once,
  in the same message (channels split messages on blank lines, so lines are joined by single
  line breaks). A channel that places something between them (SMS: numbered choices) joins the
  parts; it never searches the text for the disclaimer;
- choices are buttons; each channel renders them (channels/: buttons on the web, numbered
  options by SMS) and its line breaks;
- `kind` (and for answers `answer_key` and `sections`, for urgent guidance `urgency` and
  `red_flags`, for unanswerable input `input_problem`) travel as metadata: the audit trail in
  the tracker store, and what the REST channel returns beside the text.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from assistant import settings

DISCLAIMER_RESPONSE = "utter_disclaimer"
EMERGENCY_ROUTE_RESPONSE = "utter_emergency_route"
UNAVAILABLE_RESPONSE = "utter_unavailable"
SOMETHING_ELSE_RESPONSE = "utter_something_else"
SMS_PRIVACY_NOTICE_RESPONSE = "utter_sms_privacy_notice"

Responses = Mapping[str, List[Dict[str, Any]]]  # domain.yml's `responses`
Button = Tuple[str, str]  # (title shown to the patient, payload such as "/hospital_stay")


class Kind(str, Enum):
    """What a message is, recorded with it."""

    ANSWER = "answer"  # a curated answer
    CLARIFY = "clarify"  # "did you mean", or related questions to choose from
    TOPICS = "topics"  # the topic menu
    FALLBACK = "fallback"  # not sure, or input we cannot answer as written
    OUT_OF_SCOPE = "out_of_scope"  # a deflection
    URGENT = "urgent"  # urgent guidance for red-flag symptoms
    SMALLTALK = "smalltalk"  # greeting, thanks, goodbye, "are you a bot?"
    CONFIRM = "confirm"  # asks the patient to confirm ("delete this conversation?")
    FORGOTTEN = "forgotten"  # says the conversation is deleted (the deletion: names.FORGET_CONVERSATION_SLOT)
    UNAVAILABLE = "unavailable"  # the action server could not answer


# Replies that do not answer: whatever the patient meant, they end with the emergency route (a
# message we did not understand may be an emergency we did not recognise). Urgent guidance and
# "unavailable" say it in their own words.
SAFETY_NET_KINDS = frozenset({Kind.CLARIFY, Kind.TOPICS, Kind.FALLBACK, Kind.OUT_OF_SCOPE})

# Metadata keys that belong to the patient-facing record of a message (the rest of a BotUttered
# event's metadata is Rasa's own).
# The parts of a composed message a channel places itself (its whole `text` holds them too).
REPLY_PARTS = ("body", "closing")
REPLY_METADATA = ("kind", "answer_key", "sections", "urgency", "red_flags", "input_problem")


def response_text(responses: Responses, name: str, channel: str | None) -> str:
    """The text of a domain response, preferring the variation for `channel`."""
    variations = responses[name]
    for_channel = [v for v in variations if channel and v.get("channel") == channel]
    generic = [v for v in variations if not v.get("channel")]
    return str((for_channel or generic)[0]["text"]).strip().format_map(settings.clinic_contact())


def disclaimer(responses: Responses, channel: str | None) -> str:
    return response_text(responses, DISCLAIMER_RESPONSE, channel)


def closing(responses: Responses, channel: str | None, kind: Kind) -> str:
    """The closing lines of a message of this kind: the emergency route where it does not
    answer, then the disclaimer."""
    names = [EMERGENCY_ROUTE_RESPONSE] if kind in SAFETY_NET_KINDS else []
    return "\n".join(response_text(responses, name, channel) for name in [*names, DISCLAIMER_RESPONSE])


def compose(
    responses: Responses,
    channel: str | None,
    response_name: str,
    kind: Kind,
    buttons: Sequence[Button] = (),
    then: Sequence[str] = (),
    **metadata: Any,
) -> Dict[str, Any]:
    """One message: the response's text (then the `then` responses) as `body`, its closing lines
    as `closing`, both joined as `text`; buttons, metadata. Channel neutral: lines are joined by
    "\\n", buttons stay buttons."""
    lines = [response_text(responses, name, channel) for name in (response_name, *then)]
    body = "\n".join(line.rstrip() for line in lines)
    ending = closing(responses, channel, Kind(kind))
    message: Dict[str, Any] = {
        "text": "\n".join([body, ending]),
        "body": body,
        "closing": ending,
        "kind": Kind(kind).value,
        **metadata,
    }
    if buttons:
        message["buttons"] = [{"title": title, "payload": payload} for title, payload in buttons]
    return message


def unavailable(responses: Responses, channel: str | None) -> Dict[str, Any]:
    """What the patient gets when the action server cannot answer: clinic and emergency contact."""
    return compose(responses, channel, UNAVAILABLE_RESPONSE, Kind.UNAVAILABLE)


def reply_metadata(message: Mapping[str, Any]) -> Dict[str, Any]:
    """The patient-facing record of a sent message: its kind and what it was about."""
    return {key: message[key] for key in REPLY_METADATA if message.get(key) is not None}
