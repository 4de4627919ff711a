"""Our patches of Rasa (rasa_patches/): the prepared validator of the action server's replies
accepts and refuses exactly what Rasa's own `_validate_action_result` does, and every patched
attribute still exists with the signature the patch was written against."""

from __future__ import annotations

import copy
import inspect

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import rasa_patches
from rasa_patches import action_server, nlu_thread, tracker_store

RASA_VALIDATE = RemoteAction._validate_action_result
VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]},
    {"responses": [{"text": "hi", "buttons": [{"title": "a", "payload": "/a"}], "custom": {}}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"no": "event key"}]},
    {"responses": "text"},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_answer_question", None)


@pytest.mark.parametrize("result", VALID)
def test_accepts_what_rasa_accepts(action, result):
    assert RASA_VALIDATE(action, copy.deepcopy(result)) is True
    assert action_server._validate_with_a_prepared_validator(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_refuses_what_rasa_refuses_with_the_same_error(action, result):
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        RASA_VALIDATE(action, copy.deepcopy(result))
    with pytest.raises(jsonschema.ValidationError) as our_error:
        action_server._validate_with_a_prepared_validator(action, result)
    assert our_error.value.message == rasa_error.value.message
    assert "Failed to validate Action server response from API" in our_error.value.message


# The signatures the patches were written against (Rasa 3.6): a Rasa upgrade that renames or
# reshapes one of them must fail here, not silently leave Rasa's own behaviour in place.
EXPECTED_SIGNATURES = {
    "run": ["self", "output_channel", "nlg", "tracker", "domain"],
    "_validate_action_result": ["self", "result"],
    "parse_message": ["self", "message", "tracker", "only_output_properties"],
    "on_tracker_store_error": ["self", "error"],
    "on_tracker_store_retrieve_error": ["self", "error"],
    "resolve_by_type": ["type_name", "default"],
}


@pytest.mark.parametrize("module, owner, attribute", rasa_patches.PATCHED)
def test_each_patched_rasa_attribute_still_exists_with_the_signature_we_patched(module, owner, attribute):
    import importlib

    # The originals, as the patch modules keep them (Rasa's own, before install()).
    originals = {
        "run": action_server._original_run,
        "_validate_action_result": RASA_VALIDATE,
        "parse_message": nlu_thread._rasa_parse_message,
        "on_tracker_store_error": tracker_store._rasa_on_error,
        "on_tracker_store_retrieve_error": tracker_store._rasa_on_retrieve_error,
        "resolve_by_type": tracker_store._rasa_resolve_by_type,
    }
    holder = getattr(importlib.import_module(module), owner)
    assert hasattr(holder, attribute), f"{module}.{owner}.{attribute} is gone: re-check rasa_patches/"
    assert list(inspect.signature(originals[attribute]).parameters) == EXPECTED_SIGNATURES[attribute]


def test_install_replaces_every_patched_attribute():
    import importlib

    rasa_patches.install()
    for module, owner, attribute in rasa_patches.PATCHED:
        if attribute == "parse_message" and not nlu_thread.nlu_on_its_own_thread():
            continue
        holder = getattr(importlib.import_module(module), owner)
        assert getattr(holder, attribute).__module__.startswith("rasa_patches."), (module, owner, attribute)
