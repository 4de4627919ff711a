"""The baseline's action server: the least a stock Rasa project needs to run our domain.

Every custom action domain.yml lists is a rasa-sdk Action that sends one message: the response
`utter_<intent of the latest message>` when the domain has one (else `utter_default`, else a
generic sentence), with the disclaimer of `utter_disclaimer` appended. Served by rasa-sdk's own
server: `python -m rasa_sdk --actions scripts.lab.bench.baseline_actions --port 5055`.
"""

from __future__ import annotations

import os
import string
from typing import Any, Dict, List, Type

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import paths

GENERIC = "Sorry, I don't have an answer to that. Could you ask it another way?"
# Filled into responses that name them (as our actions do, from the environment).
PLACEHOLDERS = {
    "clinic_name": "CLINIC_NAME",
    "clinic_phone": "CLINIC_PHONE",
    "emergency_number": "EMERGENCY_NUMBER",
}


def response_text(responses: Dict[str, Any], name: str) -> str | None:
    """The first variation of a response meant for every channel."""
    for variation in responses.get(name) or []:
        if isinstance(variation, dict) and variation.get("text") and not variation.get("channel"):
            return str(variation["text"]).strip()
    return None


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def filled(text: str) -> str:
    values = _Fill({key: os.environ[var] for key, var in PLACEHOLDERS.items() if os.environ.get(var)})
    return string.Formatter().vformat(text, (), values)


def reply(domain: Dict[str, Any], intent: str | None) -> str:
    responses = domain.get("responses") or {}
    text = (
        (response_text(responses, f"utter_{intent}") if intent else None)
        or response_text(responses, "utter_default")
        or GENERIC
    )
    disclaimer = response_text(responses, "utter_disclaimer")
    return filled(f"{text}\n\n{disclaimer}" if disclaimer else text)


def _name(self: Action) -> str:
    return str(getattr(self, "action_name"))  # noqa: B009 - set per class below


async def _run(
    self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
) -> List[Dict[str, Any]]:
    """Reply with the response of the latest message's intent."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    dispatcher.utter_message(text=reply(domain, intent))
    return []


def custom_actions() -> List[str]:
    domain = yaml.safe_load(paths.DOMAIN.read_text(encoding="utf-8"))
    return [str(name) for name in domain.get("actions") or []]


def _action_class(name: str) -> Type[Action]:
    """An Action subclass for one action name (rasa-sdk registers every subclass it finds)."""
    attributes = {"action_name": name, "name": _name, "run": _run, "__module__": __name__}
    return type(f"Baseline_{name}", (Action,), attributes)


ACTIONS = {name: _action_class(name) for name in custom_actions()}
