"""REST channel that refuses malformed requests with a clear 400 instead of failing silently.

The stock connector answers `[]` (silence) or a 500 when `message` is missing or not a string,
or when the body is not a JSON object, and files requests without `sender` under one shared
conversation called "default". Same path as the stock one: /webhooks/rest/webhook.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage as BadRequest  # HTTP 400 in sanic 21
from sanic.request import Request

MAX_SENDER_CHARS = 128
USAGE = 'send a JSON object like {"sender": "patient-42", "message": "your question"}'


def _json_object(request: Request) -> Dict[Text, Any]:
    body = request.json  # sanic answers 400 itself when the body is not valid JSON
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object: {USAGE}.")
    return body


class PatientRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _json_object(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise BadRequest(
                f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS} characters: {USAGE}.'
            )
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _json_object(req).get("message")
        if not isinstance(message, str):
            raise BadRequest(f'"message" must be a string: {USAGE}.')
        return message

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _json_object(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest('"metadata", when given, must be a JSON object.')
        return metadata
