"""Start the real action server and Rasa server for tests, on free ports, with a private
SQLite tracker store. Nothing of ours is mocked: these are the processes `make run` starts, with
the secrets it would give them (a token for the action server, a key for REST, a signing secret
for the web chat)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import requests

from scripts.processes import free_port, stop_group, wait_for
from scripts.runtime.supervise import SERVER_DEFAULTS
from tests.helpers import CLINIC_ENV

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "spine-faq.tar.gz"
START_TIMEOUT_SECONDS = 240


def server_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(SERVER_DEFAULTS)  # as `make run` sets them
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        RASA_TELEMETRY_ENABLED="false",
        PYTHONHASHSEED="0",
    )
    env.update(extra)
    return env


class Stack:
    """An action server plus a Rasa server (REST channel and HTTP API on)."""

    def __init__(
        self,
        workdir: Path,
        credentials: Path = PROJECT_ROOT / "credentials.yml",
        env: Dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.token = secrets.token_hex(16)  # Rasa's HTTP API
        self.rest_key = secrets.token_hex(16)
        self.db = workdir / "tracker.db"
        self.credentials = credentials
        self.env = server_env(
            ACTION_SERVER_TOKEN=secrets.token_hex(16),
            REST_API_KEY=self.rest_key,
            WEB_SESSION_SECRET=secrets.token_hex(16),
            **(env or {}),
        )
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
            f"tracker_store:\n  type: stores.tracker_store.PatientTrackerStore\n"
            f'  dialect: "sqlite"\n  db: "{self.db}"\n'
        )
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen:
        log = self.workdir / log_name
        return subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_actions(self) -> None:
        self.actions = self._spawn(
            [str(BIN / "python"), "-m", "actions.server", "--port", str(self.action_port)],
            "action-server.log",
        )
        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2).ok,
            "action server",
            self.actions,
            self.workdir / "action-server.log",
            START_TIMEOUT_SECONDS,
        )

    def start_rasa(self) -> None:
        self.rasa = self._spawn(
            [
                str(BIN / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                self.token,
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(self.credentials),
                "--port",
                str(self.rasa_port),
                "--model",
                str(MODEL),
            ],
            "rasa-server.log",
        )
        wait_for(
            lambda: (
                requests.get(f"{self.url}/status", params={"token": self.token}, timeout=2)
                .json()
                .get("model_file")
            ),
            "rasa server",
            self.rasa,
            self.workdir / "rasa-server.log",
            START_TIMEOUT_SECONDS,
        )

    @staticmethod
    def _stop(process: subprocess.Popen | None) -> None:
        stop_group(process, timeout=20)

    def stop_actions(self) -> None:
        self._stop(self.actions)

    def stop_rasa(self) -> None:
        self._stop(self.rasa)

    def stop(self) -> None:
        self.stop_rasa()
        self.stop_actions()

    # --- talking to it -------------------------------------------------------------------------
    @property
    def rest_headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.rest_key}"}

    def rest(self, sender: str, message: str) -> List[Dict[str, Any]]:
        r = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=self.rest_headers,
            timeout=60,
        )
        r.raise_for_status()
        return r.json()

    @staticmethod
    def conversation_id(sender: str) -> str:
        """The tracker of a conversation: web ("web-...") and SMS ("sms-...") ids as they are, a
        REST sender under the REST channel's prefix."""
        return sender if sender.startswith(("web-", "sms-", "rest-")) else f"rest-{sender}"

    def tracker(self, sender: str) -> Dict[str, Any]:
        r = requests.get(
            f"{self.url}/conversations/{self.conversation_id(sender)}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()

    def bot_events(self, sender: str) -> List[Dict[str, Any]]:
        return [e for e in self.tracker(sender)["events"] if e["event"] == "bot"]

    # --- what is stored (the tracker store and the review queue, whatever the database) ----
    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def review_url(self) -> str:
        return f"sqlite:///{self.env['REVIEW_DB']}"

    def sql(self, query: str, url: str | None = None, **params: Any) -> List[Any]:
        """Rows of a query on the tracker store's database (or another, by URL)."""
        import sqlalchemy as sa

        engine = sa.create_engine(url or self.db_url)
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(query), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def logs(self) -> List[Path]:
        return sorted(self.workdir.glob("*.log"))

    def events_by_prefix(self, prefix: str) -> List[Dict[str, Any]]:
        """Events of every conversation whose id starts with `prefix` (ids we cannot compute in
        the test, such as hashed phone numbers), newest conversation last."""
        senders = [
            r[0]
            for r in self.sql(
                "SELECT sender_id FROM events WHERE sender_id LIKE :prefix"
                " GROUP BY sender_id ORDER BY MAX(id)",
                prefix=prefix + "%",
            )
        ]
        return [e for s in senders for e in self.tracker(s)["events"]]

    def tracker_by_prefix(self, prefix: str) -> List[Dict[str, Any]]:
        """Bot events of every conversation whose id starts with `prefix`."""
        return [e for e in self.events_by_prefix(prefix) if e["event"] == "bot"]

    def parse(self, text: str) -> Dict[str, Any]:
        r = requests.post(
            f"{self.url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=30
        )
        r.raise_for_status()
        return r.json()


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """Both servers on free ports with the test clinic's settings, stopped afterwards."""
    servers = Stack(workdir, env={**CLINIC_ENV, "REVIEW_DB": str(workdir / "review_queue.db")})
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()


class ClusterStack(Stack):
    """The same tests, through the local cluster (scripts/runtime/cluster.py): HAProxy in front of two
    nodes, PostgreSQL and Redis. Only what differs from one server is overridden."""

    def __init__(self, cluster: Any) -> None:  # a scripts.runtime.cluster.LocalCluster, started
        self.cluster = cluster
        self.workdir = cluster.home
        self.token = cluster.secrets["RASA_API_TOKEN"]
        self.rest_key = cluster.secrets["REST_API_KEY"]
        node = cluster.node_env(0)
        self.env = {**node, "REVIEW_DB_URL": cluster.database_url}
        self.endpoints = None  # `make purge` uses the production profile's own
        self.actions = self.rasa = None

    @property
    def url(self) -> str:
        return str(self.cluster.proxy_url)

    @property
    def db_url(self) -> str:
        return str(self.cluster.database_url)

    @property
    def review_url(self) -> str:
        return self.db_url

    def logs(self) -> List[Path]:
        return sorted(self.workdir.glob("*.log")) + sorted(self.workdir.glob("node-*/*.log*"))

    def _action_servers(self) -> List[int]:
        return [self.cluster.action_server_pid(i) for i in range(len(self.cluster.ports.actions))]

    def stop_actions(self) -> None:
        """Both action servers hang (stopped, not killed: their supervisors would restart them)."""
        import signal

        for pid in self._action_servers():
            os.kill(pid, signal.SIGSTOP)

    def start_actions(self) -> None:
        import signal

        for pid in self._action_servers():
            os.kill(pid, signal.SIGCONT)
