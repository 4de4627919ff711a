""" "Did you mean" choices, follow-up questions, condition entities and the curator review queue,
end to end against the real servers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant import content
from assistant.history import RECENT_EVENTS
from tests.e2e.socketio_client import WebchatClient
from tests.helpers import DISCLAIMER, SMS_DISCLAIMER, post_sms, sms_replies, twilio_form
from tests.servers import PROJECT_ROOT

ANSWERS = content.answers()
# Messages the NLU is unsure about (checked below: they must produce a clarification).
UNSURE = ["surgery"]


def last_metadata(stack, sender):
    return stack.bot_events(sender)[-1]["metadata"]


@pytest.mark.parametrize("message", UNSURE)
def test_unsure_questions_offer_choices_that_give_exactly_that_answer(stack, message):
    client = WebchatClient(stack.url)
    try:
        [clarify] = client.say(message)
        assert clarify["text"].count(DISCLAIMER) == 1
        metadata = last_metadata(stack, client.session_id)
        assert metadata["kind"] == "clarify", metadata
        buttons = clarify["quick_replies"]
        assert 2 <= len(buttons) <= 4 and buttons[-1]["title"] == "Something else"
        for button in buttons[:-1]:  # each choice, every time, gives the answer it names
            key = button["payload"].lstrip("/")
            assert button["title"] == ANSWERS[key].title
            client.say(button["payload"])
            answered = last_metadata(stack, client.session_id)
            assert (answered["kind"], answered["answer_key"]) == ("answer", key)
        [menu] = client.say(buttons[-1]["payload"])  # "Something else": topics and contact
        assert "call" in menu["text"] and len(menu["quick_replies"]) == 9
        assert last_metadata(stack, client.session_id)["kind"] == "topics"
    finally:
        client.close()


def test_sms_clarification_is_numbered_and_a_number_picks_it(stack):
    phone = "+447700900444"
    sms_replies(post_sms(stack, twilio_form(phone, "hi")))
    [text] = sms_replies(post_sms(stack, twilio_form(phone, "surgery")))
    assert "text a number" in text and "\n1 " in text
    first_title = text.split("\n1 ", 1)[1].split("\n", 1)[0]
    [answer] = sms_replies(post_sms(stack, twilio_form(phone, "1")))
    key = next(k for k, a in ANSWERS.items() if a.title == first_title)
    assert SMS_DISCLAIMER in answer
    events = stack.tracker_by_prefix("sms-")
    assert any((e.get("metadata") or {}).get("answer_key") == key for e in events)


def test_tell_me_more_uses_the_last_topic(stack, sender):
    stack.rest(sender, "how long until I can go home?")
    stack.rest(sender, "tell me more")
    assert last_metadata(stack, sender)["answer_key"] == "recovery_time"  # recovery's overview
    [related] = stack.rest(sender, "tell me more")  # already the overview: related questions
    assert last_metadata(stack, sender)["kind"] == "clarify"
    assert {b["payload"] for b in related["buttons"]} >= {"/physical_therapy"}


def test_follow_up_on_risks(stack, sender):
    stack.rest(sender, "what are the risks?")
    stack.rest(sender, "what is a dural tear?")
    assert last_metadata(stack, sender)["answer_key"] == "dural_tear_csf_leak"
    stack.rest(sender, "what about infection?")
    assert last_metadata(stack, sender)["answer_key"] == "infection_risk"


def test_tell_me_more_without_a_previous_answer_offers_topics(stack, sender):
    [reply] = stack.rest(sender, "tell me more")
    assert last_metadata(stack, sender)["kind"] == "topics" and len(reply["buttons"]) == 9


@pytest.mark.parametrize(
    "message, key",
    [
        ("I have sciatica, can this help me?", "treats_sciatica"),
        ("what conditions does it treat? I have spinal stenosis", "treats_spinal_stenosis"),
    ],
)
def test_named_condition_gets_that_conditions_answer(stack, sender, message, key):
    [reply] = stack.rest(sender, message)
    assert last_metadata(stack, sender)["answer_key"] == key
    assert "is for your surgeon to say" in reply["text"]


def test_unanswered_questions_reach_the_review_queue_redacted(stack, sender):
    stack.rest(sender, "how much does it cost? call me on 07700 900123 or jo@example.com")
    stack.rest(sender, "my name is Jane Smith and I want to know the parking fees")
    out = subprocess.run(
        # `make review`, with the stack's settings; every question, not only the most frequent
        [sys.executable, "-m", "scripts.operations.review_queue", "--top", "1000"],
        cwd=PROJECT_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "how much does it cost? call me on [phone] or [email]" in out
    assert "[name] and I want to know the parking fees" in out
    assert "07700" not in out and "Jane" not in out and "jo@example.com" not in out


# --- long conversations: a turn reads only recent history (assistant/history.py) ---------------
# Enough turns that the conversation is several times longer than what one turn reads.
LONG_QUESTIONS = ["what is endoscopic spine surgery?", "qwerty zxcv", "thanks", "what are the risks?"]
LONG_TURNS = RECENT_EVENTS + 8  # about four events a turn: four times what a turn reads


def test_a_long_conversation_still_follows_up_and_the_store_keeps_all_of_it(stack, sender):
    sent = [LONG_QUESTIONS[i % len(LONG_QUESTIONS)] for i in range(LONG_TURNS)]
    for text in sent:
        stack.rest(sender, text)
    stack.rest(sender, "how long until I can go home?")
    stack.rest(sender, "tell me more")  # the follow-up still finds the last answer
    assert last_metadata(stack, sender)["answer_key"] == "recovery_time"
    [clarify] = stack.rest(sender, "surgery")  # and a "did you mean" choice still answers
    key = clarify["buttons"][0]["payload"].lstrip("/")
    stack.rest(sender, clarify["buttons"][0]["payload"])
    assert (last_metadata(stack, sender)["kind"], last_metadata(stack, sender)["answer_key"]) == (
        "answer",
        key,
    )
    # every event stays in the store and in the HTTP API's history: the audit trail
    said = [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert said[: len(sent)] == sent and len(said) == len(sent) + 4
    [(stored,)] = stack.sql(
        "SELECT COUNT(*) FROM events WHERE sender_id = :sender AND type_name = 'user'",
        sender=stack.conversation_id(sender),
    )
    assert stored == len(said)
    assert len(stack.tracker(sender)["events"]) > 3 * RECENT_EVENTS


def test_a_long_sms_thread_still_resolves_a_number_to_its_choice(stack):
    phone = "+447700900555"
    for i in range(LONG_TURNS // 2):
        sms_replies(post_sms(stack, twilio_form(phone, LONG_QUESTIONS[i % len(LONG_QUESTIONS)])))
    [text] = sms_replies(post_sms(stack, twilio_form(phone, "surgery")))
    first_title = text.split("\n1 ", 1)[1].split("\n", 1)[0]
    [answer] = sms_replies(post_sms(stack, twilio_form(phone, "1")))
    assert SMS_DISCLAIMER in answer
    key = next(k for k, a in ANSWERS.items() if a.title == first_title)
    events = stack.events_by_prefix("sms-")
    assert [e for e in events if e["event"] == "bot"][-1]["metadata"]["answer_key"] == key
