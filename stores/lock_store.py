"""The lock that keeps one conversation on one Rasa server at a time, when several servers share
the work (the production profile: deploy/endpoints.production.yml).

Rasa's own `RedisLockStore` reads a conversation's ticket lock, changes it and writes it back in
three separate steps, so two servers can both take the same lock (RasaHQ/rasa#9213). Here every
step that decides who holds a lock is one Lua script, which Redis runs atomically:

- a message joins its conversation's queue (a Redis list) with a deadline, taken from Redis's
  clock so that servers' clocks do not matter;
- it holds the lock when its entry is at the head; a head whose deadline has passed (its server
  died mid-turn) is dropped, as Rasa's own tickets expire;
- it leaves the queue when its turn is done.

Messages of a conversation are served in the order they arrived (first in, first out), as with
Rasa's in-memory lock. Redis being unreachable raises, and the channel gives the patient the
"unavailable" reply (channels/).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Rasa's own default (TICKET_LOCK_LIFETIME): how long one turn may hold a conversation.
LOCK_LIFETIME_SECONDS = float(os.environ.get("TICKET_LOCK_LIFETIME", "60"))
POLL_SECONDS = (0.005, 0.05)  # first and longest wait between checks
REDIS_TIMEOUT_SECONDS = 2.0
KEY_PREFIX = "assistant:conversation-lock:"

_JOIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = ARGV[1] .. ':' .. (now + tonumber(ARGV[2]))
redis.call('RPUSH', KEYS[1], entry)
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return entry
"""

# 1: the entry holds the lock; 0: wait; -1: the entry is gone (it expired and was dropped).
_TRY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then return -1 end
  if head == ARGV[1] then return 1 end
  local deadline = tonumber(string.match(head, ':(%d+)$'))
  if deadline and deadline < now then
    redis.call('LPOP', KEYS[1])
  else
    local position = redis.call('LPOS', KEYS[1], ARGV[1])
    if not position then return -1 end
    return 0
  end
end
"""

_LEAVE = "return redis.call('LREM', KEYS[1], 1, ARGV[1])"


class ConversationLockStore(RedisLockStore):
    """endpoints.yml: `lock_store: {type: stores.lock_store.ConversationLockStore, url:
    redis://:<password>@<host>:<port>/<db>}`. A RedisLockStore to Rasa (so that it allows
    several Sanic workers), with atomic, first-in-first-out locks."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        self.red = redis.Redis.from_url(
            endpoint_config.url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.key_prefix = KEY_PREFIX
        self._join = self.red.register_script(_JOIN)
        self._try = self.red.register_script(_TRY)
        self._leave = self.red.register_script(_LEAVE)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME_SECONDS,
        wait_time_in_seconds: float = POLL_SECONDS[1],
    ) -> AsyncIterator[TicketLock]:
        key = self.key_prefix + conversation_id
        lifetime_ms = int(lock_lifetime * 1000)
        entry = self._join(keys=[key], args=[secrets.token_hex(8), lifetime_ms])
        try:
            wait = POLL_SECONDS[0]
            while True:
                state = self._try(keys=[key], args=[entry])
                if state == 1:
                    break
                if state == -1:
                    raise LockError(f"The lock of conversation {conversation_id} expired while waiting.")
                await asyncio.sleep(wait)
                wait = min(wait * 2, wait_time_in_seconds)
            yield TicketLock(conversation_id)
        finally:
            self._leave(keys=[key], args=[entry])
