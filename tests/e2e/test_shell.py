"""Smoke test of the real interactive `rasa shell`, driven through a terminal with pexpect."""

from __future__ import annotations

import pexpect

from tests.helpers import DISCLAIMER
from tests.servers import BIN, MODEL, PROJECT_ROOT, free_port, server_env


def test_rasa_shell_answers_with_the_disclaimer_and_quits(stack, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{stack.action_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tmp_path / "shell.db"}"\n'
    )
    shell = pexpect.spawn(
        str(BIN / "rasa"),
        ["shell", "--endpoints", str(endpoints), "--model", str(MODEL), "--port", str(free_port())],
        cwd=str(PROJECT_ROOT),
        env=server_env(),
        encoding="utf-8",
        timeout=240,
        dimensions=(50, 300),
    )
    try:
        shell.expect("Bot loaded. Type a message and press enter")
        shell.sendline("will I need physical therapy?")
        shell.expect("Physical therapy may be recommended", timeout=60)
        shell.expect_exact(DISCLAIMER, timeout=30)
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
    finally:
        shell.close(force=True)
