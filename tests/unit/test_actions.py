"""Unit tests of the custom actions: a real Tracker and CollectingDispatcher, no servers."""

from __future__ import annotations

import pytest

from actions.answer_question import ActionAnswerQuestion
from actions.deflect import ActionDeflect
from actions.fallback import ActionDefaultFallback
from actions.smalltalk import ActionSmalltalk
from actions.topics import ActionShowTopics
from actions.urgent import ActionUrgent
from assistant import content, settings
from assistant.replies import Kind
from channels.socketio import markdown_line_breaks
from channels.twilio_sms import render_sms
from tests.helpers import DISCLAIMER, SMS_DISCLAIMER, SMS_EMERGENCY_ROUTE

ANSWERS, TOPICS = content.answers(), content.topics()
KINDS = {kind.value for kind in Kind}
CLINIC_CONTACT = settings.clinic_contact()


def response_text(domain, name, channel):
    from assistant.replies import response_text as text_of

    return text_of(domain["responses"], name, channel)


def only_message(dispatcher, disclaimer=DISCLAIMER):
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"].count(disclaimer) == 1
    assert message["text"].rstrip().endswith(disclaimer)
    assert "\n\n" not in message["text"]  # channels would split answer and disclaimer apart
    assert message["kind"] in KINDS
    return message


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_every_answer_key_gives_its_answer_with_the_disclaimer_once(key, domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for(key), domain)
    message = only_message(dispatcher)
    expected = domain["responses"][f"utter_{key}"][0]["text"].strip()
    assert message["text"].startswith(expected)
    assert message["kind"] == "answer"
    assert message["answer_key"] == key
    assert message["sections"] == list(ANSWERS[key].sections) and message["sections"]


def test_sms_channel_gets_the_short_variation(domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("recovery_time", channel="twilio"), domain)
    message = only_message(dispatcher, SMS_DISCLAIMER)
    sms = [v for v in domain["responses"]["utter_recovery_time"] if v.get("channel") == "twilio"][0]
    assert message["text"].startswith(sms["text"].strip())


def not_sure(tracker_for, ranking):
    """What the Rasa server sends when it is not sure enough to answer (nlu/answer_confidence.py):
    nlu_fallback, with the classifier's ranking kept for "did you mean"."""
    tracker = tracker_for("nlu_fallback", confidence=ranking[0][1])
    tracker.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return tracker


def test_not_sure_gives_no_guess_but_offers_the_likely_questions(domain, dispatcher, tracker_for):
    tracker = not_sure(tracker_for, [("hospital_stay", 0.4), ("recovery_time", 0.2)])
    ActionDefaultFallback().run(dispatcher, tracker, domain)
    message = only_message(dispatcher)
    assert message["kind"] == "clarify"
    assert "answer_key" not in message
    assert message["buttons"] == [
        {"title": ANSWERS["hospital_stay"].title, "payload": "/hospital_stay"},
        {"title": ANSWERS["recovery_time"].title, "payload": "/recovery_time"},
        {"title": "Something else", "payload": "/help_topics"},
    ]
    assert CLINIC_CONTACT["clinic_phone"] in message["text"]


def test_did_you_mean_needs_two_real_choices(domain, dispatcher, tracker_for):
    """One plausible candidate: no single-choice "did you mean", the topics."""
    tracker = not_sure(
        tracker_for, [("hospital_stay", 0.4), ("recovery_time", settings.CLARIFY_MIN_CONFIDENCE / 2)]
    )
    ActionDefaultFallback().run(dispatcher, tracker, domain)
    message = only_message(dispatcher)
    assert message["kind"] == "fallback" and len(message["buttons"]) == len(TOPICS)


def test_very_low_confidence_gives_the_fallback_with_the_topics(domain, dispatcher, tracker_for):
    ActionDefaultFallback().run(dispatcher, not_sure(tracker_for, [("hospital_stay", 0.05)]), domain)
    message = only_message(dispatcher)
    assert message["kind"] == "fallback" and "answer_key" not in message
    assert_offers_every_topic(message)


def test_the_action_server_trusts_the_rasa_servers_decision_to_answer(domain, dispatcher, tracker_for):
    """The decision is made once, in the Rasa server: an answer intent it sends is answered,
    whatever the classifier's confidence was (a button's payload carries 1.0, a decided
    answer the confidence of its section)."""
    ActionAnswerQuestion().run(dispatcher, tracker_for("hospital_stay", confidence=0.3), domain)
    assert only_message(dispatcher)["kind"] == "answer"


@pytest.mark.parametrize("intent", [None, "not_an_intent", "greet"])
def test_unknown_intent_gives_the_fallback(intent, domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for(intent), domain)
    assert only_message(dispatcher)["kind"] == "fallback"


def test_default_fallback(domain, dispatcher, tracker_for):
    ActionDefaultFallback().run(dispatcher, tracker_for("nlu_fallback", confidence=0.5), domain)
    assert only_message(dispatcher)["kind"] == "fallback"


@pytest.mark.parametrize(
    "problem", ["empty_message", "message_too_long", "no_words", "markup", "not_english", "not_understood"]
)
def test_input_the_server_marked_unanswerable_gets_its_reply(problem, domain, dispatcher, tracker_for):
    entities = [{"entity": "input_problem", "value": problem}]
    ActionDefaultFallback().run(
        dispatcher, tracker_for("nlu_fallback", confidence=1.0, entities=entities), domain
    )
    message = only_message(dispatcher)
    assert message["kind"] == "fallback" and message["input_problem"] == problem
    assert message["text"].startswith(response_text(domain, f"utter_{problem}", None))
    assert CLINIC_CONTACT["clinic_phone"] in message["text"]


@pytest.mark.parametrize(
    "levels, expected",
    [
        (["emergency"], "emergency"),
        (["same_day"], "same_day"),
        (["same_day", "emergency"], "emergency"),
        ([], "same_day"),
    ],
)
def test_urgent_guidance_at_the_level_found(levels, expected, domain, dispatcher, tracker_for):
    entities = [{"entity": "red_flag", "value": "chest_pain"}] + [
        {"entity": "urgency", "value": level} for level in levels
    ]
    ActionUrgent().run(dispatcher, tracker_for("report_urgent_symptom", 1.0, entities=entities), domain)
    message = only_message(dispatcher)
    assert message["text"].startswith(response_text(domain, f"utter_urgent_{expected}", None))
    assert (message["kind"], message["urgency"], message["red_flags"]) == ("urgent", expected, ["chest_pain"])


def test_urgent_comes_before_everything_else(domain, dispatcher, tracker_for):
    """Even on a message the server also found unanswerable (too long, say)."""
    entities = [
        {"entity": "urgency", "value": "emergency"},
        {"entity": "input_problem", "value": "message_too_long"},
    ]
    ActionDefaultFallback().run(
        dispatcher, tracker_for("report_urgent_symptom", 1.0, entities=entities), domain
    )
    assert only_message(dispatcher)["kind"] == "urgent"


def test_answers_about_watching_for_problems_say_when_to_get_help(domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("incision_care"), domain)
    text = only_message(dispatcher)["text"]
    assert response_text(domain, "utter_when_to_get_help", None) in text


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thanks", "bot_identity"])
def test_smalltalk(intent, domain, dispatcher, tracker_for):
    ActionSmalltalk().run(dispatcher, tracker_for(intent), domain)
    message = only_message(dispatcher)
    assert message["kind"] == "smalltalk"
    assert message["text"].startswith(response_text(domain, f"utter_{intent}", None))


@pytest.mark.parametrize("intent", ["out_of_scope", "out_of_scope_medical", "personal_advice"])
def test_deflections(intent, domain, dispatcher, tracker_for):
    ActionDeflect().run(dispatcher, tracker_for(intent), domain)
    message = only_message(dispatcher)
    assert message["kind"] == "out_of_scope"
    assert message["text"].startswith(response_text(domain, f"utter_{intent}", None))


def test_topics_menu_lists_every_topic(domain, dispatcher, tracker_for):
    ActionShowTopics().run(dispatcher, tracker_for("help_topics"), domain)
    message = only_message(dispatcher)
    assert_offers_every_topic(message)
    assert CLINIC_CONTACT["clinic_phone"] in message["text"]


def assert_offers_every_topic(message):
    """Each topic is a button whose payload is exactly the intent of the answer it names."""
    assert message["buttons"] == [{"title": t.label, "payload": f"/{t.answer_key}"} for t in TOPICS]


def test_sms_gets_numbered_options_instead_of_buttons(domain, dispatcher, tracker_for):
    """The action sends buttons and the SMS wording; the Twilio connector numbers them."""
    ActionShowTopics().run(dispatcher, tracker_for("help_topics", channel="twilio"), domain)
    message = only_message(dispatcher, SMS_DISCLAIMER)
    assert message["buttons"] == [{"title": t.label, "payload": f"/{t.answer_key}"} for t in TOPICS]
    sms = render_sms(message)
    assert f"\n1 {TOPICS[0].label}\n2 {TOPICS[1].label}\n" in sms
    route = SMS_EMERGENCY_ROUTE.format_map(settings.clinic_contact())
    assert sms.endswith(f"\n{len(TOPICS)} {TOPICS[-1].label}\n{route}\n{SMS_DISCLAIMER}")


def test_web_widget_gets_markdown_line_breaks(domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("bleeding_risk", channel="socketio"), domain)
    assert markdown_line_breaks(only_message(dispatcher)["text"]).endswith("  \n" + DISCLAIMER)


def test_greeting_offers_the_topics(domain, dispatcher, tracker_for):
    ActionSmalltalk().run(dispatcher, tracker_for("greet", text="/greet"), domain)
    assert_offers_every_topic(only_message(dispatcher))
