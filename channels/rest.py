"""REST, for a clinic's own apps: POST {"sender": "...", "message": "..."} to /webhooks/rest/webhook.

- Who may call it: with REST_API_KEY set, only requests carrying `Authorization: Bearer <key>`
  (compared in constant time; 401 otherwise). Without it, only this machine (loopback), and
  only in the embedded profile: behind a proxy or TLS terminator on the same host every
  request comes from loopback, so the production profile refuses to start without the key.
- An optional `message_id` (1-64 of A-Z a-z 0-9 . _ : @ -) makes a turn safe to send again: a
  retry of a stored turn is not processed twice and gets the replies stored with it.
- The conversation is "rest-<sender>": REST ids never meet the web chat's or SMS's. The channel
  is always "rest", whatever the client says.
- Each reply is {"recipient_id", "text", "buttons"?, "metadata"}: the metadata is what the
  patient was told (`kind`, `answer_key`, `sections`, `urgency`, `red_flags`, `input_problem`),
  so a clinic's app can show and log it without reading the tracker.
- Malformed requests get a 400 with a clear message (the stock connector answers them with
  silence, a 500, or files them under one shared "default" conversation); the limits of
  assistant/limits.py apply to the body, the sender, the metadata and the text; a failure while
  handling the message gets the "unavailable" reply, never a 500 or an empty answer.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage as BadRequest  # HTTP 400 in sanic 21
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant import limits
from assistant.profile import is_production, refuse_placeholder_secrets
from assistant.replies import REPLY_PARTS, unavailable
from channels.inbound import (
    ReplyCollector,
    checked_message_id,
    checked_metadata,
    hand_over,
    limit_request_size,
    readable_text,
    stored_replies,
    was_received,
    with_server,
)
from stores.tracker_store import DuplicateMessage

logger = logging.getLogger(__name__)

USAGE = 'send a JSON object like {"sender": "patient-42", "message": "your question"}'
CONVERSATION_PREFIX = "rest-"


class RestOutput(ReplyCollector):
    """Our messages whole, with their metadata; the parts are already in the text."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        for part in REPLY_PARTS:
            message.pop(part, None)
        await super()._persist_message(message)


def parse_request(request: Request) -> Dict[str, Any]:
    """sender, message and metadata of a valid request; a 400 with a clear message otherwise."""
    body = request.json  # sanic answers 400 itself when the body is not valid JSON
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object: {USAGE}.")
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not limits.valid_sender_id(sender):
        raise BadRequest(f'"sender" must be 1 to 64 letters, digits or . _ : @ - (no spaces): {USAGE}.')
    if not isinstance(message, str):
        raise BadRequest(f'"message" must be a string: {USAGE}.')
    return {
        "sender": sender,
        "message": readable_text(message),
        "metadata": checked_metadata(body.get("metadata")),
        "message_id": checked_message_id(body.get("message_id")),
    }


def is_loopback(request: Request) -> bool:
    try:
        return ipaddress.ip_address(request.ip).is_loopback
    except ValueError:
        return False


class PatientRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> PatientRestInput:
        refuse_placeholder_secrets(os.environ)  # the Rasa server's start-up: every secret it has
        api_key = os.environ.get("REST_API_KEY", "")
        if not api_key and is_production(os.environ):
            raise ValueError(
                "REST_API_KEY is not set: the production profile needs it (behind a proxy every "
                "request is from this machine, so the loopback rule would let everyone in)."
            )
        return cls(api_key)

    def __init__(self, api_key: str = "") -> None:
        self.expected = f"Bearer {api_key}".encode() if api_key else b""

    def allowed(self, request: Request) -> bool:
        if not self.expected:
            return is_loopback(request)
        return hmac.compare_digest(request.headers.get("Authorization", "").encode(), self.expected)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("patient_rest", __name__)
        limit_request_size(rest)

        @rest.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.allowed(request):
                reason = (
                    "send Authorization: Bearer <REST_API_KEY>"
                    if self.expected
                    else "without REST_API_KEY, only this machine may call"
                )
                return response.json({"error": f"Unauthorized: {reason}"}, status=401)
            parsed = parse_request(request)
            conversation = CONVERSATION_PREFIX + parsed["sender"]
            agent = request.app.ctx.agent
            message_id = parsed["message_id"]
            collector = RestOutput()
            try:
                if await was_received(agent, conversation, message_id):  # sent again: answered once
                    return response.json(await stored_replies(agent, conversation, message_id))
                await hand_over(
                    on_new_message,
                    UserMessage(
                        parsed["message"],
                        collector,
                        conversation,
                        input_channel=self.name(),
                        metadata=with_server(parsed["metadata"], message_id),
                    ),
                )
            except DuplicateMessage:  # another server stored this turn meanwhile
                return response.json(await stored_replies(agent, conversation, str(message_id)))
            except (Exception, asyncio.CancelledError) as error:
                # The conversation id and the error type only: no message text in the logs.
                logger.error("REST handling failed for %s: %s", conversation, type(error).__name__)
                # The turn was not stored (e.g. the database went away): what was collected
                # must not be acknowledged, the patient is told to try again or call instead.
                collector.messages.clear()
            if not collector.messages:
                reply = unavailable(agent.domain.responses, self.name())
                await collector.send_text_message(conversation, reply.pop("text"), **reply)
            return response.json(collector.messages)

        return rest
