"""Who can reach a conversation: only the client that started it, on every channel."""

from __future__ import annotations

import requests

from tests.e2e.socketio_client import WebchatClient


def test_rest_needs_the_clinic_key(stack):
    body = {"sender": "patient-isolation", "message": "what are the risks?"}
    url = f"{stack.url}/webhooks/rest/webhook"
    assert requests.post(url, json=body, timeout=30).status_code == 401
    assert (
        requests.post(url, json=body, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code
        == 401
    )
    assert requests.post(url, json=body, headers=stack.rest_headers, timeout=30).status_code == 200


def test_a_web_client_cannot_claim_another_conversation(stack):
    owner = WebchatClient(stack.url)
    try:
        owner.say("how long until I can go home?")
        forged = f"{owner.session_id}.{'0' * 32}"  # the id, with a made-up signature
        intruder = WebchatClient(stack.url, token=forged)
        try:
            assert intruder.session_id != owner.session_id  # a new conversation of its own
            intruder.say("tell me more")
            # the owner's conversation did not move, and "tell me more" knew nothing of it
            owner_events = stack.tracker(owner.session_id)["events"]
            assert [e["text"] for e in owner_events if e["event"] == "user"] == [
                "how long until I can go home?"
            ]
            assert stack.bot_events(intruder.session_id)[-1]["metadata"]["kind"] == "topics"
        finally:
            intruder.close()
    finally:
        owner.close()


def test_a_web_client_cannot_write_into_another_conversation_by_naming_it(stack):
    owner = WebchatClient(stack.url)
    other = WebchatClient(stack.url)
    try:
        other.sio.emit("user_uttered", {"message": "what is an endoscope?", "session_id": owner.token})
        other.received.get(timeout=30)
        assert not [e for e in stack.tracker(owner.session_id)["events"] if e["event"] == "user"]
        user_texts = [e["text"] for e in stack.tracker(other.session_id)["events"] if e["event"] == "user"]
        assert user_texts == ["what is an endoscope?"]
    finally:
        owner.close()
        other.close()


def test_channels_do_not_share_conversation_ids(stack):
    """A REST client naming an SMS-looking or web-looking id gets a REST conversation of its own."""
    for sender in ("sms-0123", "web-0123"):
        [reply] = stack.rest(sender, "what are the risks?")
        assert reply["recipient_id"] == f"rest-{sender}"


def test_the_client_cannot_choose_the_channel(stack, sender):
    r = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        headers=stack.rest_headers,
        timeout=30,
        json={"sender": sender, "message": "what are the risks?", "input_channel": ["twilio"]},
    )
    assert r.status_code == 200 and r.json()
    [user] = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert user["input_channel"] == "rest"
