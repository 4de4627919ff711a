"""Settings the actions share. Each value has one home, named next to it."""
from __future__ import annotations

import os

import yaml

from actions.content import PROJECT_ROOT


def _fallback_classifier_setting(name: str) -> float:
    """Read a FallbackClassifier setting from config.yml, so NLU and actions use one value."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component[name])
    raise RuntimeError("config.yml has no FallbackClassifier")


# Below this intent confidence no answer is given (home: config.yml, FallbackClassifier).
ANSWER_CONFIDENCE_THRESHOLD = _fallback_classifier_setting("threshold")

# Longer messages are not questions we can answer well; the patient is asked to shorten them.
MAX_MESSAGE_CHARS = 1000

CLINIC_NAME = os.environ.get("CLINIC_NAME", "the clinic")
