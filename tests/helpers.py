"""Helpers shared by the tests: the wording they check against (read from domain.yml, its one
home), the clinic's test configuration, and SMS requests signed the way Twilio signs them."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any, Dict, List

import requests
import yaml
from twilio.request_validator import RequestValidator

from assistant import paths
from assistant.content import examples_by_intent, nlu_examples  # noqa: F401 - for the tests

# The environment a clinic would set, with test values (the bench uses them too).
from scripts.example_clinic import CLINIC_ENV, CLINIC_SITE, TWILIO_AUTH_TOKEN, TWILIO_PUBLIC_URL  # noqa: F401

PROJECT_ROOT = paths.PROJECT_ROOT
DOMAIN: Dict[str, Any] = yaml.safe_load(paths.DOMAIN.read_text(encoding="utf-8"))


def response(name: str, channel: str = "") -> str:
    """A response's text for a channel (its generic variation when the channel has none)."""
    variations = DOMAIN["responses"][name]
    chosen = [v for v in variations if channel and v.get("channel") == channel] or [
        v for v in variations if not v.get("channel")
    ]
    return str(chosen[0]["text"]).strip()


DISCLAIMER = response("utter_disclaimer")  # web, REST and shell
SMS_DISCLAIMER = response("utter_disclaimer", "twilio")
PRIVACY_NOTICE = response("utter_sms_privacy_notice", "twilio")
# Before the disclaimer on every reply that does not answer ({emergency_number} not yet filled in).
EMERGENCY_ROUTE = response("utter_emergency_route")
SMS_EMERGENCY_ROUTE = response("utter_emergency_route", "twilio")


def twilio_form(phone: str, body: str | None, **extra: str) -> Dict[str, str]:
    """All the fields Twilio posts for an incoming SMS (each message with its own id)."""
    message_sid = "SM" + uuid.uuid4().hex
    form = {
        "ToCountry": "GB",
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "FromCountry": "GB",
        "To": "+447700900000",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": message_sid,
        "AccountSid": "AC" + "2" * 32,
        "From": phone,
        "ApiVersion": "2010-04-01",
    }
    if body is not None:
        form["Body"] = body
    form.update(extra)
    return form


def post_sms(
    stack: Any,
    form: Dict[str, str],
    sign_for: str | None = TWILIO_PUBLIC_URL,
    token: str = TWILIO_AUTH_TOKEN,
    timeout: float = 60,
) -> requests.Response:
    """Post a form to our Twilio webhook, signed for `sign_for` with `token` (unsigned: None)."""
    headers = {}
    if sign_for:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(sign_for, form)
    return requests.post(f"{stack.url}/webhooks/twilio/webhook", data=form, headers=headers, timeout=timeout)


def sms_replies(r: requests.Response) -> List[str]:
    """The texts of a TwiML reply (200 expected)."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return [m.text or "" for m in ET.fromstring(r.text).iter("Message")]
