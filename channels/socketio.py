"""The web widget's channel: socket.io (python-socketio), rendering our replies for the widget.

- Conversation ids are issued by the server, signed, and bound to the socket: a client gets its
  id in `session_confirm` (`web-<random>.<signature>`), may present it again after a reload to
  continue, and cannot claim one it was not given. The id the client puts in each message is
  ignored: the socket's own is used. Ids of this channel start with "web-" (no other channel's).
- Limits (assistant/limits.py): packets over MAX_SOCKET_MESSAGE_BYTES close the connection; a
  message must be {"message": "<text>"}; its text is cut before NLU.
- The widget renders Markdown, where a plain newline is not a line break: each line break of our
  replies becomes a Markdown hard break ("  \\n"), so the disclaimer stays on its own line.
- Rasa 3.6 calls `sio.enter_room(...)` without `await` (RasaHQ/rasa#13027); we await it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from assistant import limits
from assistant.replies import unavailable
from channels.inbound import hand_over, readable_text, with_server

logger = logging.getLogger(__name__)

MARKDOWN_LINE_BREAK = "  \n"
SESSION_PREFIX = "web-"
SECRET_VARIABLE = "WEB_SESSION_SECRET"


def markdown_line_breaks(text: str) -> str:
    return text.replace("\n", MARKDOWN_LINE_BREAK)


class SessionIds:
    """Conversation ids the server issues, signed with WEB_SESSION_SECRET."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise SystemExit(f"{SECRET_VARIABLE} is not set: the web chat cannot sign its conversation ids.")
        self.key = hashlib.sha256(f"web-session:{secret}".encode()).digest()

    def _signature(self, conversation: str) -> str:
        return hmac.new(self.key, conversation.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        conversation = f"{SESSION_PREFIX}{secrets.token_hex(16)}"
        return f"{conversation}.{self._signature(conversation)}"

    def conversation(self, token: Any) -> str | None:
        """The conversation a token was issued for, or None when it is not one of ours."""
        if not isinstance(token, str) or len(token) > 128 or token.count(".") != 1:
            return None
        conversation, signature = token.split(".")
        if not conversation.startswith(SESSION_PREFIX):
            return None
        return conversation if hmac.compare_digest(signature, self._signature(conversation)) else None


class WidgetOutput(OutputChannel):
    """Sends each of our messages whole, with Markdown line breaks, to the conversation's room.
    `buffered`: kept until `flush()`, so that a turn the server could not store (the database
    went away mid-turn) is never shown; the patient gets "unavailable" instead."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, sio: AsyncServer, bot_message_evt: str, buffered: bool = False) -> None:
        self.sio, self.bot_message_evt = sio, bot_message_evt
        self.pending: List[tuple] | None = [] if buffered else None

    async def _send(self, room: str, message: Dict[str, Any]) -> None:
        if self.pending is not None:
            self.pending.append((room, message))
        else:
            await self.sio.emit(self.bot_message_evt, message, room=room)

    async def flush(self) -> None:
        pending, self.pending = self.pending or [], None
        for room, message in pending:
            await self._send(room, message)

    def discard(self) -> None:
        self.pending = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"text": markdown_line_breaks(text.strip())})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        await self._send(
            recipient_id, {"text": markdown_line_breaks(text.strip()), "quick_replies": quick_replies}
        )


class PatientSocketIOInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> PatientSocketIOInput:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            os.environ.get(SECRET_VARIABLE, ""),
        )

    def __init__(self, user_message_evt: str, bot_message_evt: str, secret: str) -> None:
        self.user_message_evt, self.bot_message_evt = user_message_evt, bot_message_evt
        self.ids = SessionIds(secret)
        self.sio: AsyncServer | None = None
        self.sockets: Dict[str, str] = {}  # socket id -> its conversation
        self.app: Any = None  # the Sanic app, known once the server starts

    def get_output_channel(self) -> OutputChannel | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],  # the widget is embedded on the clinic's own site
            max_http_buffer_size=limits.MAX_SOCKET_MESSAGE_BYTES,
            logger=False,
            engineio_logger=False,
        )
        self.sio = sio
        socketio = SocketBlueprint(sio, "/socket.io", "patient_socketio", __name__)  # attaches sio

        @socketio.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self.app = app  # its agent's domain has the "unavailable" wording

        @socketio.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("disconnect")
        async def disconnect(sid: str) -> None:
            self.sockets.pop(sid, None)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            conversation = self.ids.conversation(token)
            if conversation is None:  # new, or not one we issued: a new conversation
                token = self.ids.issue()
                conversation = self.ids.conversation(token)
            assert conversation is not None
            self.sockets[sid] = conversation
            await sio.enter_room(sid, conversation)
            await sio.emit("session_confirm", token, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            conversation = self.sockets.get(sid)
            if conversation is None:  # no session_request first: this socket gets its own
                await session_request(sid, None)
                conversation = self.sockets[sid]
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):
                await sio.emit("error", {"message": 'send {"message": "your question"}'}, room=sid)
                return
            output = WidgetOutput(sio, self.bot_message_evt, buffered=True)
            try:
                await hand_over(
                    on_new_message,
                    UserMessage(
                        readable_text(text),
                        output,
                        conversation,
                        input_channel=self.name(),
                        metadata=with_server(None),
                    ),
                )
            except Exception as error:
                # The conversation id and the error type only: no message text in the logs.
                logger.error("Web chat handling failed for %s: %s", conversation, type(error).__name__)
                output.discard()
            if not output.pending:
                reply = unavailable(self.app.ctx.agent.domain.responses, self.name())
                await output.send_text_message(conversation, reply.pop("text"), **reply)
            await output.flush()

        return socketio
