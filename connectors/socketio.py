"""The web widget's channel: Rasa's socketio channel, rendering our replies for the widget.

- The widget renders Markdown, where a plain newline is not a line break: each line break of our
  replies becomes a Markdown hard break ("  \\n"), so the disclaimer stays on its own line.
- Rasa 3.6 calls `sio.enter_room(...)` without `await`; since python-socketio 5.10 that is a
  coroutine, so the browser's socket never joins its session's room and, with
  `session_persistence: true`, every bot reply is emitted to an empty room: the patient sees
  nothing (RasaHQ/rasa#13027). Our `session_request` handler awaits it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

MARKDOWN_LINE_BREAK = "  \n"


def markdown_line_breaks(text: str) -> str:
    return text.replace("\n", MARKDOWN_LINE_BREAK)


class WidgetOutput(SocketIOOutput):
    """Sends each of our messages whole, with Markdown line breaks."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": markdown_line_breaks(text)})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        await self._send_message(
            recipient_id, {"text": markdown_line_breaks(text), "quick_replies": quick_replies}
        )


class PatientSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> WidgetOutput | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Dict | None) -> None:
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Dict) -> None:
            sender_id = data.get("session_id") if self.session_persistence else sid
            if not sender_id:
                logger.warning("A socket.io message without a session id was ignored.")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            await on_new_message(
                UserMessage(
                    data.get("message", ""),
                    WidgetOutput(sio, self.bot_message_evt),
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return socketio_webhook
