"""How each channel renders our channel-neutral messages, and what it keeps out of the record."""

from __future__ import annotations

from connectors.socketio import markdown_line_breaks
from connectors.twilio_sms import MAX_SMS_CHARS, conversation_id, fit_sms, render_sms
from tests.helpers import EMERGENCY_ROUTE, SMS_DISCLAIMER

BUTTONS = [
    {"title": "Recovery", "payload": "/recovery_time"},
    {"title": "Risks", "payload": "/risks_overview"},
]


def test_sms_numbers_the_choices_before_the_disclaimer():
    closing = f"{EMERGENCY_ROUTE}\n{SMS_DISCLAIMER}"
    message = {"text": f"Did you mean (text a number):\n{closing}", "buttons": BUTTONS, "closing": closing}
    assert render_sms(message) == f"Did you mean (text a number):\n1 Recovery\n2 Risks\n{closing}"


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
