"""The website chat page, served by our Rasa server at /chat (same origin as the bot).

/chat            the page (webchat/index.html)
/chat/embed.js   the snippet a clinic adds to its own site (webchat/embed.js)
/chat/webchat.js the rasa-webchat widget, from node_modules (installed by `make`, pinned by
                 package-lock.json). The widget talks to our `socketio` channel.

Nothing is loaded from a third party: the widget's stylesheet imports a web font from Google,
which is left out of what we serve, and the page's Content-Security-Policy allows only this
server.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant import paths

FILES = {
    "page": (paths.PROJECT_ROOT / "webchat" / "index.html", "text/html; charset=utf-8"),
    "embed": (paths.PROJECT_ROOT / "webchat" / "embed.js", "application/javascript; charset=utf-8"),
    "widget": (
        paths.PROJECT_ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js",
        "application/javascript; charset=utf-8",
    ),
}


# Only this server: scripts, our socket, images inline; the widget sets styles inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
_THIRD_PARTY_FONT = re.compile(r"@import url\(https?://[^)]*\);")


@cache
def _content(name: str) -> bytes:
    """A file's content, read on the first request for it; the widget without its font import."""
    data = FILES[name][0].read_bytes()
    return _THIRD_PARTY_FONT.sub("", data.decode("utf-8")).encode("utf-8") if name == "widget" else data


async def _serve(name: str) -> HTTPResponse:
    path, content_type = FILES[name]
    if not path.exists():
        return response.text(
            "The chat widget is not installed on this server: run `make run` to install it.",
            status=503,
        )
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return response.raw(_content(name), content_type=content_type, headers=headers)


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
