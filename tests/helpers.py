"""Helpers shared by the tests: the wording they check against, read from domain.yml (its one
home), and NLU YAML parsing."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def response(name: str, channel: str = "") -> str:
    """A response's text for a channel (its generic variation when the channel has none)."""
    variations = DOMAIN["responses"][name]
    chosen = [v for v in variations if channel and v.get("channel") == channel] or [
        v for v in variations if not v.get("channel")]
    return chosen[0]["text"].strip()


DISCLAIMER = response("utter_disclaimer")  # web, REST and shell
SMS_DISCLAIMER = response("utter_disclaimer", "twilio")
PRIVACY_NOTICE = response("utter_sms_privacy_notice", "twilio")


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """(intent, text) of every example in a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(block["intent"], line.strip()[2:]) for block in data["nlu"]
            for line in block["examples"].splitlines() if line.strip()]


def examples_by_intent(path: Path) -> Dict[str, List[str]]:
    by_intent: Dict[str, List[str]] = {}
    for intent, text in nlu_examples(path):
        by_intent.setdefault(intent, []).append(text)
    return by_intent
