"""Process helpers shared by the runtime (make run, make cluster), the lab (bench) and the tests:
a free loopback port, waiting for a server to come up, and stopping a process started in a
session of its own together with its children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable

START_TIMEOUT_SECONDS = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as reply:
        return bool(reply.status == 200)


def wait_for(
    check: Callable[[], bool],
    what: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> None:
    """Until `check()` is true (connection errors count as not yet); fails with the log's tail
    when `process` exits first or `timeout` passes."""

    def tail() -> str:
        return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} stopped during start-up; log:\n{tail()}")
        try:
            if check():
                return
        except OSError:  # refused, reset, timed out (requests' errors are OSErrors too)
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s; log:\n{tail()}")


def stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started with start_new_session=True, and its group: `sig`, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
