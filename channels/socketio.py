"""The web widget's channel: socket.io (python-socketio), rendering our replies for the widget.

- Conversation ids are issued by the server, signed, and bound to the socket: a client gets its
  token in `session_confirm` (`web-<random>.<issued>.<signature>`), may present it again after
  a reload to continue (for WEB_SESSION_HOURS, 24 by default), and cannot claim one it was not
  given. At most SOCKETS_PER_CONVERSATION sockets share a conversation (its tabs); after
  "forget me" its id is retired (stores/tracker_store.py) and each of its sockets goes on in a
  new conversation, so the old token opens nothing. The id the client puts in each message is
  ignored: the socket's own is used. Ids of this channel start with "web-" (no other channel's).
- Limits (assistant/limits.py): the transport refuses frames over MAX_SOCKET_MESSAGE_BYTES
  (close code 1009, before they are buffered); a message must be {"message": "<text>"}; its
  text is cut before NLU. One socket may send SOCKET_MESSAGES_PER_SECOND (bursts of
  SOCKET_BURST) with at most SOCKET_QUEUED_TURNS turns waiting or running, one address
  ADDRESS_MESSAGES_PER_SECOND over all its sockets and ADDRESS_CONNECTIONS sockets; a message
  over the limits gets an "error" event ("too quickly") and no turn, and a socket that keeps
  on is disconnected. The address is the peer's, or behind TRUSTED_PROXY_HOPS proxies the one
  they recorded in X-Forwarded-For.
- The widget renders Markdown, where a plain newline is not a line break: each line break of our
  replies becomes a Markdown hard break ("  \\n"), so the disclaimer stays on its own line.
- Rasa 3.6 calls `sio.enter_room(...)` without `await` (RasaHQ/rasa#13027); we await it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from typing import Any, Awaitable, Callable, Dict, List, Set

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from assistant import limits
from assistant.replies import Kind, unavailable
from assistant.settings import clinic_site_origins, normal_origin, trusted_proxy_hops, web_session_hours
from channels.inbound import conversation_store, hand_over, readable_text, served_by, with_server
from channels.rate_limits import TokenBuckets

logger = logging.getLogger(__name__)

MARKDOWN_LINE_BREAK = "  \n"
SESSION_PREFIX = "web-"
SECRET_VARIABLE = "WEB_SESSION_SECRET"
TOO_QUICKLY = "You are sending messages too quickly: please wait a moment, then send your question again."
TOO_MANY_CONNECTIONS = "Too many chat windows are open from this address: close one and try again."


def client_address(environ: Dict[str, Any]) -> str:
    """Who is connecting: the peer, or behind our proxies the address they recorded."""
    request = environ.get("sanic.request")
    peer = str(getattr(request, "ip", "") or environ.get("REMOTE_ADDR", ""))
    hops = trusted_proxy_hops()
    if hops and request is not None:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer


def own_origins(environ: Dict[str, Any]) -> Set[str]:
    """This server's origin as the browser sees it: its Host, and behind our proxies the host and
    scheme they forwarded."""
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    origins = {f"{scheme}://{host}"} if host else set()
    if trusted_proxy_hops():
        forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
        if forwarded_host:
            origins.add(f"{forwarded_scheme}://{forwarded_host}")
    return {normal_origin(o) for o in origins if "://" in o and o.split("://", 1)[1]}


def allowed_origin(origin: str | None, environ: Dict[str, Any]) -> bool:
    """Who may open the web chat from a browser: pages of this server (/chat) and of the clinic's
    site (CLINIC_SITE_ORIGINS). Any other page's Origin is refused (400), so another site cannot
    open a chat in its visitors' browsers; clients that send no Origin (not a browser) pass."""
    if not origin:
        return True
    try:
        origin = normal_origin(origin)
    except SystemExit:
        return False
    return origin in clinic_site_origins() or origin in own_origins(environ)


def _sessions_name_their_server(sio: AsyncServer) -> None:
    """Engine.io session ids begin with this server's name ("rasa-1.<random>"), so that the proxy
    sends each request of a session to the server that holds it (deploy/haproxy.cfg)."""
    random_id = sio.eio.generate_id
    server = served_by()
    sio.eio.generate_id = lambda: f"{server}.{random_id()}"


class FrameLimitedBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, with the websocket frame limit set on the app it joins: Sanic
    reads it when the server starts, before any listener could set it."""

    def register(self, app: Any, options: Dict[str, Any]) -> None:
        app.config.WEBSOCKET_MAX_SIZE = min(app.config.WEBSOCKET_MAX_SIZE, limits.MAX_SOCKET_MESSAGE_BYTES)
        super().register(app, options)


class Floodgate:
    """The per-socket and per-address limits of the web chat."""

    def __init__(self) -> None:
        self.socket_rate = TokenBuckets(limits.SOCKET_MESSAGES_PER_SECOND, limits.SOCKET_BURST)
        self.address_rate = TokenBuckets(limits.ADDRESS_MESSAGES_PER_SECOND, limits.ADDRESS_BURST)
        self.address_of: Dict[str, str] = {}
        self.connections: Dict[str, int] = {}
        self.queued: Dict[str, int] = {}
        self.strikes: Dict[str, int] = {}

    def connect(self, sid: str, address: str) -> bool:
        if self.connections.get(address, 0) >= limits.ADDRESS_CONNECTIONS:
            return False
        self.connections[address] = self.connections.get(address, 0) + 1
        self.address_of[sid] = address
        return True

    def disconnect(self, sid: str) -> None:
        address = self.address_of.pop(sid, None)
        if address is not None:
            self.connections[address] -= 1
            if not self.connections[address]:
                del self.connections[address]
        self.socket_rate.forget(sid)
        self.queued.pop(sid, None)
        self.strikes.pop(sid, None)

    def admit(self, sid: str) -> bool:
        """Whether this socket's message gets a turn now (the socket's own limits first, so a
        flooding socket does not use up its address's share)."""
        admitted = (
            self.queued.get(sid, 0) < limits.SOCKET_QUEUED_TURNS
            and self.socket_rate.take(sid)
            and self.address_rate.take(self.address_of.get(sid, ""))
        )
        if not admitted:
            self.strikes[sid] = self.strikes.get(sid, 0) + 1
        return admitted

    def struck_out(self, sid: str) -> bool:
        return self.strikes.get(sid, 0) >= limits.SOCKET_STRIKES

    def turn_started(self, sid: str) -> None:
        self.queued[sid] = self.queued.get(sid, 0) + 1

    def turn_ended(self, sid: str) -> None:
        if sid in self.queued:
            self.queued[sid] -= 1


def markdown_line_breaks(text: str) -> str:
    return text.replace("\n", MARKDOWN_LINE_BREAK)


class SessionIds:
    """Conversation tokens the server issues: `web-<random>.<issued, hex seconds>.<signature>`,
    signed with WEB_SESSION_SECRET, good for WEB_SESSION_HOURS after they were issued."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise SystemExit(f"{SECRET_VARIABLE} is not set: the web chat cannot sign its conversation ids.")
        self.key = hashlib.sha256(f"web-session:{secret}".encode()).digest()

    def _signature(self, signed: str) -> str:
        return hmac.new(self.key, signed.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, now: float | None = None) -> str:
        signed = f"{SESSION_PREFIX}{secrets.token_hex(16)}.{int(now or time.time()):x}"
        return f"{signed}.{self._signature(signed)}"

    def conversation(self, token: Any, now: float | None = None) -> str | None:
        """The conversation a token was issued for, or None when it is not one of ours or has
        expired."""
        if not isinstance(token, str) or len(token) > 128 or token.count(".") != 2:
            return None
        conversation, issued, signature = token.split(".")
        if not conversation.startswith(SESSION_PREFIX):
            return None
        if not hmac.compare_digest(signature, self._signature(f"{conversation}.{issued}")):
            return None
        try:
            age = (now or time.time()) - int(issued, 16)
        except ValueError:
            return None
        # a minute's grace for servers' clocks
        return conversation if -60 <= age <= web_session_hours() * 3600 else None


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
        self.kinds: List[str] = []  # of the messages sent (assistant/replies.py Kind)

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
        self.kinds.append(str(kwargs.get("kind")))
        await self._send(recipient_id, {"text": markdown_line_breaks(text.strip())})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        self.kinds.append(str(kwargs.get("kind")))
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
        self.members: Dict[str, Set[str]] = {}  # conversation -> its sockets (its room)
        self.floodgate = Floodgate()
        self.app: Any = None  # the Sanic app, known once the server starts

    def get_output_channel(self) -> OutputChannel | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=allowed_origin,  # this server and the clinic's own site
            max_http_buffer_size=limits.MAX_SOCKET_MESSAGE_BYTES,
            logger=False,
            engineio_logger=False,
        )
        self.sio = sio
        _sessions_name_their_server(sio)
        socketio = FrameLimitedBlueprint(sio, "/socket.io", "patient_socketio", __name__)  # attaches sio

        @socketio.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self.app = app  # its agent's domain has the "unavailable" wording

        @socketio.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
            if not self.floodgate.connect(sid, client_address(environ)):
                raise ConnectionRefusedError(TOO_MANY_CONNECTIONS)

        @sio.on("disconnect")
        async def disconnect(sid: str) -> None:
            await self._unbind(sid, leave_room=False)  # gone: its rooms with it
            self.floodgate.disconnect(sid)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            conversation = self.ids.conversation(token)
            if conversation is not None and not await self._may_join(conversation):
                conversation = None
            if conversation is None:  # new, expired, forgotten, full, or not ours: a new one
                token = self.ids.issue()
                conversation = self.ids.conversation(token)
            assert conversation is not None and isinstance(token, str)
            await self._bind(sid, conversation, token)

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
            if not self.floodgate.admit(sid):
                await sio.emit("error", {"message": TOO_QUICKLY}, room=sid)
                if self.floodgate.struck_out(sid):
                    logger.warning("Web chat socket of %s disconnected: too many messages.", conversation)
                    await sio.disconnect(sid)
                return
            self.floodgate.turn_started(sid)
            try:
                await self._turn(on_new_message, conversation, text)
            finally:
                self.floodgate.turn_ended(sid)

        return socketio

    async def _may_join(self, conversation: str) -> bool:
        """A token's conversation may take another socket: not forgotten, not full."""
        if len(self.members.get(conversation, ())) >= limits.SOCKETS_PER_CONVERSATION:
            return False
        store = conversation_store(self.app.ctx.agent)
        return not await asyncio.to_thread(store.is_retired, conversation)

    async def _bind(self, sid: str, conversation: str, token: str) -> None:
        assert self.sio is not None
        await self._unbind(sid)
        self.sockets[sid] = conversation
        self.members.setdefault(conversation, set()).add(sid)
        await self.sio.enter_room(sid, conversation)
        await self.sio.emit("session_confirm", token, room=sid)

    async def _unbind(self, sid: str, leave_room: bool = True) -> None:
        conversation = self.sockets.pop(sid, None)
        if conversation is not None:
            members = self.members.get(conversation, set())
            members.discard(sid)
            if not members:
                self.members.pop(conversation, None)
            if leave_room and self.sio is not None:
                await self.sio.leave_room(sid, conversation)

    async def _retire(self, conversation: str) -> None:
        """After "forget me": no token opens this conversation again, and each of its sockets
        goes on in a new conversation of its own."""
        await asyncio.to_thread(conversation_store(self.app.ctx.agent).retire, conversation)
        for sid in list(self.members.get(conversation, ())):
            token = self.ids.issue()
            fresh = self.ids.conversation(token)
            assert fresh is not None
            await self._bind(sid, fresh, token)

    async def _turn(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], conversation: str, text: str
    ) -> None:
        """One admitted message; its replies are sent once the turn is stored."""
        assert self.sio is not None
        output = WidgetOutput(self.sio, self.bot_message_evt, buffered=True)
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
        if Kind.FORGOTTEN.value in output.kinds:
            try:
                await self._retire(conversation)
            except Exception as error:
                logger.error(
                    "Retiring web chat conversation %s failed: %s", conversation, type(error).__name__
                )
