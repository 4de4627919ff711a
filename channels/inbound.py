"""What every channel does with a message before it reaches NLU: the limits of
assistant/limits.py, applied in one place; the text made readable (Unicode NFKC, no lone
surrogates or control characters); a message sent again by its id answered once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import unicodedata
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage as BadRequest  # HTTP 400 in sanic 21

from assistant import limits
from assistant.history import reading_recent_history
from assistant.names import MESSAGE_ID_KEY
from assistant.replies import REPLY_PARTS, reply_metadata
from stores import review_queue
from stores.tracker_store import PatientTrackerStore

logger = logging.getLogger(__name__)

SERVED_BY_KEY = "served_by"
KEPT_CONTROL_CHARACTERS = {"\n", "\t"}
# After a failed deletion (STOP): tries again after 1, 2, 4 ... 60 s, for about half an hour.
FORGET_RETRY_SECONDS = [min(2**n, 60) for n in range(36)]


def clean_text(text: str) -> str:
    """A patient's text as NLU reads it: Unicode NFKC (full-width letters, ligatures), without
    lone surrogates (a broken emoji: the tokenizer raised on them), control or format
    characters (but line breaks and tabs), and outer spaces."""
    text = text.encode("utf-8", errors="ignore").decode("utf-8")  # drops lone surrogates
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    kept = (
        c for c in text if c in KEPT_CONTROL_CHARACTERS or unicodedata.category(c) not in ("Cc", "Cf", "Cs")
    )
    return "".join(kept).strip()


def readable_text(text: str) -> str:
    """The part of a message that is read, cleaned: longer texts are cut (the patient is asked
    for a shorter message; red flags in what is read are still found)."""
    return clean_text(text[: 2 * limits.MAX_TEXT_CHARS])[: limits.MAX_TEXT_CHARS]


def checked_metadata(metadata: Any) -> Dict[str, Any] | None:
    """Client metadata within the limits (it is stored with the message); a 400 otherwise."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise BadRequest('"metadata", when given, must be a JSON object.')
    if len(metadata) > limits.MAX_METADATA_KEYS:
        raise BadRequest(f'"metadata" may have at most {limits.MAX_METADATA_KEYS} keys.')
    try:
        size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: the database could not store it
        raise BadRequest('"metadata" must be valid Unicode text (it has a lone surrogate).') from None
    if size > limits.MAX_METADATA_BYTES:
        raise BadRequest(f'"metadata" may be at most {limits.MAX_METADATA_BYTES} bytes.')
    return metadata


def checked_message_id(message_id: Any) -> str | None:
    """A client's optional id of its message (retries with it are answered once); 400 when bad."""
    if message_id is None:
        return None
    if not isinstance(message_id, str) or not limits.valid_message_id(message_id):
        raise BadRequest('"message_id", when given, must be 1 to 64 letters, digits or . _ : @ -.')
    return message_id


def served_by() -> str:
    """This Rasa server's name (RASA_INSTANCE, else the host name): stamped on every message it
    processes, so the audit trail shows which server handled each turn."""
    return os.environ.get("RASA_INSTANCE") or socket.gethostname()


def with_server(metadata: Dict[str, Any] | None, message_id: str | None = None) -> Dict[str, Any]:
    """A message's metadata as stored: the client's (checked), the server's own name, and the
    channel's id of the message (which the tracker store records as received with the turn)."""
    stored = {k: v for k, v in (metadata or {}).items() if k not in (SERVED_BY_KEY, MESSAGE_ID_KEY)}
    stored[SERVED_BY_KEY] = served_by()
    if message_id:
        stored[MESSAGE_ID_KEY] = message_id
    return stored


def conversation_store(agent: Any) -> PatientTrackerStore:
    """Our tracker store, inside the fail-safe wrapper Rasa puts around every store."""
    store = getattr(agent.tracker_store, "_tracker_store", agent.tracker_store)
    if not isinstance(store, PatientTrackerStore):
        raise TypeError("endpoints.yml must configure stores.tracker_store.PatientTrackerStore")
    return store


async def was_received(agent: Any, sender_id: str, message_id: str | None) -> bool:
    """Whether this message's turn is already stored (so it is not processed again)."""
    if not message_id:
        return False
    return await asyncio.to_thread(conversation_store(agent).was_received, sender_id, message_id)


async def stored_replies(agent: Any, sender_id: str, message_id: str) -> List[Dict[str, Any]]:
    """The replies stored after the message with this id, as a ReplyCollector collected them."""
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    replies: List[Dict[str, Any]] = []
    found = False
    for event in tracker.events if tracker else []:
        if isinstance(event, UserUttered):
            if found:
                break
            found = (event.metadata or {}).get(MESSAGE_ID_KEY) == message_id
        elif found and isinstance(event, BotUttered):
            reply: Dict[str, Any] = {"recipient_id": sender_id, "text": event.text}
            if (event.data or {}).get("buttons"):
                reply["buttons"] = event.data["buttons"]
            reply["metadata"] = reply_metadata(event.metadata or {})
            replies.append(reply)
    return replies


async def forget_conversation(agent: Any, sender_id: str, message_id: str | None = None) -> None:
    """Delete a conversation and its review-queue rows now, with the conversation's lock held
    (so no turn saves it again meanwhile), without the action server. A failure is logged and
    tried again in the background; the caller is never kept waiting for that."""
    try:
        await _forget(agent, sender_id, message_id)
    except Exception as error:
        logger.error("Deleting conversation %s failed (%s): trying again.", sender_id, type(error).__name__)
        task = asyncio.get_running_loop().create_task(_forget_later(agent, sender_id, message_id))
        _RETRIES.add(task)
        task.add_done_callback(_RETRIES.discard)


_RETRIES: set = set()  # the background retries, kept referenced until done


async def _forget(agent: Any, sender_id: str, message_id: str | None) -> None:
    async with agent.lock_store.lock(sender_id):
        await asyncio.to_thread(
            conversation_store(agent).forget, sender_id, [message_id] if message_id else []
        )
        await asyncio.to_thread(review_queue.forget, sender_id)


async def _forget_later(agent: Any, sender_id: str, message_id: str | None) -> None:
    for attempt, wait in enumerate(FORGET_RETRY_SECONDS, start=2):
        await asyncio.sleep(wait)
        try:
            await _forget(agent, sender_id, message_id)
            logger.info("Conversation %s deleted at attempt %d.", sender_id, attempt)
            return
        except Exception as error:
            logger.error("Deleting conversation %s failed again (%s).", sender_id, type(error).__name__)
    logger.critical(
        "Conversation %s could not be deleted after an opt-out: delete it by hand "
        "(stores/tracker_store.py PatientTrackerStore.forget).",
        sender_id,
    )


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
