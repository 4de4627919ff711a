"""`make run` and `make shell`: start our action server and the Rasa server, and keep them running.

- A server that stops is started again (after 1, 2, 4 ... up to 30 seconds).
- Each server's output is appended to var/<server>.log, rotated at 10 MB (5 kept).
- var/ and everything written in it are private to the user (umask 077).
- Both servers listen on loopback unless RASA_INTERFACE / ACTION_SERVER_HOST say otherwise (a
  deployment behind a proxy); the action server answers only the Rasa server, with a token made
  here unless ACTION_SERVER_TOKEN is set.
- `check-config` only prints the configuration warnings.
- ASSISTANT_PROFILE=production: conversations in PostgreSQL and locks in Redis
  (deploy/endpoints.production.yml), so that several servers can share the work behind a proxy;
  the variables it needs must be set (README, "Production"), or it stops with their names.

Usage: python -m scripts.runtime.supervise [run | shell | check-config]
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

from assistant import paths
from scripts.processes import stop_group
from scripts.runtime.profile import profile

BIN = Path(sys.executable).parent
LOG_BYTES, LOG_BACKUPS = 10 * 1024 * 1024, 5
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0  # running this long resets the backoff
READY_TIMEOUT_SECONDS = 240.0


def configuration_warnings(env: Dict[str, str]) -> List[str]:
    """What a clinic should set before going live (README, "Configuration")."""
    warnings = [
        f"WARNING: {name} is not set: urgent replies use generic wording instead (see README, Configuration)."
        for name in ("CLINIC_PHONE", "EMERGENCY_NUMBER")
        if not env.get(name)
    ]
    if not env.get("REST_API_KEY"):
        warnings.append(
            "WARNING: REST_API_KEY is not set: the REST channel accepts requests from this machine only."
        )
    return warnings


class Server:
    """One server process, started again whenever it stops, its output in a rotated log."""

    def __init__(self, name: str, args: List[str], env: Dict[str, str], health_url: str) -> None:
        self.name, self.args, self.env, self.health_url = name, args, env, health_url
        self.process: subprocess.Popen | None = None
        self.log = logging.getLogger(f"supervise.{name}")
        self.log.propagate = False
        handler = logging.handlers.RotatingFileHandler(
            paths.VAR / f"{name}.log", maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.log.addHandler(handler)
        self.log.setLevel(logging.INFO)
        self.stopping = False
        self.restarts = 0

    def start(self) -> None:
        self.log.info("--- %s starting: %s", self.name, time.strftime("%Y-%m-%d %H:%M:%S"))
        self.process = subprocess.Popen(
            self.args,
            cwd=paths.PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._copy_output, args=(self.process,), daemon=True).start()
        (paths.VAR / f"{self.name}.pid").write_text(str(self.process.pid))

    def _copy_output(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.info("%s", line.decode("utf-8", "replace").rstrip("\n"))

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.process and self.process.poll() is not None:
                raise SystemExit(f"ERROR: the {self.name} stopped during start-up; see var/{self.name}.log")
            time.sleep(0.5)
        raise SystemExit(f"ERROR: the {self.name} did not start within {READY_TIMEOUT_SECONDS:.0f} s")

    def keep_running(self) -> None:
        """Start the server again whenever it stops, waiting longer each time it keeps failing."""
        backoff, started = 1.0, time.monotonic()
        while not self.stopping:
            assert self.process is not None
            code = self.process.wait()
            if self.stopping:
                return
            if time.monotonic() - started > STABLE_SECONDS:
                backoff = 1.0
            message = f"The {self.name} stopped (exit code {code}); starting it again in {backoff:.0f} s."
            print(message, file=sys.stderr, flush=True)
            self.log.info("--- %s", message)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            self.restarts += 1
            started = time.monotonic()
            self.start()

    def stop(self) -> None:
        self.stopping = True
        stop_group(self.process, timeout=20)


# Set for the servers unless the environment says otherwise. Sanic's listen backlog defaults
# to 100: when many patients connect at once while the server is busy, the rest of their
# connection attempts are dropped and retried by the client seconds, then minutes, later.
SERVER_DEFAULTS = {
    "SANIC_BACKLOG": "1024",
    # One thread for numpy's BLAS (the sentence encoder): its matrices are a few rows, and
    # threads waiting on each other cost more than they share (measured: 39 -> 17 ms a message
    # while another process used the other core).
    "OPENBLAS_NUM_THREADS": "1",
}


def private_secret(name: str) -> str:
    """A secret kept in var/secrets/ (created once, readable by this user only)."""
    path = paths.VAR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "shell", "check-config"])
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--endpoints", help="default: endpoints.yml, or the production profile's")
    args = parser.parse_args()

    env = dict(os.environ)
    for warning in configuration_warnings(env):
        print(warning, file=sys.stderr)
    endpoints = profile(env)
    args.endpoints = args.endpoints or endpoints
    if args.mode == "check-config":
        return 0

    for name, value in SERVER_DEFAULTS.items():
        env.setdefault(name, value)
    os.umask(0o077)
    paths.VAR.mkdir(mode=0o700, parents=True, exist_ok=True)
    env.setdefault("ACTION_SERVER_TOKEN", secrets.token_urlsafe(32))
    env.setdefault("WEB_SESSION_SECRET", private_secret("web_session_secret"))
    env.setdefault("ACTION_SERVER_URL", f"http://127.0.0.1:{args.action_port}/webhook")

    actions = Server(
        "action-server",
        [str(BIN / "python"), "-m", "actions.server", "--port", str(args.action_port)],
        env,
        f"http://127.0.0.1:{args.action_port}/health",
    )
    rasa_args = [
        str(BIN / "python"),
        "-m",
        "scripts.runtime.rasa_main",  # reads RASA_API_TOKEN itself: no token on a command line
        "run" if args.mode == "run" else "shell",
        "--endpoints",
        args.endpoints,
        "--port",
        str(args.rasa_port),
    ]
    if env.get("MODEL_PATH"):  # else the newest model in models/
        rasa_args += ["--model", env["MODEL_PATH"]]
    # `rasa shell` starts a server too: on loopback unless RASA_INTERFACE says otherwise
    rasa_args += ["--interface", env.get("RASA_INTERFACE", "127.0.0.1")]
    servers = [actions]
    if args.mode == "run":
        rasa_args += ["--credentials", "credentials.yml"]
        servers.append(Server("rasa-server", rasa_args, env, f"http://127.0.0.1:{args.rasa_port}/"))

    def stop_all(*_: object) -> None:
        for server in servers:
            server.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop_all)
    try:
        for server in servers:  # side by side: the Rasa server does not need the other to load
            server.start()
        for server in servers:
            server.wait_ready()
            threading.Thread(target=server.keep_running, daemon=True).start()
        if args.mode == "shell":
            return subprocess.call(rasa_args, cwd=paths.PROJECT_ROOT, env=env)
        print(
            f"\nThe assistant is running (logs: var/rasa-server.log, var/action-server.log). Talk to it:\n"
            f"  curl -s -XPOST http://localhost:{args.rasa_port}/webhooks/rest/webhook \\\n"
            f"       -H 'Content-Type: application/json' \\\n"
            f'       -d \'{{"sender": "patient-1", "message": "how long until I can go home?"}}\'\n'
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
