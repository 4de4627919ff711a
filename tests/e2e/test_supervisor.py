"""`make run` as a clinic runs it (scripts/runtime/supervise.py): both servers on loopback, a server
killed with -9 is started again and conversations go on, logs are appended and private."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Set

import pytest
import requests

from tests.helpers import CLINIC_ENV, DISCLAIMER
from tests.servers import PROJECT_ROOT, free_port, server_env

LISTEN = "0A"


def listening_addresses(port: int) -> Set[str]:
    """Local addresses with a socket listening on `port` (Linux's /proc/net tables)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == LISTEN:
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


def eventually(check: Callable[[], bool], what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    home = tmp_path_factory.mktemp("supervised")
    var = home / "var"  # created by the supervisor itself
    rasa_port, action_port = free_port(), free_port()
    endpoints = home / "endpoints.yml"
    endpoints.write_text(
        (PROJECT_ROOT / "endpoints.yml")
        .read_text()
        .replace('db: "var/tracker.db"', f'db: "{home / "tracker.db"}"')
    )
    assert str(home / "tracker.db") in endpoints.read_text(), "endpoints.yml's SQLite path moved"
    env = server_env(
        **CLINIC_ENV,
        ASSISTANT_VAR=str(var),
        REST_API_KEY="supervised-key",
        RASA_API_TOKEN="supervised-api-token",
        REVIEW_DB=str(home / "review_queue.db"),
    )
    env.pop("ACTION_SERVER_TOKEN", None)
    env.pop("ACTION_SERVER_URL", None)
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.runtime.supervise",
            "run",
            "--rasa-port",
            str(rasa_port),
            "--action-port",
            str(action_port),
            "--endpoints",
            str(endpoints),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=(home / "supervisor.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{rasa_port}"

    def say(sender: str, text: str):
        r = requests.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": "Bearer supervised-key"},
            timeout=60,
        )
        r.raise_for_status()
        return r.json()

    try:
        eventually(lambda: bool(say("warm-up", "hello")), "the supervised assistant answers")
        yield {
            "var": var,
            "say": say,
            "url": url,
            "ports": (rasa_port, action_port),
            "supervisor": supervisor,
            "out": home / "supervisor.out",
        }
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisor.kill()


def pid_of(var: Path, server: str) -> int:
    return int((var / f"{server}.pid").read_text())


def test_both_servers_listen_on_loopback_only(supervised):
    for port in supervised["ports"]:
        addresses = listening_addresses(port)
        assert addresses and addresses <= LOOPBACK, (port, addresses)


def test_the_api_token_is_on_no_command_line(supervised):
    """Issue 19 (low): `ps` showed RASA_API_TOKEN to every user of the machine."""
    seen = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            seen.append(cmdline.read_bytes())
        except OSError:
            continue  # gone meanwhile
    rasa = Path(f"/proc/{pid_of(supervised['var'], 'rasa-server')}/cmdline").read_bytes()
    assert rasa in seen, "the supervised Rasa server is running"
    assert not [c for c in seen if b"supervised-api-token" in c]
    assert supervised["say"]("api-check", "hello")  # and the HTTP API still has its token:
    r = requests.get(f"{supervised['url']}/status", params={"token": "supervised-api-token"}, timeout=10)
    assert r.ok and r.json().get("model_file")


def test_var_is_private(supervised):
    var = supervised["var"]
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    for path in var.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_killed_rasa_server_is_started_again_and_the_conversation_goes_on(supervised):
    var, say = supervised["var"], supervised["say"]
    assert DISCLAIMER in say("patient-k", "how long is the hospital stay?")[0]["text"]
    old = pid_of(var, "rasa-server")
    os.kill(old, signal.SIGKILL)
    eventually(lambda: pid_of(var, "rasa-server") != old, "a new Rasa server is started")
    eventually(lambda: bool(say("patient-k", "tell me more")), "the new Rasa server answers")
    r = requests.get(
        f"{supervised['url']}/conversations/rest-patient-k/tracker",
        params={"token": "supervised-api-token"},
        timeout=30,
    )
    users = [e["text"] for e in r.json()["events"] if e["event"] == "user"]
    assert users[0] == "how long is the hospital stay?" and users[-1] == "tell me more"
    log = (var / "rasa-server.log").read_text()
    assert log.count("--- rasa-server starting") == 2  # appended, not overwritten
    assert "stopped (exit code -9)" in log


def test_a_killed_action_server_is_started_again(supervised):
    var, say = supervised["var"], supervised["say"]
    old = pid_of(var, "action-server")
    os.kill(old, signal.SIGKILL)
    eventually(lambda: pid_of(var, "action-server") != old, "a new action server is started")
    eventually(
        lambda: say("patient-a", "will it hurt?")[0]["metadata"]["kind"] == "answer",
        "answers come back after the action server restarts",
        timeout=120,
    )


def test_logs_hold_no_message_text(supervised):
    secret_phrase = "my neighbour quentin zebrawood asked"
    supervised["say"]("patient-log", f"{secret_phrase} about recovery time")
    time.sleep(1)
    for log in supervised["var"].glob("*.log*"):
        assert "zebrawood" not in log.read_text(errors="replace"), log


def test_stopping_the_supervisor_stops_both_servers(supervised):
    var = supervised["var"]
    children = [pid_of(var, "rasa-server"), pid_of(var, "action-server")]
    supervisor = supervised["supervisor"]
    supervisor.send_signal(signal.SIGTERM)
    supervisor.wait(timeout=60)
    for pid in children:
        eventually(lambda pid=pid: not Path(f"/proc/{pid}").exists(), f"server {pid} stopped", 30)
