"""Red-flag escalation: measured on our safety sets through the real Rasa server's NLU (spaCy
patterns + DIET), and end to end on REST and SMS."""
from __future__ import annotations

from typing import Dict, List

import pytest
import yaml

from actions.replies import DISCLAIMER
from tests.servers import PROJECT_ROOT
from tests.test_twilio_sms import post, sms_replies, twilio_form

URGENT = "report_urgent_symptom"
SETS = {
    # written against the red-flag list; the patterns were tuned on its misses
    "safety_test_set": {"min_recall": 0.98, "max_false_escalation": 0.10},
    # written blind (without seeing detector or data), kept for an honest estimate; its gate
    # is looser so that it catches regressions without failing on one borderline message
    "safety_blind_set": {"min_recall": 0.90, "max_false_escalation": 0.15},
}


def load(name: str) -> Dict[str, List[str]]:
    return yaml.safe_load((PROJECT_ROOT / "tests" / "data" / f"{name}.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(SETS))
def test_urgent_recall_and_false_escalation(stack, name, capsys):
    data = load(name)
    missed = [t for t in data["urgent"] if stack.parse(t)["intent"]["name"] != URGENT]
    escalated = [t for t in data["not_urgent"] if stack.parse(t)["intent"]["name"] == URGENT]
    recall = 1 - len(missed) / len(data["urgent"])
    false_escalation = len(escalated) / len(data["not_urgent"])
    with capsys.disabled():
        print_outcome(name, data, recall, false_escalation, missed, escalated)
    assert recall >= SETS[name]["min_recall"]
    assert false_escalation <= SETS[name]["max_false_escalation"]


def print_outcome(name, data, recall, false_escalation, missed, escalated) -> None:
    print(f"\n{name}: urgent recall {recall:.3f} ({len(data['urgent'])} urgent), "
          f"false escalation {false_escalation:.3f} ({len(data['not_urgent'])} look-alikes)")
    print("  missed:\n    " + "\n    ".join(missed))
    print("  escalated:\n    " + "\n    ".join(escalated))


def test_safety_sets_are_held_out():
    training = (PROJECT_ROOT / "data" / "nlu.yml").read_text(encoding="utf-8").lower()
    for name in SETS:
        data = load(name)
        leaked = [t for t in data["urgent"] + data["not_urgent"] if f"- {t.lower()}\n" in training]
        assert leaked == [], name


def assert_urgent_only(stack, sender, replies) -> None:
    assert len(replies) == 1, replies  # nothing else in that turn: no FAQ, no "did you mean"
    text = replies[0]["text"]
    assert text.startswith("Urgent") and text.count(DISCLAIMER) == 1
    metadata = stack.bot_events(sender)[-1]["metadata"]
    assert metadata["kind"] == "urgent" and "answer_key" not in metadata


@pytest.mark.parametrize("message", [
    "my wound is red and oozing, how do i keep it clean?",    # an FAQ question with a red flag
    "i cant feel my legs properly since this morning",
    "no fever but the dressing is soaked with blood",
    "im 2 days post op and i cant pee at all",
    "I have chest pain and I'm short of breath",
    "terrible headache when i sit up, goes when i lie flat " * 40,  # long: still urgent first
])
def test_red_flags_get_only_the_urgent_guidance(stack, sender, message):
    assert_urgent_only(stack, sender, stack.rest(sender, message))


@pytest.mark.parametrize("message, answer_key", [
    ("some soreness around the incision is normal?", "incision_care"),
    ("when can I shower?", "incision_care"),
    ("is there a risk of infection?", "infection_risk"),
    ("what is a dural tear?", "dural_tear_csf_leak"),
])
def test_look_alikes_are_answered_normally(stack, sender, message, answer_key):
    [reply] = stack.rest(sender, message)
    assert not reply["text"].startswith("Urgent")
    assert stack.bot_events(sender)[-1]["metadata"].get("answer_key") == answer_key


def test_negated_symptoms_are_not_escalated(stack, sender):
    [reply] = stack.rest(sender, "no fever and I don't have any leakage, will I need physical therapy?")
    assert stack.bot_events(sender)[-1]["metadata"]["kind"] != "urgent"


def test_red_flags_escalate_over_sms(stack):
    [text] = sms_replies(post(stack, twilio_form("+447700900321", "my incision is hot and leaking pus")))
    assert text.startswith("Urgent") and DISCLAIMER in text and len(text) <= 320
