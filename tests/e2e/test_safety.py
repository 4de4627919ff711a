"""Red-flag escalation through the real Rasa server (patterns + the learned urgency classifier), on
the safety sets we wrote (corpus/written/; real patients' messages: test_real_text.py), and end to
end on REST and SMS: the level's guidance, and nothing else in that turn."""

from __future__ import annotations

import pytest

from assistant.corpus import written_safety_sets
from scripts.lab.safety_sets import measure
from tests.helpers import (
    CLINIC_ENV,
    DISCLAIMER,
    PROJECT_ROOT,
    SMS_DISCLAIMER,
    nlu_examples,
    post_sms,
    sms_replies,
    twilio_form,
)

URGENT = "report_urgent_symptom"
# Through the whole NLU: the patterns and the urgency classifier. Recall as the matcher's own
# tests ask; false escalation is the classifier's cost at its recall-first thresholds (config.yml):
# it escalates a third of the look-alikes we wrote (0.33 tuned, 0.25 blind on 2026-12-07), where
# the patterns alone escalate under 0.06 of them. Reading when and whether on real look-alikes is
# the open work of issue 17.
TUNED_GATE = {"recall": 0.99, "emergency_recall": 0.97, "false_escalation": 0.40}
BLIND_GATE = {"recall": 0.93, "emergency_recall": 0.90, "false_escalation": 0.32}


def parsed_level(stack, text: str) -> str | None:
    parsed = stack.parse(text)
    if parsed["intent"]["name"] != URGENT:
        return None
    return next(e["value"] for e in parsed["entities"] if e["entity"] == "urgency")


@pytest.mark.parametrize("blind", [False, True], ids=["tuned", "blind"])
def test_urgent_recall_and_false_escalation_through_the_server(stack, blind, capsys):
    sets = [s for s in written_safety_sets() if s.blind == blind]
    outcome = measure(
        "written by us, blind safety sets" if blind else "written by us, safety sets tuned and trained on",
        sets,
        lambda t: parsed_level(stack, t),
    )
    with capsys.disabled():  # blind sets: figures only, so that they stay unread
        print("\n" + (outcome.summary() if blind else outcome.details()))
    gate = BLIND_GATE if blind else TUNED_GATE
    assert outcome.recall >= gate["recall"]
    assert outcome.emergency_recall >= gate["emergency_recall"]
    assert outcome.false_escalation <= gate["false_escalation"]


def test_safety_sets_are_held_out():
    training = {text.lower() for _, text in nlu_examples(PROJECT_ROOT / "data" / "nlu.yml")}
    leaked = [t for s in written_safety_sets() for t in s.urgent + s.not_urgent if t.lower() in training]
    assert leaked == []


def assert_urgent_only(stack, sender, replies, level: str) -> None:
    assert len(replies) == 1, replies  # nothing else in that turn: no FAQ, no "did you mean"
    text = replies[0]["text"]
    assert text.startswith("Urgent") and text.count(DISCLAIMER) == 1
    first_sentence = text.split(". ")[0]
    if level == "emergency":  # the emergency number first: nothing may delay the call
        assert CLINIC_ENV["EMERGENCY_NUMBER"] in first_sentence and "now" in first_sentence
    else:
        assert CLINIC_ENV["CLINIC_PHONE"] in first_sentence and "today" in first_sentence
    metadata = stack.bot_events(sender)[-1]["metadata"]
    assert metadata["kind"] == "urgent" and "answer_key" not in metadata
    assert metadata["urgency"] == level and metadata["red_flags"]


@pytest.mark.parametrize(
    "message, level",
    [
        ("my wound is red and oozing, how do i keep it clean?", "same_day"),  # an FAQ question too
        ("i cant feel my legs properly since this morning", "emergency"),
        ("no fever but the dressing is soaked with blood", "emergency"),
        ("im 2 days post op and i cant pee at all", "emergency"),
        ("my chest hurts and I cant breathe", "emergency"),
        ("temp is 38.5 and I'm shivering", "same_day"),
        ("fever since yesterday and now I can't breathe properly", "emergency"),  # both: emergency
        ("terrible headache when i sit up, goes when i lie flat " * 40, "same_day"),  # long message
    ],
)
def test_red_flags_get_only_the_urgent_guidance_at_their_level(stack, sender, message, level):
    assert_urgent_only(stack, sender, stack.rest(sender, message), level)


@pytest.mark.parametrize(
    "message, answer_keys",
    [
        ("some soreness around the incision is normal?", {"incision_care", "pain_after_surgery"}),
        ("when can I shower?", {"incision_care"}),
        ("is there a risk of infection?", {"infection_risk"}),
        ("what is a dural tear?", {"dural_tear_csf_leak"}),
    ],
)
def test_look_alikes_are_answered_normally(stack, sender, message, answer_keys):
    [reply] = stack.rest(sender, message)
    assert not reply["text"].startswith("Urgent")
    assert stack.bot_events(sender)[-1]["metadata"].get("answer_key") in answer_keys


def test_negated_symptoms_are_not_escalated(stack, sender):
    [reply] = stack.rest(sender, "no fever and I don't have any leakage, will I need physical therapy?")
    assert stack.bot_events(sender)[-1]["metadata"]["kind"] != "urgent"


@pytest.mark.parametrize(
    "phone, message, first",
    [
        ("+447700900321", "my incision is hot and leaking pus", "Urgent: contact your surgeon's team today"),
        ("+447700900322", "i collapsed in the bathroom and my chest hurts", "Urgent: call 999 now"),
    ],
)
def test_red_flags_escalate_over_sms_in_one_text(stack, phone, message, first):
    [text] = sms_replies(post_sms(stack, twilio_form(phone, message)))
    assert text.startswith(first) and SMS_DISCLAIMER in text and len(text) <= 320
