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


def test_a_sender_id_with_a_trailing_newline_is_not_valid():
    """Issue 19 (low): `$` also matches before a final newline; the whole id must match."""
    from assistant import limits

    assert limits.valid_sender_id("patient-42")
    for sender in ("patient-42\n", "patient-42\r\n", "", "a" * 65, "two words"):
        assert not limits.valid_sender_id(sender), repr(sender)


def test_text_is_normalised_at_the_channel_boundary():
    """Issue 19 item 8: NFKC, no lone surrogates, no control characters but line breaks and tabs."""
    from channels.inbound import clean_text

    assert clean_text("I can\u2019t feel my legs \ud800") == "I can\u2019t feel my legs"
    assert clean_text("ｆｕｌｌ width\x00\x07 and\u200b\nlines\t") == "full width and\nlines"
    assert clean_text("\udcff\ud83d") == ""
    assert clean_text("what is it? 😀") == "what is it? 😀"


def test_web_chat_tokens_expire():
    """Issue 19 item 10: a token was good for ever; now for WEB_SESSION_HOURS from its issue."""
    import time

    from channels.socketio import SessionIds

    ids = SessionIds("a secret")
    fresh = ids.issue()
    assert ids.conversation(fresh) is not None
    old = ids.issue(now=time.time() - 25 * 3600)
    assert ids.conversation(old) is None
    forged = fresh.rsplit(".", 2)[0] + f".{int(time.time() + 10**6):x}." + fresh.rsplit(".", 1)[1]
    assert ids.conversation(forged) is None  # the time is signed too


def test_the_web_chat_opens_from_this_server_and_the_clinics_site_only(monkeypatch):
    """Issue 20: socket.io had its Origin check off (cors_allowed_origins=[]), and sent no CORS
    headers, so the widget on the clinic's site could not connect and any site could."""
    from channels.socketio import allowed_origin

    monkeypatch.setenv("CLINIC_SITE_ORIGINS", "https://www.Clinic.example:443, http://localhost:8765/")
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "assistant.internal:5005"}
    assert allowed_origin("https://www.clinic.example", environ)
    assert allowed_origin("http://localhost:8765", environ)
    assert allowed_origin("http://assistant.internal:5005", environ)  # its own /chat
    assert allowed_origin(None, environ)  # not a browser: no Origin header
    for other in ("https://clinic.example", "http://localhost:8766", "https://evil.example", "null", "x"):
        assert not allowed_origin(other, environ), other
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")  # behind HAProxy and TLS: the forwarded host
    forwarded = {**environ, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "chat.clinic.example"}
    assert allowed_origin("https://chat.clinic.example", forwarded)
