"""The real servers for end-to-end tests: our action server and Rasa server, started once per
session on free ports with a private SQLite tracker store (tests/servers.py)."""

from __future__ import annotations

import itertools
import re
from typing import Iterator

import pytest

from tests.servers import ClusterStack, Stack, running_stack


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if request.config.getoption("--cluster"):
        yield ClusterStack(request.getfixturevalue("cluster"))
        return
    with running_stack(tmp_path_factory.mktemp("stack")) as servers:
        yield servers


_sender_numbers = itertools.count(1)


@pytest.fixture
def sender(request: pytest.FixtureRequest) -> str:
    """A fresh conversation id per test."""
    return f"test-{re.sub(r'[^A-Za-z0-9_]+', '-', request.node.name)[:40]}-{next(_sender_numbers)}"
