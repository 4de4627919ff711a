"""Urgent guidance for red-flag symptoms, at the level found (emergency: call the emergency number
now; same day: contact the surgeon's team today), and nothing else in that turn (no FAQ content,
no "did you mean"). Detection happens in the Rasa server (nlu/red_flag_detector.py)."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction, send_urgent


class ActionUrgent(PatientAction):
    def name(self) -> str:
        return "action_urgent"

    def reply(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], intent: str | None
    ) -> None:
        send_urgent(dispatcher, tracker, domain)
