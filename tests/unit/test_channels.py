"""How each channel renders our channel-neutral messages, and what it keeps out of the record."""

from __future__ import annotations

from channels.socketio import markdown_line_breaks
from channels.twilio_sms import MAX_SMS_CHARS, conversation_id, fit_sms, render_sms
from tests.helpers import EMERGENCY_ROUTE, SMS_DISCLAIMER

BUTTONS = [
    {"title": "Recovery", "payload": "/recovery_time"},
    {"title": "Risks", "payload": "/risks_overview"},
]


def test_sms_numbers_the_choices_before_the_disclaimer():
    closing = f"{EMERGENCY_ROUTE}\n{SMS_DISCLAIMER}"
    body = "Did you mean (text a number):"
    message = {"text": f"{body}\n{closing}", "body": body, "buttons": BUTTONS, "closing": closing}
    assert render_sms(message) == f"{body}\n1 Recovery\n2 Risks\n{closing}"


def test_sms_places_the_parts_it_is_given_without_reading_the_text():
    """The disclaimer is its own part of a composed reply (assistant/replies.py): the SMS channel
    joins body, choices and closing; it does not look for the disclaimer in the text."""
    from assistant.replies import Kind, compose
    from tests.helpers import DOMAIN

    message = compose(
        DOMAIN["responses"], "twilio", "utter_clarify", Kind.CLARIFY, [("Recovery", "/recovery_time")]
    )
    message["text"] = "a text the channel must not need"
    rendered = render_sms(message)
    assert rendered.startswith(message["body"]) and rendered.endswith(message["closing"])
    assert "\n1 Recovery\n" in rendered


def test_sms_without_choices_is_the_text():
    assert (
        render_sms({"text": f"An answer.\n{SMS_DISCLAIMER}", "closing": SMS_DISCLAIMER})
        == f"An answer.\n{SMS_DISCLAIMER}"
    )


def test_an_over_long_sms_is_cut_but_keeps_the_disclaimer():
    text = fit_sms("word " * 1000 + SMS_DISCLAIMER, SMS_DISCLAIMER)
    assert len(text) <= MAX_SMS_CHARS and text.endswith(SMS_DISCLAIMER)


def test_web_line_breaks_are_markdown_hard_breaks():
    assert markdown_line_breaks("An answer.\nThe disclaimer.") == "An answer.  \nThe disclaimer."


def test_sms_conversation_ids_do_not_reveal_the_number():
    first = conversation_id("+447700900123", b"secret")
    assert first == conversation_id(" +447700900123 ", b"secret") and "7700900123" not in first
    assert first != conversation_id("+447700900123", b"another secret")
