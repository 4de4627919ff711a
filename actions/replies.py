"""Sending a reply: the one place where the surgeon disclaimer is added.

Every action sends through `send`, which
- picks the response text for the patient's channel (`channel:` variations in domain.yml),
- appends the disclaimer exactly once, in the same message (channels split messages on blank
  lines, so the two are joined by a single newline),
- records `kind` (and for answers `answer_key` and `sections`) in the BotUttered metadata: the
  audit trail of what each patient was told.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DISCLAIMER = (
    "General information only, not medical advice: please consult your surgeon about your own care."
)

KINDS = {"answer", "clarify", "fallback", "out_of_scope", "urgent", "smalltalk", "unavailable"}


def response_text(domain: Dict[Text, Any], response_name: Text, channel: Optional[Text]) -> Text:
    """The text of a domain response, preferring the variation for `channel`."""
    variations = domain["responses"][response_name]
    for_channel = [v for v in variations if channel and v.get("channel") == channel]
    generic = [v for v in variations if not v.get("channel")]
    return (for_channel or generic)[0]["text"].strip()


def with_disclaimer(text: Text) -> Text:
    return f"{text.rstrip()}\n{DISCLAIMER}"


def send(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: Dict[Text, Any],
    response_name: Text,
    kind: Text,
    extra_lines: Iterable[Text] = (),
    **metadata: Any,
) -> None:
    """Send one message: the response text, any extra lines, then the disclaimer."""
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}")
    channel = tracker.get_latest_input_channel()
    lines: List[Text] = [response_text(domain, response_name, channel), *extra_lines]
    dispatcher.utter_message(text=with_disclaimer("\n".join(lines)), kind=kind, **metadata)
