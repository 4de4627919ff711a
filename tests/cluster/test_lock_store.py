"""The Redis lock store (stores/lock_store.py) against a real Redis of its own (restarted here):
a turn holds its conversation for the whole turn however long it waited, a save by a turn that
lost its lock is refused, the queue survives a Redis restart, a waiter that died does not hold
the others up, and waiting never blocks the event loop."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from assistant import paths
from scripts.processes import free_port, port_open, wait_for
from stores.lock_store import ConversationLockStore


class RedisServer:
    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        redis_server = shutil.which("redis-server", path="/usr/sbin:/usr/bin:/sbin:/bin")
        if not redis_server:
            pytest.skip("needs redis-server: apt-get install redis-server")
        self.process = subprocess.Popen(
            [
                redis_server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.home,
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), "Redis", self.process)

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """As the cluster runs it: without persistence, so every queue is gone."""
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def lock_store(url: str) -> ConversationLockStore:
    return ConversationLockStore(EndpointConfig(url=url))


Turn = Tuple[str, float, float]  # who, when it got the lock, when it let go


async def turn(store, conversation: str, name: str, hold: float, delay: float, log: List[Turn]) -> None:
    await asyncio.sleep(delay)
    async with store.lock(conversation, lock_lifetime=2.0):
        start = time.monotonic()
        await asyncio.sleep(hold)
        log.append((name, start, time.monotonic()))


def assert_one_at_a_time(log: List[Turn]) -> None:
    ordered = sorted(log, key=lambda t: t[1])
    for (a, _, end), (b, start, _) in zip(ordered, ordered[1:], strict=False):
        assert start >= end, f"{b} got the lock while {a} still held it: {ordered}"


def test_a_turn_that_waited_holds_its_lock_for_the_whole_turn(redis_server):
    """Issue 19 item 5: the deadline started when a turn joined the queue, so a turn that had
    waited lost its lock mid-turn and the next waiter ran beside it."""
    log: List[Turn] = []

    async def main() -> None:
        store = lock_store(redis_server.url)
        await asyncio.gather(
            turn(store, "waited", "a", 1.5, 0.0, log),
            turn(store, "waited", "b", 1.5, 0.1, log),
            turn(store, "waited", "c", 0.2, 0.2, log),
        )

    asyncio.run(main())
    assert len(log) == 3
    assert_one_at_a_time(log)


def test_a_save_by_a_turn_that_lost_its_lock_is_refused(redis_server, tmp_path):
    """Issue 19 item 5 (fencing): a turn whose lease ran out (its server stalled) while another
    took the conversation must not save over it."""
    from stores.lock_store import LockLost
    from stores.tracker_store import PatientTrackerStore

    domain = Domain.load(str(paths.DOMAIN))
    tracker_store = PatientTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))

    async def main() -> None:
        store = lock_store(redis_server.url)
        async with store.lock("fenced"):
            tracker = DialogueStateTracker("fenced", domain.slots)
            tracker.update(UserUttered("first", {"name": "greet", "confidence": 1.0}))
            await tracker_store.save(tracker)  # holds the lock: saved
            await store.red.delete(store.key_prefix + "fenced")  # its lease ran out ...
            taken, release = asyncio.Event(), asyncio.Event()

            async def other_server() -> None:  # ... and another server took the conversation
                async with lock_store(redis_server.url).lock("fenced"):
                    taken.set()
                    await release.wait()

            other = asyncio.create_task(other_server())
            await asyncio.wait_for(taken.wait(), 10)
            tracker.update(ActionExecuted("action_listen"))
            with pytest.raises(LockLost):
                await tracker_store.save(tracker)
            release.set()
            await other

    asyncio.run(main())
    assert len(asyncio.run(tracker_store.retrieve("fenced")).events) == 1


def test_waiting_turns_go_on_after_a_redis_restart(redis_server):
    """Issue 19 item 5: Redis restarted (no persistence) emptied every queue; each waiting turn
    failed with "expired while waiting" and the patient was told "unavailable"."""
    log: List[Turn] = []

    async def main() -> None:
        store = lock_store(redis_server.url)

        async def restart_soon() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(redis_server.restart)

        async def holder() -> None:
            async with store.lock("restarted"):
                start = time.monotonic()
                await asyncio.sleep(2.0)
                await store.held("restarted").confirm()  # as its save does: still its lock
                log.append(("holder", start, time.monotonic()))

        await asyncio.gather(
            holder(),
            turn(store, "restarted", "waiter-1", 0.2, 0.1, log),
            turn(store, "restarted", "waiter-2", 0.2, 0.2, log),
            restart_soon(),
        )

    asyncio.run(main())
    assert sorted(name for name, _, _ in log) == ["holder", "waiter-1", "waiter-2"]
    assert_one_at_a_time(log)


WAITER_THAT_DIES = """
import asyncio, sys
from rasa.utils.endpoints import EndpointConfig
from stores.lock_store import ConversationLockStore

async def main():
    async with ConversationLockStore(EndpointConfig(url=sys.argv[1])).lock("orphaned"):
        pass

asyncio.run(main())
"""


def test_a_waiter_that_died_does_not_hold_up_the_next(redis_server):
    """Issue 19 item 5: a queue entry whose server died (or whose join timed out) blocked the
    conversation for the whole lock lifetime (60 s)."""

    async def main() -> float:
        store = lock_store(redis_server.url)
        async with store.lock("orphaned"):
            waiter = subprocess.Popen(
                [sys.executable, "-c", WAITER_THAT_DIES, redis_server.url], cwd=paths.PROJECT_ROOT
            )
            queue = redis.Redis.from_url(redis_server.url)
            for _ in range(300):  # until it has joined the queue behind us
                if queue.llen(store.key_prefix + "orphaned") == 2:
                    break
                await asyncio.sleep(0.1)
            assert queue.llen(store.key_prefix + "orphaned") == 2
            waiter.kill()
            waiter.wait()
        start = time.monotonic()
        async with store.lock("orphaned"):
            return time.monotonic() - start

    waited = asyncio.run(asyncio.wait_for(main(), 40))
    assert waited < 15, f"waited {waited:.1f} s behind a dead waiter"


class SilentServer:
    """Accepts connections and never answers: a Redis that is unreachable mid-call."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)


def test_an_unresponsive_redis_does_not_block_the_event_loop():
    """Issue 19 items 2 and 5: the blocking client stalled every patient of the server for its
    2 s timeout on each call; waiting must leave the event loop free."""
    silent = SilentServer()

    async def main() -> float:
        store = lock_store(f"redis://127.0.0.1:{silent.port}/0")
        gaps: List[float] = []

        async def ticker(stop: asyncio.Event) -> None:
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0.05)
        with pytest.raises(redis.RedisError):
            async with store.lock("unreachable"):
                pass
        stop.set()
        await ticking
        return max(gaps)

    assert asyncio.run(main()) < 0.3


def test_the_first_turns_after_a_redis_restart_get_fresh_connections(redis_server):
    """The pool's connections died with the old Redis: each one, when next used, failed its turn
    ("unavailable"), one patient at a time, long after the restart (seen in the soak)."""

    async def main() -> None:
        store = lock_store(redis_server.url)
        async with store.lock("pooled-a"), store.lock("pooled-b"):  # two pooled connections
            pass
        await asyncio.to_thread(redis_server.restart)
        for conversation in ("pooled-a", "pooled-b", "pooled-c"):
            async with store.lock(conversation):
                await store.held(conversation).confirm()

    asyncio.run(main())
