"""`make purge DAYS=n`: delete every conversation event and review-queue row older than n days,
in every conversation (a patient who writes monthly keeps only the window). The tracker store is
the one endpoints.yml configures (SQLite, or PostgreSQL in production), the queue the one the
action server writes (REVIEW_DB). Scheduled daily: deploy/README.md ("Retention")."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml
from rasa.shared.utils.io import read_yaml
from rasa.utils.endpoints import EndpointConfig

from scripts.runtime.profile import profile
from stores import review_queue
from stores.tracker_store import PatientTrackerStore


def tracker_store_config(endpoints: Path) -> EndpointConfig:
    """The tracker_store section of endpoints.yml, its ${VARIABLES} expanded: only that section,
    so that the action server's variables (set by `make run`) are not needed here."""
    section = yaml.safe_load(endpoints.read_text(encoding="utf-8"))["tracker_store"]
    return EndpointConfig.from_dict(read_yaml(yaml.safe_dump(section)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    retention = os.environ.get("RETENTION_DAYS")  # the deployment's setting (deploy/k8s/)
    parser.add_argument(
        "--days",
        type=float,
        required=retention is None,
        default=retention,
        help="delete what is older than this (default: RETENTION_DAYS)",
    )
    parser.add_argument("--endpoints", help="default: the profile's (ASSISTANT_PROFILE)")
    args = parser.parse_args()
    endpoints = profile(dict(os.environ))
    args.endpoints = args.endpoints or endpoints
    if args.days < 0:
        parser.error("--days must be 0 or more")
    store = PatientTrackerStore.from_endpoint_config(tracker_store_config(Path(args.endpoints)))
    events = store.purge(args.days)
    rows = review_queue.purge(args.days)
    print(f"Deleted {events} conversation events and {rows} review-queue rows older than {args.days:g} days.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
