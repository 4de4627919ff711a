"""The production profile with real servers (scripts/runtime/cluster.py): HAProxy in front of two nodes
(a Rasa server and its action server each), PostgreSQL and Redis.

- Each conversation stays on one Rasa server (every message records which server handled it).
- A burst of conversations, each sending several messages at once: every turn is in PostgreSQL,
  each answer right after its question, no duplicates.
- Two servers given the same conversation at once (no proxy): the Redis lock keeps its turns apart.
- Failover: a Rasa server killed mid-run, PostgreSQL and Redis stopped briefly: nothing
  acknowledged is lost, patients get the "unavailable" reply meanwhile, service resumes.
The conversation, channel, privacy and never-silent tests also run through the cluster
(`pytest tests/e2e --cluster`, part of `make test`)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import pytest
import requests
import sqlalchemy as sa

from scripts.processes import http_ok, wait_for
from tests.helpers import DISCLAIMER, SMS_DISCLAIMER, post_sms, sms_replies, twilio_form

QUESTIONS = [
    "what is endoscopic spine surgery?",
    "how long is the hospital stay?",
    "will it hurt afterwards?",
    "what are the risks?",
    "how do I get ready for the operation?",
    "when can I drive again?",
    "what else could I try instead?",
    "who is a good candidate?",
]
TIMEOUT = 120


@dataclass
class Patient:
    sender: str
    acknowledged: List[Tuple[str, List[Dict]]] = field(default_factory=list)
    server_errors: int = 0
    connection_errors: int = 0


def say(url: str, key: str, sender: str, text: str, message_id: str | None = None) -> requests.Response:
    """A clinic app's REST turn, with its message id (so that the proxy may send it again to the
    other server: the servers answer it once)."""
    return requests.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text, "message_id": message_id or uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {key}"},
        timeout=TIMEOUT,
    )


def send(url: str, key: str, patient: Patient, text: str) -> None:
    try:
        r = say(url, key, patient.sender, text)
    except requests.ConnectionError:
        patient.connection_errors += 1
        return
    if r.status_code >= 500:
        patient.server_errors += 1
        return
    r.raise_for_status()
    patient.acknowledged.append((text, r.json()))


def stored_turns(cluster, sender: str) -> List[Tuple[str, List[str], str | None]]:
    """Straight from PostgreSQL: each user message, the bot messages after it, and the server
    that handled it."""
    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
            ).fetchall()
    finally:
        engine.dispose()
    import json

    turns: List[Tuple[str, List[str], str | None]] = []
    for (data,) in rows:
        event = json.loads(data)
        if event["event"] == "user":
            turns.append((event["text"], [], (event.get("metadata") or {}).get("served_by")))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event["text"])
    return turns


@dataclass
class Audit:
    sent: int = 0
    stored: int = 0
    lost: int = 0
    out_of_order: int = 0
    duplicates: int = 0

    def check(self, cluster, patient: Patient, sent: int) -> None:
        """Every acknowledged turn is stored once, its replies right after its question."""
        stored = stored_turns(cluster, f"rest-{patient.sender}")
        self.sent += sent
        self.stored += len(stored)
        as_stored = Counter((text, tuple(replies)) for text, replies, _ in stored)
        for text, replies in patient.acknowledged:
            turn = (text, tuple(m["text"] for m in replies))
            if as_stored[turn] == 0:
                # the question is stored but not followed by exactly its own answer
                self.out_of_order += any(t == text for t, _, _ in stored)
                self.lost += not any(t == text for t, _, _ in stored)
            as_stored[turn] -= 1
        texts = Counter(text for text, _, _ in stored)
        self.duplicates += sum(n - 1 for n in texts.values() if n > 1)

    def line(self, name: str) -> str:
        return (
            f"\n{name}: turns sent {self.sent}, turns stored {self.stored}, lost {self.lost}, "
            f"out of order {self.out_of_order}, duplicates {self.duplicates}"
        )


def key(cluster) -> str:
    return str(cluster.secrets["REST_API_KEY"])


def test_each_conversation_stays_on_one_server(cluster):
    patients = [Patient(f"sticky-{i}") for i in range(30)]
    for turn in range(3):
        for patient in patients:
            send(cluster.proxy_url, key(cluster), patient, QUESTIONS[turn])
    servers_of = {p.sender: {s for _, _, s in stored_turns(cluster, f"rest-{p.sender}")} for p in patients}
    assert all(len(servers) == 1 for servers in servers_of.values()), servers_of
    used = Counter(next(iter(s)) for s in servers_of.values())
    assert set(used) == {"rasa-1", "rasa-2"}, used  # both servers share the work


def test_a_burst_of_conversations_each_sending_several_messages_at_once(cluster, capsys):
    patients = [Patient(f"burst-{i}") for i in range(60)]
    per_patient = 4
    jobs = [(p, f"{QUESTIONS[j]} ({p.sender} #{j})") for p in patients for j in range(per_patient)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(send, cluster.proxy_url, key(cluster), p, text) for p, text in jobs]:
            future.result()
    audit = Audit()
    for patient in patients:
        audit.check(cluster, patient, per_patient)
    with capsys.disabled():
        print(audit.line("burst through the proxy"))
    assert sum(p.server_errors + p.connection_errors for p in patients) == 0
    assert sum(len(p.acknowledged) for p in patients) == len(jobs)
    assert audit.stored == audit.sent and audit.lost == audit.out_of_order == audit.duplicates == 0
    for patient in patients:
        assert all(DISCLAIMER in m["text"] for _, replies in patient.acknowledged for m in replies)


def test_two_servers_given_one_conversation_at_once_take_turns(cluster, capsys):
    """Without the proxy: the same conversations sent to both Rasa servers at the same moment.
    The lock store (stores/lock_store.py) must keep every turn whole."""
    direct = [f"http://127.0.0.1:{port}" for port in cluster.ports.rasa]
    patients = [Patient(f"both-{i}") for i in range(20)]
    jobs = [
        (url, p, f"{QUESTIONS[j]} ({p.sender} #{j} via {n})")
        for p in patients
        for j in range(3)
        for n, url in enumerate(direct)
    ]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(send, url, key(cluster), p, text) for url, p, text in jobs]:
            future.result()
    audit = Audit()
    for patient in patients:
        audit.check(cluster, patient, 6)
        served = {s for _, _, s in stored_turns(cluster, f"rest-{patient.sender}")}
        assert served == {"rasa-1", "rasa-2"}
    with capsys.disabled():
        print(audit.line("one conversation on both servers at once"))
    assert sum(p.server_errors + p.connection_errors for p in patients) == 0
    assert audit.stored == audit.sent and audit.lost == audit.out_of_order == audit.duplicates == 0


def run_conversations(
    cluster, patients: List[Patient], turns: int, during=None, turns_after: int = 0
) -> Dict[str, int]:
    """Each patient asks at least `turns` questions one after the other; `during` runs beside
    them, and with `turns_after` each goes on until it has asked that many after `during` ended
    (however fast the servers answer). How many each patient asked, by sender."""
    done, side_ended = threading.Event(), threading.Event()
    asked: Dict[str, int] = {}

    def patient_talks(patient: Patient) -> None:
        j, after = 0, 0
        while j < turns or (turns_after and after < turns_after):
            ended = side_ended.is_set()
            send(cluster.proxy_url, key(cluster), patient, f"{QUESTIONS[j % len(QUESTIONS)]} (#{j})")
            j, after = j + 1, after + ended
            time.sleep(0.2)
        asked[patient.sender] = j

    def side_then_end(done: threading.Event) -> None:
        try:
            during(done)
        finally:
            side_ended.set()

    side = threading.Thread(target=side_then_end, args=(done,), daemon=True) if during else None
    if side:
        side.start()
    with ThreadPoolExecutor(max_workers=len(patients)) as pool:
        for future in [pool.submit(patient_talks, p) for p in patients]:
            future.result()
    done.set()
    if side:
        side.join(timeout=300)
    return asked


def kinds(patient: Patient) -> List[str]:
    return [m["metadata"]["kind"] for _, replies in patient.acknowledged for m in replies]


def answered(patient: Patient) -> Patient:
    """The turns the patient was answered (not told "unavailable"): those must be stored."""
    kept = [(t, r) for t, r in patient.acknowledged if r[0]["metadata"]["kind"] != "unavailable"]
    return Patient(patient.sender, kept)


def test_failover_when_a_rasa_server_is_killed(cluster, capsys):
    patients = [Patient(f"failover-{i}") for i in range(30)]
    killed = {}

    def kill_rasa_2(done: threading.Event) -> None:
        time.sleep(4)
        killed["pid"] = cluster.rasa_pid(1)
        import os

        os.kill(killed["pid"], signal.SIGKILL)

    run_conversations(cluster, patients, 12, kill_rasa_2)
    audit = Audit()
    for patient in patients:
        audit.check(cluster, answered(patient), 12)
    moved = [
        p.sender
        for p in patients
        if {s for _, _, s in stored_turns(cluster, f"rest-{p.sender}")} == {"rasa-1", "rasa-2"}
    ]
    with capsys.disabled():
        print(
            audit.line("Rasa server 2 killed -9 mid-run")
            + f"; {len(moved)} conversations moved to rasa-1 with their history, "
            f"{sum(k.count('unavailable') for k in map(kinds, patients))} 'unavailable' replies, "
            f"{sum(p.server_errors for p in patients)} 5xx"
        )
    assert killed, "the kill happened"
    assert sum(p.server_errors + p.connection_errors for p in patients) == 0
    assert all(len(p.acknowledged) == 12 for p in patients)
    assert audit.lost == audit.out_of_order == 0
    assert moved, "the killed server's conversations went on on the other one"
    # The moved conversations kept their history: their first turns (on rasa-2) are still there.
    for sender in moved:
        assert stored_turns(cluster, f"rest-{sender}")[0][2] == "rasa-2"


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_a_brief_outage_gives_unavailable_then_service_resumes(cluster, service, capsys):
    patients = [Patient(f"{service}-outage-{i}") for i in range(10)]

    def outage(done: threading.Event) -> None:
        time.sleep(2)
        cluster.stop_process(service, signal.SIGINT if service == "postgres" else signal.SIGTERM)
        time.sleep(3)
        if service == "postgres":
            cluster.start_postgres()
        else:
            cluster.start_redis()

    asked = run_conversations(cluster, patients, 20, outage, turns_after=4)
    audit = Audit()
    for patient in patients:
        audit.check(cluster, answered(patient), asked[patient.sender])
    unavailable = sum(k.count("unavailable") for k in map(kinds, patients))
    with capsys.disabled():
        print(
            audit.line(f"{service} stopped for 3 s")
            + f"; {unavailable} 'unavailable' replies, {sum(p.server_errors for p in patients)} 5xx"
        )
    assert sum(p.server_errors + p.connection_errors for p in patients) == 0
    assert unavailable > 0, "the outage was noticed"
    assert all(kinds(p)[-1] != "unavailable" for p in patients), "service resumed"
    assert audit.lost == audit.out_of_order == audit.duplicates == 0


def user_events(cluster) -> List[Dict]:
    """Every stored user message of every conversation, straight from PostgreSQL."""
    import json

    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT data FROM events WHERE type_name = 'user'")).fetchall()
    finally:
        engine.dispose()
    return [json.loads(data) for (data,) in rows]


def served_by(cluster, text: str) -> int:
    """Which node (0 or 1) stored the user message with this text."""
    [server] = {e["metadata"]["served_by"] for e in user_events(cluster) if e["text"] == text}
    return int(server.rsplit("-", 1)[1]) - 1


HEALTH_CHECK_SECONDS = 2  # deploy/haproxy.cfg: inter 2s, rise 2


def cut_off_mid_turn(cluster, node: int, request) -> requests.Response:
    """`request()` sent while `node`'s action server hangs; that Rasa server is killed -9 a
    moment later, mid-turn, before anything is stored. The proxy's answer to the request."""
    actions = cluster.action_server_pid(node)
    os.kill(actions, signal.SIGSTOP)
    result: Dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", request()))
    try:
        thread.start()
        time.sleep(1.5)
        os.kill(cluster.rasa_pid(node), signal.SIGKILL)
        thread.join(timeout=120)
    finally:
        os.kill(actions, signal.SIGCONT)
    wait_for(
        lambda: all(http_ok(f"http://127.0.0.1:{p}/") for p in cluster.ports.rasa), "the killed Rasa server"
    )
    time.sleep(3 * HEALTH_CHECK_SECONDS)  # and the proxy sends it its conversations again
    return result["r"]


class ProxyUrl:
    def __init__(self, cluster) -> None:
        self.url = cluster.proxy_url


def test_an_sms_cut_off_by_a_dying_server_is_answered_by_the_other_once(cluster):
    """Issue 19 item 1: the MessageSid was marked seen (in Redis) before the turn ran; the
    proxy's retry on the other server was refused as a replay (403) and the patient got nothing."""
    phone = f"+4477009{uuid.uuid4().int % 100000:05d}"
    marker = f"hello there {uuid.uuid4().hex[:6]}"
    sms_replies(post_sms(ProxyUrl(cluster), twilio_form(phone, marker)))
    node = served_by(cluster, marker)
    question = f"what are the risks? ({marker})"
    form = twilio_form(phone, question)
    r = cut_off_mid_turn(cluster, node, lambda: post_sms(ProxyUrl(cluster), form, timeout=120))
    [reply] = sms_replies(r)
    assert "risk" in reply.lower() and SMS_DISCLAIMER in reply
    assert served_by(cluster, question) != node  # the proxy's retry, on the other server
    assert sms_replies(post_sms(ProxyUrl(cluster), form)) == []  # sent again: answered once
    ids = [(e.get("metadata") or {}).get("message_id") for e in user_events(cluster)]
    assert ids.count(form["MessageSid"]) == 1


def test_the_proxy_sends_a_rest_turn_again_only_when_it_has_a_message_id(cluster):
    """Issue 19 item 9: a POST without an id is not retried once sent (it may have been
    processed); with one, the other server answers it, once."""
    sender = f"retry-{uuid.uuid4().hex[:8]}"
    marker = f"hello {uuid.uuid4().hex[:6]}"
    say(cluster.proxy_url, key(cluster), sender, marker).raise_for_status()
    node = served_by(cluster, marker)

    def without_id() -> requests.Response:
        return requests.post(
            f"{cluster.proxy_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "will it hurt?"},
            headers={"Authorization": f"Bearer {key(cluster)}"},
            timeout=120,
        )

    assert cut_off_mid_turn(cluster, node, without_id).status_code == 502
    question = f"what are the risks? ({marker})"
    r = cut_off_mid_turn(cluster, node, lambda: say(cluster.proxy_url, key(cluster), sender, question))
    assert r.status_code == 200 and r.json()[0]["metadata"]["kind"] == "answer", r.text
    texts = [t for t, _, _ in stored_turns(cluster, f"rest-{sender}")]
    assert texts.count(question) == 1 and served_by(cluster, question) != node
