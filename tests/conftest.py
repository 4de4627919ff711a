"""Fixtures for every test: the domain as the action server receives it, a Tracker plus a
CollectingDispatcher for the actions, and the local cluster (scripts/runtime/cluster.py) for the tests
that run through it (`--cluster`). (One server: tests/e2e/conftest.py.)"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Dict, Iterator

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.helpers import DOMAIN

# Tests record unanswered turns too: keep them out of the developer's var/review_queue.db.
os.environ.setdefault("REVIEW_DB", os.path.join(tempfile.mkdtemp(prefix="review-"), "review_queue.db"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cluster",
        action="store_true",
        help="run the end-to-end tests through the local cluster (HAProxy, two nodes, PostgreSQL, Redis)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "single_server: needs the one-server stack (skipped with --cluster)")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if config.getoption("--cluster"):
        skip = pytest.mark.skip(reason="restarts or replaces the one server: tests/cluster covers failover")
        for item in items:
            if "single_server" in item.keywords:
                item.add_marker(skip)


CLUSTER_PROGRAMS = ("haproxy", "redis-server", "runuser")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """PostgreSQL, Redis, two nodes and HAProxy on free ports, as `make cluster` starts them."""
    import glob

    from scripts.runtime.cluster import LocalCluster, Ports
    from tests.helpers import CLINIC_ENV

    missing = [p for p in CLUSTER_PROGRAMS if not shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        missing.append("postgres")
    if missing:
        message = f"the cluster needs {', '.join(missing)}: apt-get install postgresql redis-server haproxy"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("cluster")
    extra = {**CLINIC_ENV, "REVIEW_DB": str(home / "unused-review.db")}
    local = LocalCluster(home, Ports.free(), extra_env=extra)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The domain as the action server receives it (responses included)."""
    return DOMAIN


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: str | None,
    confidence: float = 0.95,
    text: str = "a question",
    channel: str = "rest",
    entities: Any = (),
) -> Tracker:
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": confidence}] if intent else [],
        "entities": list(entities),
    }
    events = [{"event": "user", "text": text, "parse_data": latest_message, "input_channel": channel}]
    return Tracker("patient-1", {}, latest_message, events, False, None, {}, "action_listen")


@pytest.fixture
def tracker_for():
    return make_tracker
