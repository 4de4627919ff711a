"""A minimal Socket.IO client speaking to our web chat channel the way rasa-webchat does: it asks
for a session (presenting the token it was given before, if any), keeps the token the server
confirms, and sends each message with it."""

from __future__ import annotations

import queue
from typing import Any, Dict, List

import socketio


class WebchatClient:
    def __init__(self, url: str, token: str = "") -> None:
        self.received: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self.received.put)
        self.sio.on("session_confirm", lambda data: self.confirmed.put(data))
        self.sio.connect(url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=20)
        self.sio.emit("session_request", {"session_id": token} if token else {})
        self.token = self.confirmed.get(timeout=20)  # issued and signed by the server

    @property
    def session_id(self) -> str:
        """The conversation's id in the tracker store (the token without its signature)."""
        return self.token.split(".")[0]

    def say(self, text: str, timeout: float = 30) -> List[Dict[str, Any]]:
        """Send a message and collect the bot's messages (each of ours is one message)."""
        self.sio.emit("user_uttered", {"message": text, "session_id": self.token})
        first = self.received.get(timeout=timeout)
        messages = [first]
        while True:
            try:
                messages.append(self.received.get(timeout=1.0))
            except queue.Empty:
                return messages

    def close(self) -> None:
        self.sio.disconnect()
