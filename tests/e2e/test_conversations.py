"""End-to-end conversations with the real action server and Rasa server over HTTP (REST channel),
checking what the patient sees and the audit trail the tracker store keeps."""

from __future__ import annotations

from typing import List

import pytest
import requests

from assistant import content
from assistant.replies import Kind
from tests.helpers import DISCLAIMER, PROJECT_ROOT, examples_by_intent

WEBHOOK = "/webhooks/rest/webhook"
ANSWERS = content.answers()
KINDS = {kind.value for kind in Kind}


def phrasings_per_answer():
    """Three phrasings of each answer's question: its menu title and two patient phrasings."""
    examples = examples_by_intent(PROJECT_ROOT / "data" / "nlu.yml")
    for key, answer in sorted(ANSWERS.items()):
        for text in (answer.title, examples[key][0], examples[key][-1]):
            yield key, text


def single_reply(replies: List[dict]) -> str:
    assert len(replies) == 1, replies
    text = replies[0]["text"]
    assert text.count(DISCLAIMER) == 1, text
    return text


def last_bot_metadata(stack, sender: str) -> dict:
    return stack.bot_events(sender)[-1]["metadata"]


def test_how_long_until_i_can_go_home(stack, sender):
    text = single_reply(stack.rest(sender, "how long until I can go home?"))
    assert "go home the same day or the next day" in text
    metadata = last_bot_metadata(stack, sender)
    assert metadata["kind"] == "answer"
    assert metadata["answer_key"] == "hospital_stay"
    assert "recovery" in metadata["sections"]


@pytest.mark.parametrize("key, text", list(phrasings_per_answer()))
def test_each_answer_is_reached_by_several_phrasings(stack, sender, domain, key, text):
    reply = single_reply(stack.rest(sender, text))
    assert reply.startswith(domain["responses"][f"utter_{key}"][0]["text"].strip())
    metadata = last_bot_metadata(stack, sender)
    assert (metadata["kind"], metadata["answer_key"]) == ("answer", key)
    assert metadata["sections"] == list(ANSWERS[key].sections)


def test_a_multi_turn_conversation(stack, sender):
    turns = [
        ("hi there", "smalltalk", None),
        ("can i eat before the operation", "answer", "fasting_before_surgery"),
        ("should i tell the surgeon about my medicines", "answer", "medications_before_surgery"),
        ("and what scans will i need?", "answer", "scans_before_surgery"),
        ("how much does it cost", "out_of_scope", None),
        ("should I have the surgery?", "out_of_scope", None),
        ("help", "topics", None),
        ("thanks!", "smalltalk", None),
        ("bye", "smalltalk", None),
    ]
    for message, kind, key in turns:
        single_reply(stack.rest(sender, message))
        metadata = last_bot_metadata(stack, sender)
        assert metadata["kind"] == kind, (message, metadata)
        assert metadata.get("answer_key") == key, (message, metadata)
    # the whole conversation is one audit trail: one disclaimed bot message per patient message
    bots = stack.bot_events(sender)
    assert len(bots) == len(turns)
    assert all(b["text"].count(DISCLAIMER) == 1 and b["metadata"]["kind"] in KINDS for b in bots)


@pytest.mark.parametrize(
    "message, expected",
    [
        ("", "didn't receive any text"),
        ("   \n  ", "didn't receive any text"),
        ("how long until I can go home? " * 700, "too long"),  # about 21,000 characters
        ("🙂🙏", "written in words"),
        ("\x00\x01\x02\ufffd", "written in words"),
        ("¿Cuánto tiempo tardaré en recuperarme de la operación?", "only answer questions in English"),
        ("Wie lange muss ich nach der Operation im Krankenhaus bleiben?", "only answer questions in English"),
        ('<img src="x" onerror="alert(1)">', "plain text"),
        ("<script>document.cookie</script> what is a dural tear", "plain text"),
        ("qwzx vbnm plkj", "couldn't make sense"),
    ],
    ids=[
        "empty",
        "whitespace",
        "21000-chars",
        "emoji",
        "control-chars",
        "spanish",
        "german",
        "html",
        "script",
        "gibberish",
    ],
)
def test_bad_input_gets_a_clear_reply_with_the_disclaimer(stack, sender, message, expected):
    text = single_reply(stack.rest(sender, message))
    assert expected in text
    metadata = last_bot_metadata(stack, sender)
    assert metadata["kind"] == "fallback" and "answer_key" not in metadata


@pytest.mark.parametrize("message", ["asdf qwerty zxcv", "ok", "banana", "???", "xkcd 123 zzz"])
def test_gibberish_is_never_answered_with_content(stack, sender, message):
    single_reply(stack.rest(sender, message))
    metadata = last_bot_metadata(stack, sender)
    assert metadata["kind"] in {"fallback", "out_of_scope", "smalltalk"}
    assert "answer_key" not in metadata


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (b'{"sender": "p", "message": ', "application/json", "parsing body as json"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'{"message": "hi"}', "application/json", '"sender"'),
        (b'{"sender": "p"}', "application/json", '"message" must be a string'),
        (b'{"sender": "p", "message": 5}', "application/json", '"message" must be a string'),
        (b'{"sender": "p", "message": "hi", "metadata": 3}', "application/json", '"metadata"'),
        (bytes(range(256)), "application/octet-stream", "parsing body as json"),
    ],
    ids=[
        "truncated-json",
        "json-list",
        "no-sender",
        "no-message",
        "message-not-string",
        "metadata-not-object",
        "binary",
    ],
)
def test_malformed_requests_get_a_4xx_with_a_clear_message(stack, body, content_type, expected):
    headers = {"Content-Type": content_type, **stack.rest_headers}
    r = requests.post(stack.url + WEBHOOK, data=body, headers=headers, timeout=30)
    assert r.status_code == 400, r.text
    is_json = r.headers.get("content-type", "").startswith("application/json")
    assert expected in (r.json()["message"] if is_json else r.text)


@pytest.mark.single_server
def test_conversation_survives_a_rasa_server_restart(stack, sender):
    single_reply(stack.rest(sender, "what are the risks?"))
    stack.stop_rasa()
    stack.start_rasa()
    single_reply(stack.rest(sender, "will it hurt afterwards?"))
    keys = [b["metadata"].get("answer_key") for b in stack.bot_events(sender)]
    assert keys == ["risks_overview", "pain_after_surgery"]


def test_rest_replies_carry_what_the_patient_was_told(stack, sender):
    """A clinic's own app can show and log the answer without reading the tracker."""
    [reply] = stack.rest(sender, "how long until I can go home?")
    assert reply["metadata"] == {
        "kind": "answer",
        "answer_key": "hospital_stay",
        "sections": list(ANSWERS["hospital_stay"].sections),
    }
    [urgent] = stack.rest(sender, "I collapsed and my chest hurts")
    assert urgent["metadata"]["kind"] == "urgent" and urgent["metadata"]["urgency"] == "emergency"
