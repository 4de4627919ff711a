"""Two changes to how Rasa reads and guards a tracker store.

- No silent fallback: Rasa wraps every tracker store in a `FailSafeTrackerStore` that, when the
  database is unreachable, answers from an empty in-memory tracker (the patient's history gone)
  and keeps the turn in memory only. For our store (stores/tracker_store.py) the error is raised
  instead, so the channel tells the patient "unavailable" and nothing is acknowledged that was
  not stored. A DuplicateMessage (the turn is already stored) reaches the channel as it is.
  Other stores keep Rasa's behaviour.
- Event lookup remembered: Rasa's `Event.resolve_by_type` walks every Event subclass for each
  event it reads (about a fifth of reading a conversation, by cProfile); the answer never changes.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import Event

from stores.tracker_store import DuplicateMessage, PatientTrackerStore, StoreUnavailable

logger = logging.getLogger(__name__)

_rasa_on_error = FailSafeTrackerStore.on_tracker_store_error
_rasa_on_retrieve_error = FailSafeTrackerStore.on_tracker_store_retrieve_error
_rasa_resolve_by_type = Event.resolve_by_type
_event_classes: Dict[str, Any] = {}


def _raise_for_ours(fallback: Any) -> Any:
    def on_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(self._tracker_store, PatientTrackerStore):
            if isinstance(error, DuplicateMessage):
                raise error
            logger.error("Conversation store unavailable: %s", type(error).__name__)
            raise StoreUnavailable() from error
        fallback(self, error)

    return on_error


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    found = _event_classes.get(type_name)
    if found is None:
        found = _rasa_resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


def install() -> None:
    """Idempotent."""
    FailSafeTrackerStore.on_tracker_store_error = _raise_for_ours(_rasa_on_error)
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _raise_for_ours(_rasa_on_retrieve_error)
    Event.resolve_by_type = staticmethod(_resolve_by_type)
