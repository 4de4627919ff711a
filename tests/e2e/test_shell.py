"""`make shell` as staff use it: our supervisor starts the action server and the real interactive
`rasa shell`, driven here through a terminal with pexpect."""

from __future__ import annotations

import sys

import pexpect

from tests.helpers import CLINIC_ENV, DISCLAIMER
from tests.servers import PROJECT_ROOT, free_port, server_env


def test_make_shell_answers_with_the_disclaimer_and_quits(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        (PROJECT_ROOT / "endpoints.yml")
        .read_text()
        .replace('db: "var/tracker.db"', f'db: "{tmp_path / "shell.db"}"')
    )
    env = server_env(**CLINIC_ENV, ASSISTANT_VAR=str(tmp_path / "var"), REVIEW_DB=str(tmp_path / "rq.db"))
    for inherited in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_URL"):
        env.pop(inherited, None)
    shell = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "scripts.runtime.supervise",
            "shell",
            "--endpoints",
            str(endpoints),
            "--rasa-port",
            str(free_port()),
            "--action-port",
            str(free_port()),
        ],
        cwd=str(PROJECT_ROOT),
        env=env,
        encoding="utf-8",
        timeout=240,
        dimensions=(50, 300),
    )
    try:
        shell.expect("Bot loaded. Type a message and press enter")
        # Issue 19 (low): it listened on 0.0.0.0, after about twenty dependency deprecation warnings
        assert "Starting Rasa server on http://127.0.0.1:" in shell.before
        assert "DeprecationWarning" not in shell.before and "Warning:" not in shell.before, shell.before
        shell.sendline("will I need physical therapy?")
        shell.expect("Physical therapy may be recommended", timeout=60)
        shell.expect_exact(DISCLAIMER, timeout=30)
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    finally:
        shell.close(force=True)
    assert (tmp_path / "shell.db").exists()  # the conversation went to the configured store
