"""SMS through our Twilio connector: real Twilio-format form posts, signed the way Twilio signs
them (twilio's RequestValidator), against the real servers."""

from __future__ import annotations

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.helpers import (
    CLINIC_ENV,
    PRIVACY_NOTICE,
    SMS_DISCLAIMER,
    SMS_EMERGENCY_ROUTE,
    TWILIO_AUTH_TOKEN,
    TWILIO_PUBLIC_URL,
    post_sms,
    sms_replies,
    twilio_form,
)

_numbers = iter(range(7700900100, 7700900999))


@pytest.fixture
def phone() -> str:
    return f"+44{next(_numbers)}"


def test_signed_question_gets_one_short_sms_with_answer_and_disclaimer(stack, phone):
    replies = sms_replies(post_sms(stack, twilio_form(phone, "how long until I can go home?")))
    assert len(replies) == 1
    text = replies[0]
    assert len(text) <= 320, len(text)
    assert text.count(SMS_DISCLAIMER) == 1
    assert "go home the same day or the next day" in text
    assert text.endswith(PRIVACY_NOTICE)  # first message from this number


def test_privacy_notice_only_on_first_contact(stack, phone):
    sms_replies(post_sms(stack, twilio_form(phone, "hi")))
    text = sms_replies(post_sms(stack, twilio_form(phone, "what are the risks?")))[0]
    assert PRIVACY_NOTICE not in text
    assert "infection" in text and len(text) <= 320


def test_a_first_emergency_sms_fits_one_segment_and_the_notice_comes_next(stack, phone):
    urgent = sms_replies(post_sms(stack, twilio_form(phone, "i cant breathe properly, op was tuesday")))
    assert urgent[0].startswith(f"Urgent: call {CLINIC_ENV['EMERGENCY_NUMBER']} now")
    assert urgent[0].endswith(SMS_DISCLAIMER) and len(urgent[0]) <= 160, len(urgent[0])
    assert PRIVACY_NOTICE not in urgent[0]
    assert sms_replies(post_sms(stack, twilio_form(phone, "thanks")))[0].endswith(PRIVACY_NOTICE)


def test_a_reply_that_cannot_answer_names_the_emergency_route_before_the_disclaimer(stack, phone):
    text = sms_replies(post_sms(stack, twilio_form(phone, "blorp fizzle wug")))[0]
    route = SMS_EMERGENCY_ROUTE.format(emergency_number=CLINIC_ENV["EMERGENCY_NUMBER"])
    assert f"\n{route}\n{SMS_DISCLAIMER}\n" in text and len(text) <= 320


@pytest.mark.parametrize(
    "question",
    [
        "will it hurt after?",
        "what is a dural tear",
        "can i eat before the op",
        "how do i look after the incision",
        "is it safer than open surgery",
    ],
)
def test_every_sms_answer_fits_one_text(stack, phone, question):
    text = sms_replies(post_sms(stack, twilio_form(phone, question)))[0]
    assert len(text) <= 320 and text.count(SMS_DISCLAIMER) == 1


def test_numbered_options_and_replying_with_a_number(stack, phone):
    menu = sms_replies(post_sms(stack, twilio_form(phone, "HELP")))[0]
    assert CLINIC_ENV["CLINIC_PHONE"] in menu
    assert "topic number" in menu and "\n6 Risks\n" in menu
    answer = sms_replies(post_sms(stack, twilio_form(phone, "6")))[0]
    assert "As with any surgery there are risks" in answer


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "CANCEL", "END", "QUIT", "STOPALL"])
def test_opt_out_words_get_no_bot_reply(stack, phone, word):
    assert sms_replies(post_sms(stack, twilio_form(phone, word))) == []


@pytest.mark.parametrize(
    "sign_for, token",
    [
        (None, TWILIO_AUTH_TOKEN),  # unsigned
        (TWILIO_PUBLIC_URL, "not-the-auth-token-000000000000000"),  # forged
        ("https://attacker.example/webhooks/twilio/webhook", TWILIO_AUTH_TOKEN),
    ],  # replayed elsewhere
    ids=["unsigned", "forged", "replayed-to-another-url"],
)
def test_requests_not_signed_for_our_url_are_refused(stack, phone, sign_for, token):
    r = post_sms(
        stack, twilio_form(phone, "what is endoscopic spine surgery?"), sign_for=sign_for, token=token
    )
    assert r.status_code == 403
    assert "X-Twilio-Signature" in r.text


def test_tampered_body_is_refused(stack, phone):
    form = twilio_form(phone, "hello")
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(TWILIO_PUBLIC_URL, form)
    form["Body"] = "text our premium number"
    r = requests.post(
        f"{stack.url}/webhooks/twilio/webhook",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=30,
    )
    assert r.status_code == 403


def test_media_only_and_missing_body_get_a_polite_reply(stack, phone):
    media = twilio_form(
        phone, "", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg"
    )
    assert "didn't receive any text" in sms_replies(post_sms(stack, media))[0]
    assert "didn't receive any text" in sms_replies(post_sms(stack, twilio_form(phone, None)))[0]


def test_malformed_requests_get_a_4xx(stack, phone):
    no_from = twilio_form(phone, "hi")
    del no_from["From"]
    assert post_sms(stack, no_from).status_code == 400
    garbage = requests.post(
        f"{stack.url}/webhooks/twilio/webhook",
        data=b"\xff\xfe%%%=&&\x00",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "abc"},
        timeout=30,
    )
    assert garbage.status_code == 403


def test_phone_numbers_never_reach_the_tracker_store_or_logs(stack):
    number = "+447700900777"
    sms_replies(post_sms(stack, twilio_form(number, "will I need physical therapy?")))
    sms_replies(post_sms(stack, twilio_form(number, "thanks")))
    digits = number.lstrip("+")
    rows = stack.sql("SELECT sender_id, data FROM events")
    assert rows and not any(digits in (sender or "") + (data or "") for sender, data in rows)
    assert any(sender.startswith("sms-") for sender, _ in rows)
    for log in stack.logs():
        assert digits not in log.read_text(errors="replace"), log.name
