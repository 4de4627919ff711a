"""The website chat page, served by our Rasa server at /chat (same origin as the bot).

/chat            the page (webchat/index.html)
/chat/embed.js   the snippet a clinic adds to its own site (webchat/embed.js)
/chat/webchat.js the rasa-webchat widget, from node_modules (installed by `make`, pinned by
                 package-lock.json). The widget talks to Rasa's `socketio` channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "page": (PROJECT_ROOT / "webchat" / "index.html", "text/html; charset=utf-8"),
    "embed": (PROJECT_ROOT / "webchat" / "embed.js", "application/javascript; charset=utf-8"),
    "widget": (
        PROJECT_ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js",
        "application/javascript; charset=utf-8",
    ),
}


async def _serve(name: str) -> HTTPResponse:
    path, content_type = FILES[name]
    if not path.exists():
        return response.text(
            "The chat widget is not installed on this server: run `make run` to install it.",
            status=503,
        )
    return await response.file(path, mime_type=content_type, headers={"Cache-Control": "no-cache"})


class ChatPage(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "chat_page"

    def url_prefix(self) -> str:
        return "/chat"  # joined to "/webhooks/" as an absolute path, so it stays /chat

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        chat = Blueprint("chat_page", __name__)

        @chat.route("/", methods=["GET"], strict_slashes=False)
        async def page(_: Request) -> HTTPResponse:
            return await _serve("page")

        @chat.route("/embed.js", methods=["GET"])
        async def embed(_: Request) -> HTTPResponse:
            return await _serve("embed")

        @chat.route("/webchat.js", methods=["GET"])
        async def widget(_: Request) -> HTTPResponse:
            return await _serve("widget")

        return chat
