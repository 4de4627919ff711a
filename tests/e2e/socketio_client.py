"""A minimal Socket.IO client speaking to Rasa's socketio channel the way rasa-webchat does."""

from __future__ import annotations

import queue
import uuid
from typing import Any, Dict, List

import socketio


class WebchatClient:
    def __init__(self, url: str, session_id: str = "") -> None:
        self.session_id = session_id or uuid.uuid4().hex
        self.received: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self.received.put)
        self.sio.on("session_confirm", lambda data: self.confirmed.put(data))
        self.sio.connect(url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=20)
        self.sio.emit("session_request", {"session_id": self.session_id})
        self.confirmed.get(timeout=20)

    def say(self, text: str, timeout: float = 30) -> List[Dict[str, Any]]:
        """Send a message and collect the bot's messages (each of ours is one message)."""
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        first = self.received.get(timeout=timeout)
        messages = [first]
        while True:
            try:
                messages.append(self.received.get(timeout=1.0))
            except queue.Empty:
                return messages

    def close(self) -> None:
        self.sio.disconnect()
