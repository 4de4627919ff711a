"""Settings shared by the actions and our Rasa server components. Each value has one home."""
from __future__ import annotations

import os
from typing import Dict

import yaml

from actions.content import PROJECT_ROOT


def _fallback_classifier_setting(name: str) -> float:
    """Read a FallbackClassifier setting from config.yml, so NLU and actions use one value."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component[name])
    raise RuntimeError("config.yml has no FallbackClassifier")


# The intent our red-flag detector (components/red_flag_detector.py) sets for urgent symptoms.
URGENT_INTENT = "report_urgent_symptom"

# Below this intent confidence no answer is given (home: config.yml, FallbackClassifier).
ANSWER_CONFIDENCE_THRESHOLD = _fallback_classifier_setting("threshold")

# "Did you mean": answers whose confidence is at least this, among the top 3, are offered as
# choices when the assistant is not sure enough to answer (below the threshold above).
CLARIFY_MIN_CONFIDENCE = 0.1
CLARIFY_MAX_CHOICES = 3

# How long the Rasa server waits for the action server before it sends the "unavailable" reply.
ACTION_SERVER_TIMEOUT_SECONDS = float(os.environ.get("ACTION_SERVER_TIMEOUT_SECONDS", "10"))

# The clinic's details, filled into replies wherever a response names them, e.g. {clinic_phone}.
# Safe defaults for local use; a clinic sets them in the environment (see README).
CLINIC_CONTACT: Dict[str, str] = {
    "clinic_name": os.environ.get("CLINIC_NAME", "the clinic"),
    "clinic_phone": os.environ.get("CLINIC_PHONE", "the number on your clinic letter"),
    "emergency_number": os.environ.get("EMERGENCY_NUMBER", "your local emergency number"),
}
