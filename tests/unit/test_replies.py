"""What every reply reads like, channel by channel, without servers: readable for patients, one
SMS each (privacy notice included), a way to reach the clinic whenever we cannot answer."""

from __future__ import annotations

import itertools
from typing import Iterator, List, Tuple

import pytest
import textstat

from actions.dispatch import something_else, topic_buttons
from assistant import content, settings
from assistant.replies import SAFETY_NET_KINDS, Kind, compose
from assistant.replies import response_text as text_of
from channels.twilio_sms import SMS_CHANNEL, render_sms

ANSWERS = content.answers()

MAX_GRADE = 8  # Flesch-Kincaid school grade of every web text
MAX_SMS_CHARS = 320  # Twilio's advice for deliverability: one message
# A clinic's own details are usually longer than our local defaults.
TYPICAL_CLINIC = {
    "clinic_name": "Northgate Spine Clinic",
    "clinic_phone": "+44 20 7946 0000",
    "emergency_number": "999",
}
# Responses sent when we cannot answer: each must say how to reach the clinic.
CANNOT_ANSWER = [
    "utter_out_of_scope",
    "utter_out_of_scope_medical",
    "utter_personal_advice",
    "utter_fallback",
    "utter_clarify",
    "utter_bot_identity",
    "utter_not_understood",
    "utter_empty_message",
    "utter_message_too_long",
    "utter_no_words",
    "utter_markup",
    "utter_not_english",
    "utter_unavailable",
    "utter_help_topics",
]


@pytest.fixture(params=["defaults", "typical clinic"])
def clinic(request, monkeypatch):
    for key, (variable, _) in settings.CLINIC_DEFAULTS.items():
        if request.param == "typical clinic":
            monkeypatch.setenv(variable, TYPICAL_CLINIC[key])
        else:
            monkeypatch.delenv(variable, raising=False)
    return request.param


def response_text(domain, name, channel):
    return text_of(domain["responses"], name, channel)


def sms(domain, response_name, kind, buttons=(), then=()):
    """An SMS as the Twilio connector sends it."""
    return render_sms(compose(domain["responses"], SMS_CHANNEL, response_name, kind, buttons, then))


def web_texts(domain) -> Iterator[Tuple[str, str]]:
    for name in domain["responses"]:
        if name != "utter_something_else":
            yield name, response_text(domain, name, None)


def test_every_web_text_reads_at_school_grade_8_or_below(domain, clinic):
    too_hard = {name: textstat.flesch_kincaid_grade(text) for name, text in web_texts(domain)}
    too_hard = {name: grade for name, grade in too_hard.items() if grade > MAX_GRADE}
    assert not too_hard, f"Flesch-Kincaid grade above {MAX_GRADE}: {too_hard}"


def longest_titles(keys: List[str], n: int) -> List[Tuple[str, str]]:
    titles = sorted(((ANSWERS[k].title, f"/{k}") for k in keys), key=lambda c: -len(c[0]))
    return titles[:n]


def sms_replies(domain) -> Iterator[Tuple[str, str]]:
    """Every SMS the assistant can send, with the longest choices it can carry."""
    topics = topic_buttons()
    for key, answer in ANSWERS.items():
        then = ["utter_when_to_get_help"] if answer.when_to_get_help else []
        yield key, sms(domain, answer.response_name, Kind.ANSWER, then=then)
        related = longest_titles(content.related_answers(key), 3) + [something_else(domain)]
        yield f"related to {key}", sms(domain, "utter_follow_up_related", Kind.CLARIFY, related)
    clarify = longest_titles(list(ANSWERS), 3) + [something_else(domain)]
    yield "did you mean", sms(domain, "utter_clarify", Kind.CLARIFY, clarify)
    with_topics = [
        "utter_greet",
        "utter_help_topics",
        "utter_fallback",
        "utter_not_understood",
        "utter_follow_up_none",
    ]
    for name in domain["responses"]:
        if name in ("utter_sms_privacy_notice", "utter_something_else", "utter_when_to_get_help"):
            continue
        yield name, sms(domain, name, Kind.FALLBACK, topics if name in with_topics else ())


def test_every_sms_fits_one_message_with_the_privacy_notice(domain, monkeypatch):
    # With a clinic's own details: the local defaults ("the number on your clinic letter") are
    # placeholders that make run warns about, and never what a patient's SMS carries.
    for key, (variable, _) in settings.CLINIC_DEFAULTS.items():
        monkeypatch.setenv(variable, TYPICAL_CLINIC[key])
    notice = response_text(domain, "utter_sms_privacy_notice", SMS_CHANNEL)
    too_long = {
        name: len(f"{text}\n{notice}")
        for name, text in sms_replies(domain)
        if len(f"{text}\n{notice}") > MAX_SMS_CHARS
    }
    assert not too_long, f"over {MAX_SMS_CHARS} characters with the privacy notice: {too_long}"


@pytest.mark.parametrize("name", CANNOT_ANSWER)
def test_when_we_cannot_answer_we_say_how_to_reach_the_clinic(domain, name):
    for variation in domain["responses"][name]:
        assert "{clinic_phone}" in variation["text"], (name, variation.get("channel"))


@pytest.mark.parametrize("level", ["emergency", "same_day"])
def test_urgent_guidance_says_what_to_do_first(domain, level):
    contact = settings.clinic_contact()
    for channel in (None, SMS_CHANNEL, "socketio"):
        text = compose(domain["responses"], channel, f"utter_urgent_{level}", Kind.URGENT)["text"]
        first_sentence = text.split(". ")[0]
        assert text.startswith("Urgent")
        if level == "emergency":  # the call comes first: nothing may delay it
            assert contact["emergency_number"] in first_sentence
            assert "now" in first_sentence
        else:
            assert "today" in first_sentence and contact["clinic_phone"] in first_sentence
            assert contact["emergency_number"] in text


def test_answers_about_watching_for_problems_say_when_to_get_help(domain):
    flagged = {k for k, a in ANSWERS.items() if a.when_to_get_help}
    assert flagged >= {
        "infection_risk",
        "incision_care",
        "post_op_instructions",
        "pain_after_surgery",
        "nerve_damage_risk",
        "dural_tear_csf_leak",
    }
    text = compose(
        domain["responses"], None, "utter_infection_risk", Kind.ANSWER, then=["utter_when_to_get_help"]
    )["text"]
    contact = settings.clinic_contact()
    assert contact["clinic_phone"] in text and contact["emergency_number"] in text


def test_no_answer_reads_as_permission_or_a_promise(domain):
    starts = {
        k: response_text(domain, a.response_name, channel).lower()
        for k, a in ANSWERS.items()
        for channel in (None, SMS_CHANNEL)
    }
    assert not [k for k, text in starts.items() if text.startswith(("yes", "no "))]
    medicines = response_text(domain, "utter_medications_before_surgery", None).lower()
    assert "blood thinners" in medicines and "supplements" in medicines


def test_all_choices_combinations_are_distinct():
    titles = [a.title for a in ANSWERS.values()]
    assert len(set(titles)) == len(titles)
    assert all(a != b for a, b in itertools.combinations(titles, 2))


GSM7_SEGMENT = 160  # one SMS segment in the GSM-7 alphabet


@pytest.mark.parametrize("kind", sorted(SAFETY_NET_KINDS, key=lambda k: k.value))
@pytest.mark.parametrize("channel", [None, SMS_CHANNEL])
def test_every_reply_that_does_not_answer_ends_with_the_emergency_route(domain, kind, channel):
    message = compose(domain["responses"], channel, "utter_fallback", kind)
    route = response_text(domain, "utter_emergency_route", channel)
    assert message["text"].endswith(f"{route}\n{response_text(domain, 'utter_disclaimer', channel)}")
    assert settings.clinic_contact()["emergency_number"] in route


def test_answers_and_urgent_guidance_carry_no_second_emergency_line(domain):
    route = response_text(domain, "utter_emergency_route", None)
    for kind, name in ((Kind.ANSWER, "utter_recovery_time"), (Kind.URGENT, "utter_urgent_same_day")):
        assert route not in compose(domain["responses"], None, name, kind)["text"]


def test_an_emergency_sms_fits_one_segment_with_the_disclaimer(domain, monkeypatch):
    for key, (variable, _) in settings.CLINIC_DEFAULTS.items():
        monkeypatch.setenv(variable, TYPICAL_CLINIC[key])
    text = sms(domain, "utter_urgent_emergency", Kind.URGENT)
    assert text.isascii() and len(text) <= GSM7_SEGMENT, (len(text), text)


def test_the_sms_when_to_get_help_line_keeps_the_emergency_tier(domain):
    line = response_text(domain, "utter_when_to_get_help", SMS_CHANNEL)
    contact = settings.clinic_contact()
    assert contact["emergency_number"] in line and contact["clinic_phone"] in line
    assert "now" in line.split(contact["clinic_phone"])[-1]
