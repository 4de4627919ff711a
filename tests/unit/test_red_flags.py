"""The red-flag matcher on its own (nlu/red_flag_detector.py), on a blank spaCy pipeline:
no trained model, no servers. Our safety sets, and the cases a clinician reviewed."""

from __future__ import annotations

import gc
import time

import pytest
import spacy

from assistant.corpus import written_safety_sets
from safety.red_flag_matcher import RedFlagMatcher
from scripts.lab.safety_sets import measure

TUNED_GATE = {"recall": 0.99, "emergency_recall": 0.97, "false_escalation": 0.05}
# Blind sets are never tuned on: a looser gate that catches regressions, not one message.
BLIND_GATE = {"recall": 0.93, "emergency_recall": 0.90, "false_escalation": 0.15}


@pytest.fixture(scope="module")
def matcher() -> RedFlagMatcher:
    return RedFlagMatcher(spacy.blank("en"))


def level(matcher: RedFlagMatcher, text: str):
    return matcher.find(text).level


def assert_within(outcome, gate) -> None:
    assert outcome.recall >= gate["recall"], outcome.details()
    assert outcome.emergency_recall >= gate["emergency_recall"], outcome.details()
    assert outcome.false_escalation <= gate["false_escalation"], outcome.details()


def test_our_safety_sets_are_big_enough():
    sets = [s for s in written_safety_sets() if not s.blind]
    assert sum(len(s.urgent) for s in sets) >= 250 and sum(len(s.not_urgent) for s in sets) >= 150
    assert any(s.blind for s in written_safety_sets())


def test_tuned_safety_sets(matcher, capsys):
    outcome = measure(
        "safety sets tuned on", [s for s in written_safety_sets() if not s.blind], lambda t: level(matcher, t)
    )
    with capsys.disabled():
        print("\n" + outcome.details())
    assert_within(outcome, TUNED_GATE)


@pytest.mark.parametrize("safety_set", [s for s in written_safety_sets() if s.blind], ids=lambda s: s.name)
def test_blind_safety_set(matcher, safety_set, capsys):
    outcome = measure(safety_set.name, [safety_set], lambda t: level(matcher, t))
    with capsys.disabled():  # figures only: the messages stay unread, so they stay blind
        print("\n" + outcome.summary())
    assert_within(outcome, BLIND_GATE)


@pytest.mark.parametrize(
    "text, expected",
    [
        # persistence is not denial
        ("my wound won't stop leaking", "same_day"),
        ("i can't stop shivering", "same_day"),
        ("it hasn't stopped bleeding", "emergency"),
        ("the numbness in my groin hasn't gone away", "emergency"),
        ("still can't pee since last night", "emergency"),
        # a denial covers only what it denies
        ("no fever but my wound is leaking", "same_day"),
        ("not bleeding but I can't feel my legs", "emergency"),
        # a question or worry covers only its own clause
        ("the pain in my chest is going down my arm", "emergency"),
        ("I've had a fever since yesterday, what if it's infected?", "same_day"),
        ("my leg is really swollen is that a clot", "same_day"),
        # symptoms a patient describes in their own words
        ("i can't walk since this morning", "emergency"),
        ("my legs won't work", "emergency"),
        ("my left leg is swollen and tight", "same_day"),
        ("haven't passed urine since last night", "emergency"),
        ("numb down there", "emergency"),
        ("my husband is very confused and hard to wake", "emergency"),
        ("keep vomiting and can't keep fluids down", "same_day"),
        ("had my neck op on monday, now it's hard to swallow and my neck is swelling", "emergency"),
        ("my lips and tongue are swelling up", "emergency"),
        ("headache that's worse when I sit up", "same_day"),
        ("the painkillers aren't touching the pain", "same_day"),
        ("my foot has got number and weaker over the last three days", "same_day"),
        ("clear fluid is leaking from my incision", "same_day"),
        ("I have chest pain and I'm short of breath", "emergency"),
        ("coughed up blood this morning", "emergency"),
        ("I fainted in the bathroom", "emergency"),
        ("passed out for a few seconds, feel ok now", "emergency"),
        # both levels in one message: the emergency level
        ("temp of 38.9 and now I can't breathe properly", "emergency"),
        ("my wound is red and hot and I've wet myself without knowing", "emergency"),
        # typos and shorthand
        ("temprature 39 and shaking", "same_day"),
        ("BLEEDING WONT STOP FROM THE CUT", "emergency"),
        ("incison is red n oozing", "same_day"),
        ("cant breath", "emergency"),
        # a question whether it is normal, about what the patient has now
        ("is it normal to have a fever of 39 since the op?", "same_day"),
        ("I have a temperature of 38.5 now, side effect?", "same_day"),
        ("is it normal to not be able to pee since the surgery?", "emergency"),
        ("is it common to get a headache when I stand up, I have it now", "same_day"),
    ],
)
def test_reports_are_escalated_at_their_level(matcher, text, expected):
    assert level(matcher, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "could the wound get infected",
        "is heavy bleeding common",
        "what if I get a fever after the op?",
        "is there a risk of a blood clot?",
        "pain down the back of my leg, will the surgery help?",
        "I've had sciatica and a numb foot for two years, is this surgery for me?",
        "can't wait to get back in the saddle after the op",
        "had a fever last week, it's gone now",
        "the bleeding stopped after five minutes of pressure",
        "no fever, no leaking, when can I shower?",
        "some soreness around the incision is normal?",
        "what are the signs of a CSF leak?",
        "my friend passed out after her op, could that happen to me?",
        "I nearly fainted when I saw the parking prices",
        "can I take paracetamol for a headache after the op?",
        "what is a dural tear?",
        "is it normal to have a fever after surgery?",
        "is a fever a side effect of the surgery?",
        "what if I get a fever of 39?",
    ],
)
def test_look_alikes_are_not_escalated(matcher, text):
    assert level(matcher, text) is None


def test_found_flags_point_at_the_words_in_the_text(matcher):
    text = "Hi, quick one. My WOUND is oozing since Tuesday"
    [flag] = matcher.find(text).flags
    assert flag.name == "wound_problem" and text[flag.start : flag.end].lower() == "oozing"


def test_long_messages_take_linear_time(matcher):
    """A guard against the quadratic blow-up the old matcher had (20,000 characters of "? " took
    12 s): ten times the text may take about ten times as long, never a hundred."""

    def seconds(text: str) -> float:
        gc.disable()  # the algorithm's cost, not a collection of the whole process's objects
        try:
            started = time.perf_counter()
            matcher.find(text)
            return time.perf_counter() - started
        finally:
            gc.enable()

    for unit in ("? ", "my wound is red, what if it's infected? no fever. "):
        short, long_ = unit * (2_000 // len(unit)), unit * (20_000 // len(unit))
        seconds(short)  # warm up
        assert seconds(long_) < 40 * max(seconds(short), 0.002)


def test_every_red_flag_has_reports_in_our_safety_sets(matcher):
    """README, "Add a red flag": a new flag comes with reports of it (and look-alikes) in a
    tuned safety set, so that its patterns are measured."""
    found = {
        f.name
        for s in written_safety_sets()
        if not s.blind
        for text in s.urgent
        for f in matcher.find(text).flags
    }
    without = sorted(set(matcher.levels) - found)
    assert not without, (
        f"red flags with no report in corpus/written/safety/tuned/: {without}; add messages that "
        "describe them, under their level, and look-alikes under not_urgent"
    )
