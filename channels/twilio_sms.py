"""SMS through Twilio, at /webhooks/twilio/webhook (the stock connector's path).

Better than Rasa's stock Twilio connector in the ways a clinic needs:
- a request is checked before anything in it is used: its content type, its size
  (assistant/limits.py), then its X-Twilio-Signature (HMAC-SHA1 of the public URL and the form
  parameters with TWILIO_AUTH_TOKEN); anything else gets 4xx and never reaches the bot;
- its MessageSid is recorded as received with its stored turn (stores/tracker_store.py): a
  delivery sent again (a proxy's retry after a server died mid-turn, or a captured request
  replayed) is processed if its turn was not stored, and otherwise answered 200 with no
  message (never a 4xx: a retry is not an attack, and a replay learns nothing);
- the reply is TwiML in the webhook's own response: no outbound API call, nothing to retry;
- the conversation id is a keyed hash of the phone number (SMS_SENDER_ID_SECRET), so numbers
  never reach the tracker store or the logs;
- a first-contact notice (the last line of the first reply) that SMS is not private, kept off an
  emergency reply (which must fit one 160-character text) and given with the next one instead;
- choices become numbered options (before the disclaimer, the last line); "2" picks the 2nd
  choice of the previous reply (the buttons Rasa stored with it);
- HELP gives the topics and the clinic's number; STOP and the other opt-out words get no reply
  from us (Twilio answers them) and delete the conversation and its review-queue rows, here
  with the tracker store, not through a turn that needs the action server (channels/inbound.py).

Environment: TWILIO_AUTH_TOKEN (without it every request is refused), and with it, required at
start-up: TWILIO_WEBHOOK_URL (the public URL Twilio calls, as it calls it) and
SMS_SENDER_ID_SECRET (the key of the number hash, apart from the auth token so that rotating the
token does not re-key every conversation).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from assistant import limits
from assistant.names import HELP_TOPICS_INTENT, URGENCY_LEVELS, payload
from assistant.replies import SMS_PRIVACY_NOTICE_RESPONSE, disclaimer, response_text, unavailable
from channels.inbound import (
    ReplyCollector,
    forget_conversation,
    hand_over,
    limit_request_size,
    readable_text,
    recent_tracker,
    was_received,
    with_server,
)
from stores.tracker_store import DuplicateMessage

logger = logging.getLogger(__name__)

# Twilio's own opt-out and opt-in keywords: Twilio answers these itself. Opting out also
# deletes the conversation.
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_KEYWORDS = {"START", "UNSTOP"}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
HELP_KEYWORDS = {"HELP", "INFO"}
MAX_SMS_CHARS = 1600  # Twilio's hard limit for one message
SMS_CHANNEL = "twilio"  # our name, and the `channel:` of the SMS variations in domain.yml


class TwilioForm(dict):
    """The posted form, blank values kept: Twilio signs every field, including empty ones
    (sanic's `request.form` drops those). `getall` is what twilio's validator reads."""

    @classmethod
    def parse(cls, request: Request) -> TwilioForm:
        return cls(parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))

    def getall(self, name: str) -> List[str]:
        return self[name]

    def first(self, name: str) -> str | None:
        return self[name][0] if name in self else None


def conversation_id(phone_number: str, secret: bytes) -> str:
    """A stable id for a number that does not reveal it (HMAC-SHA256 with our secret)."""
    digest = hmac.new(secret, phone_number.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sms-{digest[:32]}"


def render_sms(message: Dict[str, Any]) -> str:
    """A message as one SMS: its choices as numbered options before its closing lines (the
    emergency route and the disclaimer, assistant/replies.py)."""
    text = str(message.get("text") or "")
    options = [f"{n} {button['title']}" for n, button in enumerate(message.get("buttons") or [], start=1)]
    if not options:
        return text
    if message.get("body") is not None and message.get("closing"):
        return "\n".join([str(message["body"]), *options, str(message["closing"])])
    return "\n".join([text, *options])  # not composed by us: no closing to keep last


def is_emergency(message: Dict[str, Any]) -> bool:
    return (message.get("metadata") or {}).get("urgency") == URGENCY_LEVELS[0]


def fit_sms(text: str, sms_disclaimer: str) -> str:
    """Keep a message within Twilio's limit without ever losing the disclaimer."""
    if len(text) <= MAX_SMS_CHARS:
        return text
    room = MAX_SMS_CHARS - len(sms_disclaimer) - 4
    return text[:room].rstrip() + "...\n" + sms_disclaimer


def twiml(messages: List[str], sms_disclaimer: str = "") -> HTTPResponse:
    reply = MessagingResponse()
    for text in messages:
        reply.message(fit_sms(text, sms_disclaimer))
    return response.text(str(reply), content_type="application/xml")


class TwilioSMSInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return SMS_CHANNEL  # keeps the stock path /webhooks/twilio/webhook

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> TwilioSMSInput:
        return cls(
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN", ""),
            public_url=os.environ.get("TWILIO_WEBHOOK_URL", ""),
            sender_secret=os.environ.get("SMS_SENDER_ID_SECRET", ""),
        )

    def __init__(self, auth_token: str, public_url: str = "", sender_secret: str = "") -> None:
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.public_url = public_url
        if not auth_token:
            logger.warning("TWILIO_AUTH_TOKEN is not set: every SMS webhook request will be refused.")
        else:
            missing = [
                n
                for n, v in (("TWILIO_WEBHOOK_URL", public_url), ("SMS_SENDER_ID_SECRET", sender_secret))
                if not v
            ]
            if missing:  # behind a proxy the URL Twilio signed is not the one we see; no silent re-keying
                raise ValueError(
                    f"SMS is switched on (TWILIO_AUTH_TOKEN) but {' and '.join(missing)} "
                    "is not set: see README, Configuration."
                )
        self.sender_secret = hashlib.sha256(sender_secret.encode("utf-8")).digest()

    def _is_signed_by_twilio(self, signature: str, form: TwilioForm) -> bool:
        return bool(self.validator and self.validator.validate(self.public_url, form, signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint("twilio_sms", __name__)
        limit_request_size(sms)

        @sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type != FORM_CONTENT_TYPE:
                return response.text(f"Unsupported Media Type: send {FORM_CONTENT_TYPE}.", status=415)
            if len(request.body) > limits.MAX_SMS_FORM_BYTES:
                return response.text("Payload Too Large for an SMS webhook.", status=413)
            signature = request.headers.get("X-Twilio-Signature")
            if not signature or not self.validator:
                return response.text("Forbidden: missing or invalid X-Twilio-Signature.", status=403)
            form = TwilioForm.parse(request)
            if not self._is_signed_by_twilio(signature, form):
                return response.text("Forbidden: missing or invalid X-Twilio-Signature.", status=403)
            message_sid = form.first("MessageSid") or form.first("SmsMessageSid")
            if not message_sid:
                return response.text("Bad request: the form has no 'MessageSid' field.", status=400)
            if not limits.valid_message_id(message_sid):
                return response.text("Bad request: 'MessageSid' is not a Twilio message id.", status=400)
            phone_number = form.first("From")
            if not phone_number:
                return response.text("Bad request: the form has no 'From' field.", status=400)
            body = (form.first("Body") or "").strip()
            sender_id = conversation_id(phone_number, self.sender_secret)
            agent = request.app.ctx.agent
            if body.upper() in OPT_IN_KEYWORDS:
                return twiml([])
            if body.upper() in OPT_OUT_KEYWORDS:  # Twilio confirms; we forget the conversation
                await forget_conversation(agent, sender_id, message_sid)
                return twiml([])
            try:
                if await was_received(agent, sender_id, message_sid):
                    return twiml([])  # its turn is stored: not again, and no second reply
            except Exception as error:  # where turns are kept is down: no answer we could keep
                logger.error("SMS received-check failed: %s", type(error).__name__)
                return self._unavailable(agent.domain.responses)

            collector = ReplyCollector()
            tracker = None
            try:
                tracker = await recent_tracker(agent.tracker_store, sender_id)  # for "2": the last choices
                text = readable_text(self._resolve(body, tracker))
                await hand_over(
                    on_new_message,
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=self.name(),
                        metadata=with_server(None, message_sid),
                    ),
                )
            except DuplicateMessage:  # another server stored this delivery's turn meanwhile
                return twiml([])
            except Exception as error:
                logger.error("SMS handling failed for %s: %s", sender_id, type(error).__name__)
                collector.messages.clear()  # not stored, so not acknowledged: "unavailable" instead
            responses = agent.domain.responses
            sms_disclaimer = disclaimer(responses, SMS_CHANNEL)
            messages = [m for m in collector.messages if m.get("text")] or [
                unavailable(responses, SMS_CHANNEL)
            ]
            replies = [render_sms(m) for m in messages]
            if not self._notice_given(tracker) and not any(map(is_emergency, messages)):
                # A last line of the same SMS (one text per reply): an urgent reply must still
                # begin with "Urgent".
                notice = response_text(responses, SMS_PRIVACY_NOTICE_RESPONSE, SMS_CHANNEL)
                replies[-1] = f"{replies[-1]}\n{notice}"
            return twiml(replies, sms_disclaimer)

        return sms

    @staticmethod
    def _unavailable(responses: Dict[str, Any]) -> HTTPResponse:
        sms_disclaimer = disclaimer(responses, SMS_CHANNEL)
        return twiml([render_sms(unavailable(responses, SMS_CHANNEL))], sms_disclaimer)

    @staticmethod
    def _notice_given(tracker: Any) -> bool:
        """Whether an earlier reply carried the privacy notice: any reply but emergency guidance."""
        return tracker is not None and any(
            isinstance(e, BotUttered) and not is_emergency({"metadata": e.metadata}) for e in tracker.events
        )

    @staticmethod
    def _resolve(body: str, tracker: Any) -> str:
        """HELP becomes the topic menu; a number picks a choice of our previous message."""
        if body.upper() in HELP_KEYWORDS:
            return payload(HELP_TOPICS_INTENT)
        if body.isascii() and body.isdigit() and tracker is not None:
            last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
            buttons = (last_bot.data or {}).get("buttons") or [] if last_bot else []
            if 1 <= int(body) <= len(buttons):
                return str(buttons[int(body) - 1]["payload"])
        return body
