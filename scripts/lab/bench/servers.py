"""Starting, watching and stopping the servers of each system, each in a temporary directory.

- Ours: exactly as `make run` starts them (`python -m scripts.runtime.supervise run`), with a private
  ASSISTANT_VAR and SQLite tracker store; the server pids come from the supervisor's pid files.
- The baseline: rasa-sdk's own action server with baseline_actions.py, and `rasa run` with the
  stock endpoints (in-memory tracker store) apart from the action endpoint, and the stock REST
  channel.
- Ready means the first REST reply, timed from the first process spawned.
- Peak memory is VmHWM of /proc/<pid>/status.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import requests

from assistant import paths
from scripts.processes import free_port, http_ok, stop_group, wait_for

BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 300.0
MAKE_ENV = {  # what the Makefile exports for every command
    "PYTHONHASHSEED": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "RASA_TELEMETRY_ENABLED": "false",
}


def clinic_env() -> Dict[str, str]:
    """The example clinic's settings (scripts/example_clinic.py, as the tests use them), without
    their short action-server timeout (3 s), which would turn a slow turn under load into an
    "unavailable" reply."""
    from scripts.example_clinic import CLINIC_ENV

    return {k: v for k, v in CLINIC_ENV.items() if k != "ACTION_SERVER_TIMEOUT_SECONDS"}


def base_env() -> Dict[str, str]:
    return {**os.environ, **MAKE_ENV}


def peak_rss_mb(pid: int | None) -> float | None:
    """VmHWM of a running process, in MB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def say(url: str, headers: Dict[str, str], sender: str, text: str, timeout: float = 30) -> List[Dict]:
    r = requests.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers=headers,
        timeout=timeout,
    )
    r.raise_for_status()
    replies = r.json()
    return replies if isinstance(replies, list) else []


def wait_for_reply(
    url: str, headers: Dict[str, str], watched: List[subprocess.Popen], logs: List[Path]
) -> None:
    """Until the REST channel answers "hello" with a message; fails if a watched process stops."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for process in watched:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{process.args!r} stopped during start-up (exit code {process.returncode}):\n"
                    + "\n".join(log_tail(log) for log in logs)
                )
        try:
            if say(url, headers, "bench-ready", "hello", timeout=10):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"no REST reply from {url} within {START_TIMEOUT_SECONDS:.0f} s:\n"
        + "\n".join(log_tail(log) for log in logs)
    )


def spawn(args: List[str], log: Path, env: Dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


class System:
    """A Rasa server and its action server, reachable over REST."""

    label = ""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.rasa_port, self.action_port = free_port(), free_port()
        self.ready_seconds: float | None = None
        self.headers: Dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pids(self) -> Dict[str, int | None]:
        raise NotImplementedError

    def peak_rss_mb(self) -> Dict[str, float | None]:
        return {name: peak_rss_mb(pid) for name, pid in self.pids().items()}


class Ours(System):
    """Our servers, started by `make run`'s supervisor."""

    label = "ours"

    def __init__(self, home: Path, model: Path) -> None:
        super().__init__(home)
        self.model = model
        self.var = home / "var"
        self.endpoints = home / "endpoints.yml"
        self.tracker_db = home / "tracker.db"
        self.action_token = secrets.token_urlsafe(24)
        self.rest_key = secrets.token_urlsafe(24)
        self.headers = {"Authorization": f"Bearer {self.rest_key}"}
        self.supervisor: subprocess.Popen | None = None
        self.env = {
            **base_env(),
            **clinic_env(),
            "ASSISTANT_VAR": str(self.var),
            "REST_API_KEY": self.rest_key,
            "RASA_API_TOKEN": secrets.token_urlsafe(24),
            "ACTION_SERVER_TOKEN": self.action_token,  # known, for profile_turn.py's agent
            "REVIEW_DB": str(home / "review_queue.db"),
            "MODEL_PATH": str(model),
        }
        self.env.pop("ACTION_SERVER_URL", None)  # the supervisor's, from its --action-port

    def endpoints_copy(self, db: Path, path: Path) -> Path:
        """endpoints.yml with the SQLite tracker store at `db`."""
        original = (paths.PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")
        text = original.replace('db: "var/tracker.db"', f'db: "{db}"')
        if str(db) not in text:
            raise RuntimeError(
                'endpoints.yml no longer has `db: "var/tracker.db"`: see scripts/lab/bench/servers.py'
            )
        path.write_text(text, encoding="utf-8")
        return path

    def start(self) -> None:
        self.endpoints_copy(self.tracker_db, self.endpoints)
        log = self.home / "supervisor.log"
        start = time.monotonic()
        self.supervisor = spawn(
            [
                str(BIN / "python"),
                "-m",
                "scripts.runtime.supervise",
                "run",
                "--rasa-port",
                str(self.rasa_port),
                "--action-port",
                str(self.action_port),
                "--endpoints",
                str(self.endpoints),
            ],
            log,
            self.env,
            paths.PROJECT_ROOT,
        )
        wait_for_reply(
            self.url,
            self.headers,
            [self.supervisor],
            [log, self.var / "action-server.log", self.var / "rasa-server.log"],
        )
        self.ready_seconds = time.monotonic() - start

    def _pid(self, name: str) -> int | None:
        try:
            return int((self.var / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None

    def pids(self) -> Dict[str, int | None]:
        return {"rasa_server": self._pid("rasa-server"), "action_server": self._pid("action-server")}

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def stop(self) -> None:
        """SIGTERM to the supervisor (it stops both servers); servers it left behind are stopped
        by their pids."""
        servers = [pid for pid in self.pids().values() if pid is not None]
        stop_group(self.supervisor, timeout=60)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [pid for pid in servers if _alive(pid)]
            for pid in left:
                os.kill(pid, sig)
            deadline = time.monotonic() + 20
            while left and time.monotonic() < deadline and any(_alive(pid) for pid in left):
                time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Baseline(System):
    """Stock `rasa run` and a rasa-sdk action server, in a directory of their own."""

    label = "baseline"

    def __init__(self, home: Path, model: Path) -> None:
        super().__init__(home)
        self.model = model
        self.env = {**base_env(), **clinic_env(), "SANIC_HOST": "127.0.0.1"}
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.endpoints = home / "endpoints.yml"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def start(self) -> None:
        # Stock endpoints: nothing but where the action server is (in-memory tracker and lock stores).
        self.endpoints.write_text(f'action_endpoint:\n  url: "{self.action_url}"\n')
        (self.home / "credentials.yml").write_text("rest:\n")
        actions_log, rasa_log = self.home / "action-server.log", self.home / "rasa-server.log"
        start = time.monotonic()
        self.actions = spawn(
            [
                str(BIN / "python"),
                "-m",
                "rasa_sdk",
                "--actions",
                "scripts.lab.bench.baseline_actions",
                "--port",
                str(self.action_port),
            ],
            actions_log,
            self.env,
            paths.PROJECT_ROOT,
        )
        health = f"http://127.0.0.1:{self.action_port}/health"
        wait_for(lambda: http_ok(health), "the baseline's action server", self.actions, actions_log)
        self.rasa = spawn(
            [
                str(BIN / "rasa"),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(self.home / "credentials.yml"),
                "--port",
                str(self.rasa_port),
                "--interface",
                "127.0.0.1",
            ],
            rasa_log,
            self.env,
            self.home,
        )
        wait_for_reply(self.url, self.headers, [self.actions, self.rasa], [actions_log, rasa_log])
        self.ready_seconds = time.monotonic() - start

    def pids(self) -> Dict[str, int | None]:
        return {
            "rasa_server": self.rasa.pid if self.rasa else None,
            "action_server": self.actions.pid if self.actions else None,
        }

    def stop(self) -> None:
        stop_group(self.rasa, timeout=60)
        stop_group(self.actions, timeout=60)
