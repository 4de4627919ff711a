"""Soak and kill tests on a stack of its own: many patients at once, then the Rasa server and the
action server killed with -9 mid-run. Afterwards every acknowledged turn is in the tracker store,
in order, each reply after its question; nothing is answered with a 5xx."""

from __future__ import annotations

import random
import signal
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
import requests

from tests.helpers import DISCLAIMER
from tests.servers import Stack, running_stack

# What patients send: questions, small talk, a follow-up, an unclear and an urgent message.
MESSAGES = [
    "hello",
    "what is endoscopic spine surgery?",
    "how long is the hospital stay?",
    "will it hurt afterwards?",
    "tell me more",
    "what are the risks?",
    "am I a good candidate?",
    "how do I get ready for the operation?",
    "thanks",
    "qwerty zxcv",
    "when can I drive again?",
    "what else could I try instead?",
    "I can't control my bladder and both legs are numb",
]
RETRY_DEADLINE_SECONDS = 300


@dataclass
class Conversation:
    sender: str
    script: List[str]
    acknowledged: List[Tuple[str, List[Dict]]] = field(default_factory=list)
    server_errors: int = 0  # 5xx
    refused: int = 0  # no answer at all (the server was down): retried
    dropped: List[str] = field(default_factory=list)  # connection errors of a running server
    latencies: List[float] = field(default_factory=list)


def conversations(prefix: str, count: int, turns: int) -> List[Conversation]:
    chooser = random.Random(f"{prefix}-{count}-{turns}")  # the same scripts every run
    return [
        Conversation(f"{prefix}-{i}", [chooser.choice(MESSAGES) for _ in range(turns)]) for i in range(count)
    ]


def talk(stack: Stack, conversation: Conversation) -> None:
    """One patient: each turn after the previous answer; a turn without an answer is sent again."""
    session = requests.Session()
    for text in conversation.script:
        deadline = time.monotonic() + RETRY_DEADLINE_SECONDS
        while True:
            start = time.monotonic()
            try:
                r = session.post(
                    f"{stack.url}/webhooks/rest/webhook",
                    json={"sender": conversation.sender, "message": text},
                    headers=stack.rest_headers,
                    timeout=120,
                )
            except requests.ConnectionError as error:
                if "Connection refused" in str(error):
                    conversation.refused += 1
                else:
                    conversation.dropped.append(type(error).__name__ + ": " + str(error)[:200])
                session = requests.Session()
            else:
                if r.status_code < 500:
                    r.raise_for_status()
                    conversation.latencies.append(time.monotonic() - start)
                    conversation.acknowledged.append((text, r.json()))
                    break
                conversation.server_errors += 1
            assert time.monotonic() < deadline, f"{conversation.sender}: no answer to a turn"
            time.sleep(1)


def stored_turns(stack: Stack, sender: str) -> List[Tuple[str, List[str]]]:
    """The tracker store's turns: each user message with the bot messages after it."""
    turns: List[Tuple[str, List[str]]] = []
    for event in stack.tracker(sender)["events"]:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif event["event"] == "bot":
            assert turns, f"{sender}: a bot message before any user message"
            turns[-1][1].append(event["text"])
    return turns


def acknowledged_turns(conversation: Conversation) -> List[Tuple[str, List[str]]]:
    return [(text, [m["text"] for m in replies]) for text, replies in conversation.acknowledged]


@dataclass
class Audit:
    events: int = 0
    lost: int = 0
    unexpected: int = 0

    def check(self, stack: Stack, conversation: Conversation, exact: bool) -> None:
        """Every acknowledged turn is stored, in order. `exact`: and nothing else (with no
        server killed, a turn is stored exactly when it is acknowledged)."""
        stored = stored_turns(stack, conversation.sender)
        expected = acknowledged_turns(conversation)
        self.events += sum(1 + len(replies) for _, replies in stored)
        position = 0
        for turn in expected:
            while position < len(stored) and stored[position] != turn:
                # Only a turn sent again after a kill may be stored without its acknowledgement.
                self.unexpected += 1
                position += 1
            if position == len(stored):
                self.lost += 1 + len(turn[1])
            else:
                position += 1
        self.unexpected += len(stored) - position
        if exact:
            assert stored == expected, conversation.sender

    def line(self) -> str:
        return (
            f"{self.events} events counted, {self.lost} lost, {self.unexpected} turns stored unacknowledged"
        )


def run_all(stack: Stack, patients: List[Conversation]) -> float:
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(patients)) as pool:
        for future in [pool.submit(talk, stack, c) for c in patients]:
            future.result()
    return time.monotonic() - start


def summary(name: str, patients: List[Conversation], audit: Audit, seconds: float) -> str:
    latencies = sorted(x for c in patients for x in c.latencies)
    turns = len(latencies)
    return (
        f"\n{name}: {len(patients)} conversations, {turns} turns in {seconds:.0f} s "
        f"({turns / seconds:.1f}/s, p50 {statistics.median(latencies):.2f} s, "
        f"max {latencies[-1]:.2f} s): {audit.line()}, "
        f"{sum(c.server_errors for c in patients)} 5xx, "
        f"{sum(c.refused for c in patients)} refused connections (retried), "
        f"{sum(len(c.dropped) for c in patients)} dropped connections"
    )


@pytest.fixture(scope="module")
def soak_stack(tmp_path_factory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("soak")) as servers:
        yield servers


def test_soak_200_conversations_of_10_turns(soak_stack, capsys):
    patients = conversations("soak", 200, 10)
    seconds = run_all(soak_stack, patients)
    audit = Audit()
    for conversation in patients:
        audit.check(soak_stack, conversation, exact=True)
        assert all(DISCLAIMER in m["text"] for _, replies in conversation.acknowledged for m in replies)
    with capsys.disabled():
        print(summary("soak", patients, audit, seconds))
    assert audit.events >= 200 * 10 * 2
    assert audit.lost == 0 and audit.unexpected == 0
    assert [d for c in patients for d in c.dropped] == []
    assert sum(c.server_errors + c.refused for c in patients) == 0


def when_acknowledged(patients: List[Conversation], count: int, then: Callable[[], None]) -> threading.Thread:
    def watch() -> None:
        while sum(len(c.acknowledged) for c in patients) < count:
            time.sleep(0.05)
        then()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_rasa_server_killed_mid_soak_loses_no_acknowledged_turn(soak_stack, capsys):
    patients = conversations("rasa-kill", 60, 8)

    def kill_and_restart() -> None:
        assert soak_stack.rasa is not None
        soak_stack.rasa.send_signal(signal.SIGKILL)
        soak_stack.rasa.wait()
        soak_stack.start_rasa()

    watcher = when_acknowledged(patients, 150, kill_and_restart)
    seconds = run_all(soak_stack, patients)
    watcher.join(timeout=300)
    audit = Audit()
    for conversation in patients:
        assert len(conversation.acknowledged) == len(conversation.script)  # all went on
        audit.check(soak_stack, conversation, exact=False)
    with capsys.disabled():
        print(summary("Rasa server killed -9 mid-soak", patients, audit, seconds))
    assert sum(c.refused for c in patients) > 0, "the kill happened while patients were waiting"
    assert audit.lost == 0
    assert sum(c.server_errors for c in patients) == 0


def test_action_server_killed_mid_soak_gives_unavailable_then_recovers(soak_stack, capsys):
    patients = conversations("action-kill", 60, 6)

    def kill_then_restart() -> None:
        assert soak_stack.actions is not None
        soak_stack.actions.send_signal(signal.SIGKILL)
        soak_stack.actions.wait()
        time.sleep(3)
        soak_stack.start_actions()

    watcher = when_acknowledged(patients, 100, kill_then_restart)
    seconds = run_all(soak_stack, patients)
    watcher.join(timeout=300)
    kinds = [m["metadata"]["kind"] for c in patients for _, replies in c.acknowledged for m in replies]
    for conversation in patients:  # after the restart, everyone is answered again
        conversation.script.append("what are the risks?")
        talk_once = Conversation(conversation.sender, ["what are the risks?"])
        talk(soak_stack, talk_once)
        conversation.acknowledged += talk_once.acknowledged
    recovered = [m["metadata"]["kind"] for c in patients for m in c.acknowledged[-1][1]]
    audit = Audit()
    for conversation in patients:
        audit.check(soak_stack, conversation, exact=True)
    with capsys.disabled():
        print(
            summary("action server killed -9 mid-soak", patients, audit, seconds)
            + f", {kinds.count('unavailable')} 'unavailable' replies during the outage"
        )
    assert kinds.count("unavailable") > 0
    assert set(recovered) == {"answer"}
    assert audit.lost == 0 and audit.unexpected == 0
    assert sum(c.server_errors + c.refused for c in patients) == 0
