"""`make purge DAYS=n`: delete every conversation nobody has written to for n days, and the review
queue's rows older than that. The tracker store is the one endpoints.yml configures (SQLite, or
PostgreSQL in production), the queue the one the action server writes (REVIEW_DB)."""

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
    parser.add_argument("--days", type=float, required=True, help="delete what is older than this")
    parser.add_argument("--endpoints", help="default: the profile's (ASSISTANT_PROFILE)")
    args = parser.parse_args()
    endpoints = profile(dict(os.environ))
    args.endpoints = args.endpoints or endpoints
    if args.days < 0:
        parser.error("--days must be 0 or more")
    store = PatientTrackerStore.from_endpoint_config(tracker_store_config(Path(args.endpoints)))
    conversations = store.purge(args.days)
    rows = review_queue.purge(args.days)
    print(
        f"Deleted {len(conversations)} conversations and {rows} review-queue rows"
        f" older than {args.days:g} days."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
