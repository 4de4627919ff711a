"""The lock that keeps one conversation on one Rasa server at a time, when several servers share
the work (the production profile: deploy/endpoints.production.yml).

Rasa's own `RedisLockStore` reads a conversation's ticket lock, changes it and writes it back in
three separate steps, so two servers can both take the same lock (RasaHQ/rasa#9213). Here every
step that decides who holds a lock is one Lua script, which Redis runs atomically, on Redis's
clock (servers' clocks do not matter):

- a message joins its conversation's queue (a Redis list); messages are served in the order they
  arrived (first in, first out), as with Rasa's in-memory lock;
- each entry has a deadline (a Redis hash beside the list): a waiter renews its own each time
  it asks (every 5-50 ms), the holder renews its lease every RENEW_SECONDS while its turn runs;
  an entry whose deadline passed (its server died, or a join whose reply was lost) is dropped
  as soon as it is at the head: a dead holder frees the conversation after LEASE_SECONDS, a dead
  waiter after WAITER_SECONDS, not after a whole lock lifetime;
- fencing: the tracker store confirms the lock (renewing it) just before it saves a turn; a turn
  that lost its lock meanwhile raises LockLost and is not saved (the patient is told
  "unavailable");
- a Redis restart (the cluster runs it without persistence) empties every queue: a waiter that
  finds its entry gone joins again, and for RECOVERY_SECONDS nobody takes the lock, so that a
  turn that held it before the restart can claim it back at its next renewal;
- the client is redis.asyncio: a slow or unreachable Redis never blocks the event loop; a call
  on a connection that died with a restarted Redis is made once more on a new one.

Redis being unreachable raises, and the channel gives the patient the "unavailable" reply.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import secrets
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis
import redis.asyncio
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

logger = logging.getLogger(__name__)

# Rasa's own default (TICKET_LOCK_LIFETIME): the longest one turn may hold a conversation.
LOCK_LIFETIME_SECONDS = float(os.environ.get("TICKET_LOCK_LIFETIME", "60"))
LEASE_SECONDS = 10.0  # a holder that stops renewing loses the lock after this
RENEW_SECONDS = LEASE_SECONDS / 4
WAITER_SECONDS = 5.0  # a waiter that stops asking is dropped after this
RECOVERY_SECONDS = RENEW_SECONDS + 1.0  # after a Redis restart: time for the holder to claim back
MAX_WAIT_SECONDS = 60.0  # a turn waits at most this long for its conversation (then "unavailable")
POLL_SECONDS = (0.005, 0.05)  # first and longest wait between checks
REDIS_TIMEOUT_SECONDS = 2.0
# A turn already queued rides out a Redis outage this long (a restart); a new one fails at once.
REDIS_OUTAGE_SECONDS = 5.0
KEY_PREFIX = "assistant:conversation-lock:"

# KEYS: queue, deadlines, recovering. ARGV: entry, its deadline (ms from now), key lifetime (ms).
_JOIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# ARGV: entry, waiter deadline (ms), lease (ms), recovery (ms), key lifetime (ms).
# 1: the entry holds the lock (its lease starts now); 0: wait; -1: the entry is gone.
_TRY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- the queue is gone with our entry (a Redis restart): join again, and let a holder claim back
  redis.call('SET', KEYS[3], 1, 'PX', ARGV[4], 'NX')
  return -1
end
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then return -1 end
  local deadline = tonumber(redis.call('HGET', KEYS[2], head))
  if head == ARGV[1] then
    if redis.call('EXISTS', KEYS[3]) == 1 then
      redis.call('HSET', KEYS[2], head, now + tonumber(ARGV[2]))
      return 0
    end
    redis.call('HSET', KEYS[2], head, now + tonumber(ARGV[3]))
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
    return 1
  end
  if not deadline or deadline < now then
    redis.call('LPOP', KEYS[1])
    redis.call('HDEL', KEYS[2], head)
  else
    if not redis.call('LPOS', KEYS[1], ARGV[1]) then return -1 end
    redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
    return 0
  end
end
"""

# ARGV: entry, lease (ms), key lifetime (ms). 1: still held (renewed, or claimed back after a
# Redis restart); 0: lost (another entry holds it).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local head = redis.call('LINDEX', KEYS[1], 0)
if head ~= ARGV[1] then
  if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
  if redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('LREM', KEYS[1], 1, ARGV[1]) end
  redis.call('LPUSH', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

_LEAVE = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""

_held: contextvars.ContextVar[HeldLock | None] = contextvars.ContextVar("held_lock", default=None)


class LockLost(LockError):
    """This turn no longer holds its conversation's lock: its save is refused."""


def held_lock() -> HeldLock | None:
    """The conversation lock the current turn holds (None with Rasa's in-memory lock store)."""
    return _held.get()


class HeldLock:
    def __init__(
        self, store: ConversationLockStore, conversation_id: str, entry: str, lifetime: float
    ) -> None:
        self.store, self.conversation_id, self.entry = store, conversation_id, entry
        self.until = time.monotonic() + lifetime

    async def renew(self) -> bool:
        keys = self.store.keys(self.conversation_id)
        return bool(await self.store._renew(keys=keys, args=self.store.renew_args(self.entry)))

    async def confirm(self) -> None:
        """Before a save: renew the lease, or raise LockLost when another turn holds it."""
        if time.monotonic() > self.until or not await self.renew():
            raise LockLost(f"The lock of conversation {self.conversation_id} was lost mid-turn.")

    async def keep_renewing(self) -> None:
        while time.monotonic() < self.until:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                if not await self.renew():
                    logger.warning(
                        "Lock of %s lost mid-turn: its save will be refused.", self.conversation_id
                    )
                    return
            except Exception as error:  # Redis unreachable for a moment: try again
                logger.warning(
                    "Renewing the lock of %s failed: %s", self.conversation_id, type(error).__name__
                )


class ConversationLockStore(RedisLockStore):
    """endpoints.yml: `lock_store: {type: stores.lock_store.ConversationLockStore, url:
    redis://:<password>@<host>:<port>/<db>}`. A RedisLockStore to Rasa (so that it allows
    several Sanic workers), with atomic, first-in-first-out, leased locks."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        self.red = redis.asyncio.Redis.from_url(
            endpoint_config.url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            # A pooled connection that died with a restarted Redis fails once, when next used:
            # that call is made again on a new connection instead of failing a patient's turn.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[redis.ConnectionError],
        )
        self.key_prefix = KEY_PREFIX
        self._join = self.red.register_script(_JOIN)
        self._try = self.red.register_script(_TRY)
        self._renew = self.red.register_script(_RENEW)
        self._leave = self.red.register_script(_LEAVE)

    def keys(self, conversation_id: str) -> list:
        queue = self.key_prefix + conversation_id
        return [queue, queue + ":deadlines", queue + ":recovering"]

    @staticmethod
    def _key_lifetime_ms() -> int:
        return int(2 * (LOCK_LIFETIME_SECONDS + MAX_WAIT_SECONDS) * 1000)

    def renew_args(self, entry: str) -> list:
        return [entry, int(LEASE_SECONDS * 1000), self._key_lifetime_ms()]

    def held(self, conversation_id: str) -> HeldLock | None:
        found = held_lock()
        return found if found is not None and found.conversation_id == conversation_id else None

    async def _enter_queue(self, keys: list, entry: str) -> None:
        try:
            await self._join(keys=keys, args=[entry, int(WAITER_SECONDS * 1000), self._key_lifetime_ms()])
        except BaseException:
            await self._leave_quietly(keys, entry)  # the join may have happened: no orphan
            raise

    async def _leave_quietly(self, keys: list, entry: str) -> None:
        try:
            await asyncio.shield(self._leave(keys=keys[:2], args=[entry]))
        except Exception as error:  # its deadline drops it from the queue soon anyway
            logger.warning("Leaving a conversation's queue failed: %s", type(error).__name__)

    async def _wait_for_turn(self, keys: list, entry: str, wait_time: float) -> None:
        args = [
            entry,
            int(WAITER_SECONDS * 1000),
            int(LEASE_SECONDS * 1000),
            int(RECOVERY_SECONDS * 1000),
            self._key_lifetime_ms(),
        ]
        give_up = time.monotonic() + MAX_WAIT_SECONDS
        wait = POLL_SECONDS[0]
        unreachable_since: float | None = None
        while True:
            try:
                state = await self._try(keys=keys, args=args)
                unreachable_since = None
            except (redis.ConnectionError, redis.TimeoutError):
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > REDIS_OUTAGE_SECONDS:
                    raise
                await asyncio.sleep(0.2)
                continue
            if state == 1:
                return
            if state == -1:  # our entry is gone (a Redis restart, or we were too slow to ask)
                await self._enter_queue(keys, entry)
            if time.monotonic() > give_up:
                raise LockError(f"Waited {MAX_WAIT_SECONDS:g} s for conversation {keys[0]}.")
            await asyncio.sleep(wait)
            wait = min(wait * 2, wait_time)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME_SECONDS,
        wait_time_in_seconds: float = POLL_SECONDS[1],
    ) -> AsyncIterator[TicketLock]:
        keys = self.keys(conversation_id)
        entry = secrets.token_hex(8)
        await self._enter_queue(keys, entry)
        try:
            await self._wait_for_turn(keys, entry, wait_time_in_seconds)
            held = HeldLock(self, conversation_id, entry, lock_lifetime)
            renewing = asyncio.create_task(held.keep_renewing())
            token = _held.set(held)
            try:
                yield TicketLock(conversation_id)
            finally:
                _held.reset(token)
                renewing.cancel()
        finally:
            await self._leave_quietly(keys, entry)
