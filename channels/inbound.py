"""What every channel does with a message before it reaches NLU: the limits of
assistant/limits.py, applied in one place."""

from __future__ import annotations

import json
import os
import socket
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage as BadRequest  # HTTP 400 in sanic 21

from assistant import limits
from assistant.history import reading_recent_history
from assistant.replies import REPLY_PARTS, reply_metadata


def cut_text(text: str) -> str:
    """The part of a message that is read: longer texts are cut (the patient is asked for a
    shorter message; red flags in what is read are still found)."""
    return text[: limits.MAX_TEXT_CHARS]


def checked_metadata(metadata: Any) -> Dict[str, Any] | None:
    """Client metadata within the limits (it is stored with the message); a 400 otherwise."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise BadRequest('"metadata", when given, must be a JSON object.')
    if len(metadata) > limits.MAX_METADATA_KEYS:
        raise BadRequest(f'"metadata" may have at most {limits.MAX_METADATA_KEYS} keys.')
    if len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > limits.MAX_METADATA_BYTES:
        raise BadRequest(f'"metadata" may be at most {limits.MAX_METADATA_BYTES} bytes.')
    return metadata


def served_by() -> str:
    """This Rasa server's name (RASA_INSTANCE, else the host name): stamped on every message it
    processes, so the audit trail shows which server handled each turn."""
    return os.environ.get("RASA_INSTANCE") or socket.gethostname()


def with_server(metadata: Dict[str, Any] | None) -> Dict[str, Any]:
    """A message's metadata as stored: the client's (checked) and the server's own name."""
    return {**(metadata or {}), "served_by": served_by()}


def limit_request_size(blueprint: Blueprint) -> None:
    """Cap every request body of the server (Sanic's default is 100 MB): larger ones get 413."""

    @blueprint.listener("before_server_start")
    async def cap(app: Sanic, _: Any) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, limits.MAX_REQUEST_BYTES)


async def hand_over(on_new_message: Callable[[Any], Awaitable[Any]], message: Any) -> None:
    """Give a patient's message to Rasa; the turn reads only recent history (assistant/history.py)."""
    token = reading_recent_history.set(True)
    try:
        await on_new_message(message)
    finally:
        reading_recent_history.reset(token)


async def recent_tracker(tracker_store: Any, sender_id: str) -> Any:
    """A conversation's recent history, as a turn reads it (e.g. to resolve an SMS "2")."""
    token = reading_recent_history.set(True)
    try:
        return await tracker_store.retrieve(sender_id)
    finally:
        reading_recent_history.reset(token)


class ReplyCollector(CollectingOutputChannel):
    """Collects our messages whole (one message, never split) with what the channel renders them
    from: the patient-facing metadata, and the body and closing lines (assistant/replies.py)."""

    async def _collect(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]] | None, kwargs: Dict[str, Any]
    ) -> None:
        message = self._message(recipient_id, text=text, buttons=buttons)
        message["metadata"] = reply_metadata(kwargs)
        message.update({part: kwargs[part] for part in REPLY_PARTS if kwargs.get(part) is not None})
        await self._persist_message(message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._collect(recipient_id, text, None, kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._collect(recipient_id, text, buttons, kwargs)
