"""SMS through Twilio, at /webhooks/twilio/webhook (the stock connector's path).

Better than Rasa's stock Twilio connector in the ways a clinic needs:
- every request must carry a valid X-Twilio-Signature (HMAC-SHA1 of the public URL and the
  form parameters with TWILIO_AUTH_TOKEN); anything else gets 403 and never reaches the bot;
- the reply is TwiML in the webhook's own response: no outbound API call, nothing to retry;
- the conversation id is a keyed hash of the phone number, so numbers never reach the tracker
  store or the logs;
- a first-contact notice (the last line of the first reply) that SMS is not private;
- HELP gives the topics and the clinic's number; STOP and the other opt-out words get no reply
  (Twilio handles them); "2" picks the 2nd numbered option of the previous reply.

Environment: TWILIO_AUTH_TOKEN (required), TWILIO_WEBHOOK_URL (the public URL Twilio calls,
when a proxy changes it), SMS_SENDER_ID_SECRET (key for the number hash; defaults to one
derived from the auth token).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from actions.replies import SMS_CHANNEL, compose, disclaimer, response_text

logger = logging.getLogger(__name__)

# Twilio's own opt-out and opt-in keywords: Twilio answers these itself.
TWILIO_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
                   "START", "UNSTOP"}
HELP_KEYWORDS = {"HELP", "INFO"}
HELP_PAYLOAD = "/help_topics"
MAX_SMS_CHARS = 1600  # Twilio's hard limit for one message
PRIVACY_NOTICE_RESPONSE = "utter_sms_privacy_notice"


class TwilioForm(dict):
    """The posted form, blank values kept: Twilio signs every field, including empty ones
    (sanic's `request.form` drops those). `getall` is what twilio's validator reads."""

    @classmethod
    def parse(cls, request: Request) -> "TwilioForm":
        return cls(parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))

    def getall(self, name: Text) -> List[Text]:
        return self[name]

    def first(self, name: Text) -> Optional[Text]:
        return self[name][0] if name in self else None


def conversation_id(phone_number: Text, secret: bytes) -> Text:
    """A stable id for a number that does not reveal it (HMAC-SHA256 with our secret)."""
    digest = hmac.new(secret, phone_number.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sms-{digest[:32]}"


def fit_sms(text: Text, sms_disclaimer: Text) -> Text:
    """Keep a message within Twilio's limit without ever losing the disclaimer."""
    if len(text) <= MAX_SMS_CHARS:
        return text
    room = MAX_SMS_CHARS - len(sms_disclaimer) - 4
    return text[:room].rstrip() + "...\n" + sms_disclaimer


def twiml(messages: List[Text], sms_disclaimer: Text = "") -> HTTPResponse:
    reply = MessagingResponse()
    for text in messages:
        reply.message(fit_sms(text, sms_disclaimer))
    return response.text(str(reply), content_type="application/xml")


class TwilioSMSInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return SMS_CHANNEL  # "twilio": keeps the stock path /webhooks/twilio/webhook

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TwilioSMSInput":
        return cls(
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN", ""),
            public_url=os.environ.get("TWILIO_WEBHOOK_URL", ""),
            sender_secret=os.environ.get("SMS_SENDER_ID_SECRET", ""),
        )

    def __init__(self, auth_token: Text, public_url: Text = "", sender_secret: Text = "") -> None:
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.public_url = public_url
        if not auth_token:
            logger.warning("TWILIO_AUTH_TOKEN is not set: every SMS webhook request will be refused.")
        key = sender_secret or f"sms-sender-id:{auth_token}"
        self.sender_secret = hashlib.sha256(key.encode("utf-8")).digest()

    def _is_signed_by_twilio(self, request: Request, form: TwilioForm) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not self.validator or not signature:
            return False
        url = self.public_url or request.url
        return self.validator.validate(url, form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint("twilio_sms", __name__)

        @sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            form = TwilioForm.parse(request)
            if not self._is_signed_by_twilio(request, form):
                return response.text("Forbidden: missing or invalid X-Twilio-Signature.", status=403)
            phone_number = form.first("From")
            if not phone_number:
                return response.text("Bad request: the form has no 'From' field.", status=400)
            body = (form.first("Body") or "").strip()
            if body.upper() in TWILIO_KEYWORDS:
                return twiml([])

            sender_id = conversation_id(phone_number, self.sender_secret)
            agent = request.app.ctx.agent
            tracker = await agent.tracker_store.retrieve(sender_id)
            text = self._resolve(body, tracker)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name()))
            except Exception as error:  # noqa: BLE001 - the patient still gets a reply
                logger.error("SMS handling failed for %s: %s", sender_id, type(error).__name__)
            domain = {"responses": agent.domain.responses}
            replies = [m["text"] for m in collector.messages if m.get("text")]
            if not replies:
                replies = [compose(domain, SMS_CHANNEL, "utter_unavailable", kind="unavailable")["text"]]
            if not self._has_written_before(tracker):
                # A last line of the same SMS (one text per reply): an urgent reply must still
                # begin with "Urgent".
                notice = response_text(domain, PRIVACY_NOTICE_RESPONSE, SMS_CHANNEL)
                replies[-1] = f"{replies[-1]}\n{notice}"
            return twiml(replies, disclaimer(domain, SMS_CHANNEL))

        return sms

    @staticmethod
    def _has_written_before(tracker: Any) -> bool:
        return tracker is not None and any(isinstance(e, UserUttered) for e in tracker.events)

    @staticmethod
    def _resolve(body: Text, tracker: Any) -> Text:
        """HELP becomes the topic menu; a number picks an option of our previous message."""
        if body.upper() in HELP_KEYWORDS:
            return HELP_PAYLOAD
        if body.isascii() and body.isdigit() and tracker is not None:
            last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
            options = (last_bot.metadata or {}).get("options", []) if last_bot else []
            if 1 <= int(body) <= len(options):
                return options[int(body) - 1]
        return body
