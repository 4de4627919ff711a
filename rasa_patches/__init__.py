"""Every change we make to Rasa's internals, and the one place they are installed: `install()`.
Nothing outside this package assigns to an attribute of a `rasa` module (tests/unit/test_layout.py),
and tests/unit/test_rasa_patches.py checks that each patched attribute still exists with the
signature we wrote against, so a Rasa upgrade fails loudly instead of quietly unpatching.

    action_server.py   never silent when the action server fails; its replies validated faster
    nlu_thread.py      NLU on a thread of its own (a second core for the Rasa server)
    tracker_store.py   no in-memory fallback for our store; event types looked up once
    profiling.py       timers for the bench's profile of a turn (not installed: the profiler's own)

Installed when Rasa loads the model (nlu/rasa_patches_loader.py), in every mode. May import
assistant/ and stores/.
"""

from __future__ import annotations

from rasa_patches import action_server, nlu_thread, tracker_store

# (module, owner, attribute): what install() replaces, for the upgrade test.
PATCHED = [
    ("rasa.core.actions.action", "RemoteAction", "run"),
    ("rasa.core.actions.action", "RemoteAction", "_validate_action_result"),
    ("rasa.core.processor", "MessageProcessor", "parse_message"),
    ("rasa.core.tracker_store", "FailSafeTrackerStore", "on_tracker_store_error"),
    ("rasa.core.tracker_store", "FailSafeTrackerStore", "on_tracker_store_retrieve_error"),
    ("rasa.shared.core.events", "Event", "resolve_by_type"),
]


def install() -> None:
    """Idempotent: install every patch in this process."""
    action_server.install()
    nlu_thread.install()
    tracker_store.install()
