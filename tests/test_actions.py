"""Unit tests of the custom actions: a real Tracker and CollectingDispatcher, no servers."""
from __future__ import annotations

import pytest

from actions.answer_question import ActionAnswerQuestion
from actions.content import ANSWERS, TOPICS
from actions.deflect import ActionDeflect
from actions.fallback import ActionDefaultFallback
from actions.replies import DISCLAIMER, KINDS, response_text
from actions.settings import ANSWER_CONFIDENCE_THRESHOLD, CLINIC_CONTACT, MAX_MESSAGE_CHARS
from actions.smalltalk import ActionSmalltalk
from actions.topics import ActionShowTopics


def only_message(dispatcher):
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"].count(DISCLAIMER) == 1
    assert message["text"].rstrip().endswith(DISCLAIMER)
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
    message = only_message(dispatcher)
    sms = [v for v in domain["responses"]["utter_recovery_time"] if v.get("channel") == "twilio"][0]
    assert message["text"].startswith(sms["text"].strip())


def test_low_confidence_gives_no_guess_but_offers_the_likely_question(domain, dispatcher, tracker_for):
    tracker = tracker_for("hospital_stay", confidence=ANSWER_CONFIDENCE_THRESHOLD - 0.01)
    ActionAnswerQuestion().run(dispatcher, tracker, domain)
    message = only_message(dispatcher)
    assert message["kind"] == "clarify"
    assert "answer_key" not in message
    assert message["buttons"] == [{"title": ANSWERS["hospital_stay"].title, "payload": "/hospital_stay"},
                                  {"title": "Something else", "payload": "/help_topics"}]


def test_very_low_confidence_gives_the_fallback_with_the_topics(domain, dispatcher, tracker_for):
    tracker = tracker_for("hospital_stay", confidence=0.05)
    ActionAnswerQuestion().run(dispatcher, tracker, domain)
    message = only_message(dispatcher)
    assert message["kind"] == "fallback" and "answer_key" not in message
    assert_offers_every_topic(message)


def test_confidence_at_the_threshold_is_answered(domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("hospital_stay", confidence=ANSWER_CONFIDENCE_THRESHOLD), domain)
    assert only_message(dispatcher)["kind"] == "answer"


@pytest.mark.parametrize("intent", [None, "not_an_intent", "greet"])
def test_unknown_intent_gives_the_fallback(intent, domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for(intent), domain)
    assert only_message(dispatcher)["kind"] == "fallback"


def test_default_fallback(domain, dispatcher, tracker_for):
    ActionDefaultFallback().run(dispatcher, tracker_for("nlu_fallback", confidence=0.5), domain)
    assert only_message(dispatcher)["kind"] == "fallback"


@pytest.mark.parametrize(
    "text, response",
    [
        ("", "utter_empty_message"),
        ("   \n\t ", "utter_empty_message"),
        ("x" * (MAX_MESSAGE_CHARS + 1), "utter_message_too_long"),
        ("how long until i can go home? " * 700, "utter_message_too_long"),
        ("🙂🙏❤️", "utter_no_words"),
        ("??? !!! 123", "utter_no_words"),
        ("¿Cuánto tiempo tardaré en recuperarme de la operación?", "utter_not_english"),
        ("Wie lange muss ich nach der Operation im Krankenhaus bleiben?", "utter_not_english"),
        ("Combien de temps dure la convalescence après l'opération ?", "utter_not_english"),
        ("手术后我需要住院多久？", "utter_not_english"),
        ("Сколько длится восстановление после операции?", "utter_not_english"),
    ],
)
def test_unusable_input_gets_a_clear_reply(text, response, domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("hospital_stay", text=text), domain)
    message = only_message(dispatcher)
    assert message["kind"] == "fallback"
    assert message["text"].startswith(response_text(domain, response, None))


@pytest.mark.parametrize("text", ["will it hurt after the op?", "can i eat b4 surgery", "hi 🙂",
                                  "is sciatica treated this way?", "what about la operación"])
def test_english_questions_are_not_mistaken_for_another_language(text, domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("pain_after_surgery", text=text), domain)
    assert only_message(dispatcher)["kind"] == "answer"


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
    ActionShowTopics().run(dispatcher, tracker_for("help_topics", channel="twilio"), domain)
    message = only_message(dispatcher)
    assert not message["buttons"]
    assert f"Reply with a number:\n1 {TOPICS[0].label}\n" in message["text"]
    assert message["options"] == [f"/{t.answer_key}" for t in TOPICS]


def test_web_widget_gets_markdown_line_breaks(domain, dispatcher, tracker_for):
    ActionAnswerQuestion().run(dispatcher, tracker_for("bleeding_risk", channel="socketio"), domain)
    assert only_message(dispatcher)["text"].endswith("  \n" + DISCLAIMER)


def test_greeting_offers_the_topics(domain, dispatcher, tracker_for):
    ActionSmalltalk().run(dispatcher, tracker_for("greet", text="/greet"), domain)
    assert_offers_every_topic(only_message(dispatcher))
