"""`make cluster`: the production profile on this machine, with real servers from Debian's
packages, all on loopback: PostgreSQL (the tracker store and the review queue), Redis (the lock
store), two nodes, each started the way the README's "Production" section says
(`ASSISTANT_PROFILE=production` and `python -m scripts.runtime.supervise run`: a Rasa server and its action
server), and HAProxy in front (deploy/haproxy.cfg). Ctrl-C (or SIGTERM) stops everything.

The tests (tests/cluster/) start the same cluster on free ports and stop, kill and restart its
parts. Needs the Debian packages postgresql, redis-server and haproxy (`.ci/run` installs them).

Usage: python -m scripts.runtime.cluster [--dir var/cluster] [--proxy-port 8080]
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from assistant import paths
from scripts.processes import free_port, http_ok, port_open, stop_group, wait_for

NODES = 2
HAPROXY_CONFIG = paths.PROJECT_ROOT / "deploy" / "haproxy.cfg"
PRODUCTION_ENDPOINTS = paths.PROJECT_ROOT / "deploy" / "endpoints.production.yml"
PACKAGES = "postgresql redis-server haproxy"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit(f"PostgreSQL is not installed: apt-get install {PACKAGES}")
    return Path(found[-1]).parent


def require(program: str) -> str:
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if not path:
        raise SystemExit(f"{program} is not installed: apt-get install {PACKAGES}")
    return path


@dataclass
class Ports:
    proxy: int = 8080
    postgres: int = 55432
    redis: int = 56379
    rasa: List[int] = field(default_factory=lambda: [5101, 5102])
    actions: List[int] = field(default_factory=lambda: [5151, 5152])

    @classmethod
    def free(cls) -> Ports:
        return cls(
            free_port(),
            free_port(),
            free_port(),
            [free_port() for _ in range(NODES)],
            [free_port() for _ in range(NODES)],
        )


class LocalCluster:
    """PostgreSQL, Redis, two nodes and HAProxy, in `home` (kept between runs: data survive)."""

    def __init__(self, home: Path, ports: Ports, extra_env: Dict[str, str] | None = None) -> None:
        self.home = home
        self.ports = ports
        self.extra_env = extra_env or {}
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.secrets = self._secrets()
        self.processes: Dict[str, subprocess.Popen] = {}

    # --- configuration -------------------------------------------------------------------------
    def _secrets(self) -> Dict[str, str]:
        path = self.home / "secrets.env"
        if not path.exists():
            values = {
                name: secrets.token_urlsafe(24)
                for name in ("DB_PASSWORD", "REDIS_PASSWORD", "WEB_SESSION_SECRET", "REST_API_KEY")
            }
            values["RASA_API_TOKEN"] = secrets.token_urlsafe(24)
            path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
            path.chmod(0o600)
        return dict(line.split("=", 1) for line in path.read_text().split())

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.proxy}"

    @property
    def database_url(self) -> str:
        return (
            f"postgresql://assistant:{self.secrets['DB_PASSWORD']}@127.0.0.1:{self.ports.postgres}/assistant"
        )

    def node_env(self, index: int) -> Dict[str, str]:
        """A node's environment: what the README's "Production" section tells a clinic to set."""
        env = dict(os.environ)
        env.update(
            ASSISTANT_PROFILE="production",
            ASSISTANT_VAR=str(self.home / f"node-{index + 1}"),
            RASA_INSTANCE=f"rasa-{index + 1}",
            DB_HOST="127.0.0.1",
            DB_PORT=str(self.ports.postgres),
            DB_NAME="assistant",
            DB_USER="assistant",
            DB_PASSWORD=self.secrets["DB_PASSWORD"],
            REDIS_URL=f"redis://:{self.secrets['REDIS_PASSWORD']}@127.0.0.1:{self.ports.redis}/0",
            WEB_SESSION_SECRET=self.secrets["WEB_SESSION_SECRET"],
            REST_API_KEY=self.secrets["REST_API_KEY"],
            RASA_API_TOKEN=self.secrets["RASA_API_TOKEN"],
            SQL_POOL_SIZE="5",
            SQL_MAX_OVERFLOW="5",
            RASA_TELEMETRY_ENABLED="false",
            # Two servers share this machine's cores: each one runs its NLU on the event loop
            # and TensorFlow on one thread (rasa_patches/nlu_thread.py).
            NLU_THREAD="off",
            TRUSTED_PROXY_HOPS="1",  # HAProxy records the client's address
            TF_INTRA_OP_PARALLELISM_THREADS="1",
            TF_INTER_OP_PARALLELISM_THREADS="1",
        )
        env.pop("ACTION_SERVER_TOKEN", None)  # each node makes its own
        env.pop("ACTION_SERVER_URL", None)
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: List[str], env: Dict[str, str] | None = None, **kwargs) -> None:
        log = self.home / f"{name}.log"
        self.processes[name] = subprocess.Popen(
            args,
            env=env or dict(os.environ),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )

    # --- PostgreSQL ----------------------------------------------------------------------------
    def _postgres_dir(self) -> Path:
        """PostgreSQL refuses to run as root: as root, its data live in a directory of the
        postgres user (under /tmp, which that user can reach), named in `home`."""
        if os.geteuid() != 0:
            return self.home / "postgres"
        pointer = self.home / "postgres-dir"
        if pointer.exists() and Path(pointer.read_text()).exists():
            return Path(pointer.read_text())
        directory = Path(tempfile.mkdtemp(prefix="assistant-postgres-"))
        postgres = pwd.getpwnam("postgres")
        os.chown(directory, postgres.pw_uid, postgres.pw_gid)
        pointer.write_text(str(directory))
        return directory

    def _as_postgres(self, args: List[str]) -> List[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def start_postgres(self) -> None:
        bin_dir, data = postgres_bin(), self._postgres_dir()
        if not (data / "data" / "PG_VERSION").exists():
            password_file = data / "password"
            password_file.write_text(self.secrets["DB_PASSWORD"])
            if os.geteuid() == 0:
                postgres = pwd.getpwnam("postgres")
                os.chown(password_file, postgres.pw_uid, postgres.pw_gid)
            subprocess.run(
                self._as_postgres(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(data / "data"),
                        "--username=assistant",
                        f"--pwfile={password_file}",
                        "--auth=scram-sha-256",
                        "--encoding=UTF8",
                        "--locale=C",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            password_file.unlink()
        self._spawn(
            "postgres",
            self._as_postgres(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data / "data"),
                    "-p",
                    str(self.ports.postgres),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={data}",
                    "-c",
                    "max_connections=100",
                ]
            ),
        )
        wait_for(lambda: port_open(self.ports.postgres), "PostgreSQL", self.processes["postgres"])
        env = dict(os.environ, PGPASSWORD=self.secrets["DB_PASSWORD"])
        exists = subprocess.run(
            [
                str(bin_dir.parent / "bin" / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports.postgres),
                "-U",
                "assistant",
                "-d",
                "postgres",
                "-tAc",
                "SELECT 1 FROM pg_database WHERE datname = 'assistant'",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if exists.stdout.strip() != "1":
            subprocess.run(
                [
                    str(bin_dir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.ports.postgres),
                    "-U",
                    "assistant",
                    "assistant",
                ],
                env=env,
                check=True,
            )

    # --- Redis ---------------------------------------------------------------------------------
    def start_redis(self) -> None:
        (self.home / "redis").mkdir(mode=0o700, exist_ok=True)
        config = self.home / "redis.conf"  # the password stays off the command line
        config.write_text(
            f"port {self.ports.redis}\nbind 127.0.0.1\nrequirepass {self.secrets['REDIS_PASSWORD']}\n"
            f'save ""\nappendonly no\ndir {self.home / "redis"}\n'
        )
        config.chmod(0o600)
        self._spawn("redis", [require("redis-server"), str(config)])
        wait_for(lambda: port_open(self.ports.redis), "Redis", self.processes["redis"])

    # --- the nodes and the proxy ---------------------------------------------------------------
    def start_node(self, index: int) -> None:
        name = f"node-{index + 1}"
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "scripts.runtime.supervise",
                "run",
                "--rasa-port",
                str(self.ports.rasa[index]),
                "--action-port",
                str(self.ports.actions[index]),
            ],
            env=self.node_env(index),
            cwd=paths.PROJECT_ROOT,
        )
        wait_for(
            lambda: http_ok(f"http://127.0.0.1:{self.ports.rasa[index]}/"),
            f"the Rasa server of {name}",
            self.processes[name],
            self.home / f"{name}.log",
        )

    def start_proxy(self) -> None:
        env = dict(
            os.environ,
            PROXY_BIND=f"127.0.0.1:{self.ports.proxy}",
            RASA_1_ADDR=f"127.0.0.1:{self.ports.rasa[0]}",
            RASA_2_ADDR=f"127.0.0.1:{self.ports.rasa[1]}",
            RASA_1_NAME="rasa-1",  # each node's RASA_INSTANCE (node_env): its web chat sessions
            RASA_2_NAME="rasa-2",
        )
        self._spawn("haproxy", [require("haproxy"), "-db", "-f", str(HAPROXY_CONFIG)], env=env)
        wait_for(lambda: port_open(self.ports.proxy), "HAProxy", self.processes["haproxy"])

    def start(self) -> None:
        self.start_postgres()
        self.start_redis()
        for index in range(NODES):  # one after the other: the first creates the tables
            self.start_node(index)
        self.start_proxy()

    def rasa_pid(self, index: int) -> int:
        """The Rasa server of a node (its supervisor starts it again when it stops)."""
        return int((self.home / f"node-{index + 1}" / "rasa-server.pid").read_text())

    def action_server_pid(self, index: int) -> int:
        """The action server of a node (likewise)."""
        return int((self.home / f"node-{index + 1}" / "action-server.pid").read_text())

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        stop_group(self.processes.pop(name, None), sig)

    def stop(self) -> None:
        for name in ["haproxy", *(f"node-{i + 1}" for i in range(NODES)), "redis"]:
            self.stop_process(name)
        # PostgreSQL's "fast" shutdown
        self.stop_process("postgres", signal.SIGINT)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", default=str(paths.VAR / "cluster"))
    parser.add_argument("--proxy-port", type=int, default=8080)
    args = parser.parse_args()
    os.umask(0o077)
    cluster = LocalCluster(Path(args.dir).resolve(), Ports(proxy=args.proxy_port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
        print(
            f"\nThe cluster is running: {cluster.proxy_url} (HAProxy) -> two Rasa servers "
            f"(ports {cluster.ports.rasa}), PostgreSQL on {cluster.ports.postgres}, Redis on "
            f"{cluster.ports.redis}. Logs and secrets: {cluster.home}. Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
