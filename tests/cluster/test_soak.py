"""A large soak through the local cluster (issue 19): 1,000 conversations of 10 turns each through
HAProxy, 64 at a time, with one Rasa server killed -9 about 40% of the way in (its supervisor
starts it again). Each turn carries a message id, and the client sends it again after a 5xx or a
dropped connection, as a clinic's app should: every turn must then be answered, stored once, in
order, with the replies the client got. Prints latency percentiles and throughput."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import requests
import sqlalchemy as sa

from tests.cluster.test_cluster import QUESTIONS, key

CONVERSATIONS = int(os.environ.get("SOAK_CONVERSATIONS", "1000"))
TURNS = 10
CONCURRENCY = 64
KILL_AT = 0.4
RETRIES = 6


@dataclass
class Conversation:
    sender: str
    answered: List[Tuple[str, List[str]]] = field(default_factory=list)
    unavailable: int = 0  # "unavailable, please try again": no acknowledgement that it was stored
    latencies: List[float] = field(default_factory=list)
    server_errors: int = 0
    connection_errors: int = 0
    failed: int = 0


def take_turn(session: requests.Session, url: str, api_key: str, talk: Conversation, text: str) -> None:
    body = {"sender": talk.sender, "message": text, "message_id": uuid.uuid4().hex}
    for attempt in range(RETRIES):
        start = time.monotonic()
        try:
            r = session.post(
                f"{url}/webhooks/rest/webhook",
                json=body,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=120,
            )
        except requests.ConnectionError:
            talk.connection_errors += 1
            time.sleep(0.5 * (attempt + 1))
            continue
        if r.status_code >= 500:
            talk.server_errors += 1
            time.sleep(0.5 * (attempt + 1))
            continue
        r.raise_for_status()
        talk.latencies.append(time.monotonic() - start)
        replies = r.json()
        if any(m["metadata"].get("kind") == "unavailable" for m in replies):
            talk.unavailable += 1
        else:
            talk.answered.append((text, [m["text"] for m in replies]))
        return
    talk.failed += 1


def stored(cluster) -> Dict[str, List[Tuple[str, List[str]]]]:
    """Every soak conversation as PostgreSQL has it: each user message and the bot's after it."""
    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE sender_id LIKE 'rest-soak-%' ORDER BY id")
            ).fetchall()
    finally:
        engine.dispose()
    turns: Dict[str, List[Tuple[str, List[str]]]] = defaultdict(list)
    for sender, data in rows:
        event = json.loads(data)
        if event["event"] == "user":
            turns[sender].append((event["text"], []))
        elif event["event"] == "bot" and turns[sender]:
            turns[sender][-1][1].append(event["text"])
    return turns


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_soak_a_thousand_conversations_with_a_server_killed(cluster, capsys):
    run = uuid.uuid4().hex[:6]
    talks = [Conversation(f"soak-{run}-{i}") for i in range(CONVERSATIONS)]
    total = CONVERSATIONS * TURNS
    done = {"turns": 0}
    lock = threading.Lock()
    killed: Dict[str, float] = {}
    local = threading.local()

    def converse(talk: Conversation) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        for j in range(TURNS):
            take_turn(
                session, cluster.proxy_url, key(cluster), talk, f"{QUESTIONS[j % len(QUESTIONS)]} (#{j})"
            )
            with lock:
                done["turns"] += 1
                if not killed and done["turns"] >= KILL_AT * total:
                    killed["at"] = time.monotonic()
                    os.kill(cluster.rasa_pid(1), signal.SIGKILL)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        list(pool.map(converse, talks))
    seconds = time.monotonic() - start

    as_stored = stored(cluster)
    lost = out_of_order = duplicates = 0
    for talk in talks:
        turns = as_stored.get(f"rest-{talk.sender}", [])
        texts = [t for t, _ in turns]
        duplicates += len(texts) - len(set(texts))
        for text, replies in talk.answered:  # each acknowledged turn: stored, with its own replies
            if text not in texts:
                lost += 1
            elif (text, replies) not in turns:
                out_of_order += 1
        out_of_order += texts != sorted(texts, key=lambda t: int(t.rsplit("#", 1)[1].rstrip(")")))
    latencies = [s for t in talks for s in t.latencies]
    answered = sum(len(t.answered) for t in talks)
    unavailable = sum(t.unavailable for t in talks)
    server_errors = sum(t.server_errors for t in talks)
    connection_errors = sum(t.connection_errors for t in talks)
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
    with capsys.disabled():
        print(
            f"\nsoak: {CONVERSATIONS} conversations x {TURNS} turns, {CONCURRENCY} at a time, "
            f"rasa-2 killed -9 at {KILL_AT:.0%}: {answered}/{total} answered in {seconds:.0f} s "
            f"({(answered + unavailable) / seconds:.1f} msg/s); latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"p99 {p99:.0f} ms; lost {lost}, out of order {out_of_order}, duplicates {duplicates}; "
            f"{unavailable} 'unavailable' replies; {server_errors} 5xx and {connection_errors} dropped "
            "connections while the server died (each sent again by the client, then answered)"
        )
    assert killed, "the kill happened"
    assert answered + unavailable == total and sum(t.failed for t in talks) == 0
    assert unavailable <= 0.01 * total
    assert lost == out_of_order == duplicates == 0
