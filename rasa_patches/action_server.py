"""Never silent: when the action server is down, slow or failing, the patient still gets a reply.

Rasa's own behaviour in that case is to log the error and send nothing (pitfall: "the user gets
no reply at all"). Every reply of ours comes from the action server, so this guard wraps the
Rasa server's call to it (`RemoteAction.run`): on a connection error, an HTTP error or a timeout
it sends `utter_unavailable` (clinic contact and emergency advice, with the disclaimer and
`kind: unavailable`) instead. It also validates the action server's reply with a validator
prepared once, instead of Rasa's per-call `jsonschema.validate` (the slowest step of a turn).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

from assistant.replies import unavailable
from assistant.settings import action_server_timeout_seconds

logger = logging.getLogger(__name__)

_original_run = RemoteAction.run


async def _run_or_apologise(
    self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
) -> List[Event]:
    try:
        return await asyncio.wait_for(
            _original_run(self, output_channel, nlg, tracker, domain), action_server_timeout_seconds()
        )
    except ActionExecutionRejection:  # a deliberate "not me" from an action: Rasa handles it
        raise
    except Exception as error:
        # Only the conversation id and the error type: no message text in the logs.
        logger.error(
            "Action server unavailable for %s (conversation %s): %s",
            self.name(),
            tracker.sender_id,
            type(error).__name__,
        )
        return [create_bot_utterance(unavailable(domain.responses, tracker.get_latest_input_channel()))]


_response_validator: Any = None  # RemoteAction.action_response_format_spec() is a constant


def _validate_with_a_prepared_validator(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """What Rasa's `_validate_action_result` does, without re-checking the (large, constant)
    response schema against JSON Schema's meta-schema at every turn: `jsonschema.validate` does
    that each call, and it cost more than the whole NLU pipeline (cProfile: about 60 % of a turn).
    The same errors are raised: `jsonschema.validate` raises the best match of the same iterator."""
    global _response_validator
    from jsonschema import exceptions, validators

    if _response_validator is None:
        schema = self.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once per process
        _response_validator = cls(schema)
    error = exceptions.best_match(_response_validator.iter_errors(result))
    if error is not None:
        error.message += (  # Rasa's words, so its logs read the same
            ". Failed to validate Action server response from API, make sure your response from "
            "the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Idempotent: wrap RemoteAction.run, and replace its result validation, once per process."""
    RemoteAction.run = _run_or_apologise
    RemoteAction._validate_action_result = _validate_with_a_prepared_validator
