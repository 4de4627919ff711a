"""REST, for a clinic's own apps: POST {"sender": "...", "message": "..."} to /webhooks/rest/webhook.

Each reply is {"recipient_id", "text", "buttons"?, "metadata"}: the metadata is what the patient
was told (`kind`, `answer_key`, `sections`, `urgency`, `red_flags`, `input_problem`), so a
clinic's app can show and log it without reading the tracker. Malformed requests get a 400 with
a clear message (the stock connector answers them with silence, a 500, or files them under one
shared "default" conversation), and a failure while handling the message gets the "unavailable"
reply, never a 500 or an empty answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage as BadRequest  # HTTP 400 in sanic 21
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.replies import reply_metadata, unavailable

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
USAGE = 'send a JSON object like {"sender": "patient-42", "message": "your question"}'


class RestOutput(CollectingOutputChannel):
    """Collects our messages whole (one message, never split), with their metadata."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _collect(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]] | None, kwargs: Dict[str, Any]
    ) -> None:
        message = self._message(recipient_id, text=text, buttons=buttons)
        message["metadata"] = reply_metadata(kwargs)
        await self._persist_message(message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._collect(recipient_id, text, None, kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._collect(recipient_id, text, buttons, kwargs)


def _json_object(request: Request) -> Dict[str, Any]:
    body = request.json  # sanic answers 400 itself when the body is not valid JSON
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object: {USAGE}.")
    return body


def parse_request(request: Request) -> Dict[str, Any]:
    """sender, message and metadata of a valid request; a 400 with a clear message otherwise."""
    body = _json_object(request)
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(
            f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS} characters: {USAGE}.'
        )
    if not isinstance(message, str):
        raise BadRequest(f'"message" must be a string: {USAGE}.')
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest('"metadata", when given, must be a JSON object.')
    return {"sender": sender, "message": message, "metadata": metadata}


class PatientRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("patient_rest", __name__)

        @rest.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = parse_request(request)
            collector = RestOutput()
            try:
                await on_new_message(
                    UserMessage(
                        parsed["message"],
                        collector,
                        parsed["sender"],
                        input_channel=self.name(),
                        metadata=parsed["metadata"],
                    )
                )
            except (Exception, asyncio.CancelledError) as error:
                # The conversation id and the error type only: no message text in the logs.
                logger.error("REST handling failed for %s: %s", parsed["sender"], type(error).__name__)
            if not collector.messages:
                reply = unavailable(request.app.ctx.agent.domain.responses, self.name())
                await collector.send_text_message(parsed["sender"], reply.pop("text"), **reply)
            return response.json(collector.messages)

        return rest
