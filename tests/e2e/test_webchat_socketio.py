"""The web widget's channel (Rasa's socketio) with a real Socket.IO client: greeting with topic
buttons, buttons giving exactly their answer, and a conversation surviving a server restart."""

from __future__ import annotations

import pytest
import requests

from assistant import content
from tests.e2e.socketio_client import WebchatClient
from tests.helpers import DISCLAIMER

ANSWERS, TOPICS = content.answers(), content.topics()


@pytest.fixture
def webchat(stack):
    client = WebchatClient(stack.url)
    yield client
    client.close()


def test_chat_page_and_widget_are_served_by_the_rasa_server(stack):
    page = requests.get(f"{stack.url}/chat", timeout=10)
    assert page.status_code == 200 and "/chat/embed.js" in page.text
    embed = requests.get(f"{stack.url}/chat/embed.js", timeout=10)
    assert embed.status_code == 200 and "initPayload" in embed.text
    widget = requests.get(f"{stack.url}/chat/webchat.js", timeout=10)
    assert widget.status_code == 200 and "WebChat" in widget.text


def test_opening_greeting_offers_every_topic_as_a_button(webchat):
    [greeting] = webchat.say("/greet")
    assert greeting["text"].count(DISCLAIMER) == 1
    assert [b["title"] for b in greeting["quick_replies"]] == [t.label for t in TOPICS]


@pytest.mark.parametrize("topic", TOPICS, ids=[t.answer_key for t in TOPICS])
def test_each_topic_button_gives_exactly_its_answer(stack, webchat, topic):
    [greeting] = webchat.say("/greet")
    button = next(b for b in greeting["quick_replies"] if b["title"] == topic.label)
    [answer] = webchat.say(button["payload"])
    assert answer["text"].count(DISCLAIMER) == 1
    metadata = stack.bot_events(webchat.session_id)[-1]["metadata"]
    assert (metadata["kind"], metadata["answer_key"]) == ("answer", topic.answer_key)
    assert metadata["sections"] == list(ANSWERS[topic.answer_key].sections)


def test_web_answers_use_markdown_line_breaks(webchat):
    [answer] = webchat.say("is there a risk of bleeding?")
    assert answer["text"].endswith("  \n" + DISCLAIMER)


@pytest.mark.single_server
def test_web_conversation_survives_a_rasa_server_restart(stack):
    client = WebchatClient(stack.url)
    client.say("what scans will I need?")
    client.close()
    stack.stop_rasa()
    stack.start_rasa()
    again = WebchatClient(stack.url, token=client.token)  # the token the widget stored
    try:
        again.say("can I eat before the operation?")
    finally:
        again.close()
    keys = [b["metadata"].get("answer_key") for b in stack.bot_events(client.session_id)]
    assert keys == ["scans_before_surgery", "fasting_before_surgery"]
