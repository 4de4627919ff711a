"""The Rasa server's check of what the action server replies: our prepared validator must accept
and refuse exactly what Rasa's own `_validate_action_result` does."""

from __future__ import annotations

import copy

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from components import action_server_guard

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
    assert action_server_guard._validate_with_a_prepared_validator(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_refuses_what_rasa_refuses_with_the_same_error(action, result):
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        RASA_VALIDATE(action, copy.deepcopy(result))
    with pytest.raises(jsonschema.ValidationError) as our_error:
        action_server_guard._validate_with_a_prepared_validator(action, result)
    assert our_error.value.message == rasa_error.value.message
    assert "Failed to validate Action server response from API" in our_error.value.message
