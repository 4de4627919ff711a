"""Property-based fuzzing of every channel, through the real servers: whatever a client sends, it
gets a reply with the disclaimer or a clear 4xx, never a 5xx, a hang or an empty reply."""

from __future__ import annotations

import json
from typing import Any, Dict

import requests
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.helpers import (
    DISCLAIMER,
    SMS_DISCLAIMER,
    TWILIO_AUTH_TOKEN,
    TWILIO_PUBLIC_URL,
    sms_replies,
    twilio_form,
)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
TIMEOUT = 60

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
texts = st.text(max_size=300) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800 lone surrogate",
        "\u202e reversed",
        "🙂" * 50,
        "a" * 5000,
        "<script>x</script>",
        "what is an endoscope?",
        "my chest hurts",
    ]
)


def assert_replied(r: requests.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code == 200:
        replies = r.json()
        assert replies and all(DISCLAIMER in m["text"] for m in replies), replies
    else:
        assert r.status_code in (400, 401, 413, 415) and r.text.strip(), (r.status_code, r.text[:300])


@FUZZ
@given(
    sender=st.text(max_size=80) | st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
    message=texts,
    metadata=st.none() | json_values,
)
def test_rest_with_any_json(stack, sender, message, metadata):
    body: Dict[str, Any] = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    r = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=data,
        timeout=TIMEOUT,
        headers={"Content-Type": "application/json", **stack.rest_headers},
    )
    assert_replied(r)


@FUZZ
@given(
    body=st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_rest_with_any_bytes(stack, body, content_type):
    r = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=body,
        timeout=TIMEOUT,
        headers={"Content-Type": content_type, **stack.rest_headers},
    )
    assert_replied(r)


def test_rest_with_huge_and_deeply_nested_bodies(stack):
    nested = "[" * 20_000 + "]" * 20_000  # within the size limit, beyond Python's recursion limit
    for body in (b"x" * (2 * 1024 * 1024), nested.encode()):
        r = requests.post(
            f"{stack.url}/webhooks/rest/webhook",
            data=body,
            timeout=TIMEOUT,
            headers={"Content-Type": "application/json", **stack.rest_headers},
        )
        assert r.status_code in (400, 413), r.status_code


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["From", "Body", "MessageSid", "NumMedia", "To", "Extra"]), texts, max_size=6
    )
)
def test_twilio_with_any_signed_form(stack, fields):
    form = twilio_form("+447700900999", None)
    form.update(fields)
    form = {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in form.items()}
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(TWILIO_PUBLIC_URL, form)
    r = requests.post(
        f"{stack.url}/webhooks/twilio/webhook",
        data=form,
        timeout=TIMEOUT,
        headers={"X-Twilio-Signature": signature},
    )
    assert r.status_code < 500, r.text[:300]
    if r.status_code == 200:
        assert all(SMS_DISCLAIMER in text for text in sms_replies(r))
    else:
        assert r.status_code in (400, 403) and r.text.strip()


@FUZZ
@given(
    body=st.binary(max_size=3000),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data"]
    ),
    signature=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),  # header-safe
)
def test_twilio_with_anything_else(stack, body, content_type, signature):
    r = requests.post(
        f"{stack.url}/webhooks/twilio/webhook",
        data=body,
        timeout=TIMEOUT,
        headers={"Content-Type": content_type, "X-Twilio-Signature": signature},
    )
    assert r.status_code in (400, 403, 413, 415), (r.status_code, r.text[:300])


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/model/parse",
            "/conversations/x/tracker/events",
            "/conversations/x/messages",
            "/conversations/x/predict",
            "/model/train",
        ]
    ),
    body=st.binary(max_size=500) | json_values.map(lambda v: json.dumps(v).encode()),
    token=st.sampled_from(["", "wrong-token"]),
)
def test_the_http_api_refuses_without_its_token(stack, path, body, token):
    r = requests.post(
        f"{stack.url}{path}", params={"token": token} if token else {}, data=body, timeout=TIMEOUT
    )
    assert r.status_code in (401, 403), (r.status_code, r.text[:300])


@FUZZ
@given(text=st.text(max_size=300))
def test_the_http_api_parses_any_text(stack, text):
    r = requests.post(
        f"{stack.url}/model/parse",
        params={"token": stack.token},
        data=json.dumps({"text": text}),
        timeout=TIMEOUT,
    )
    assert r.status_code < 500, r.text[:300]


@FUZZ
@given(
    event=st.sampled_from(["user_uttered", "session_request", "unknown_event", "message"]),
    payload=json_values,
)
def test_socketio_with_any_event_and_payload(stack, event, payload):
    client = socketio.Client(reconnection=False)
    replies: list = []
    client.on("bot_uttered", replies.append)
    client.connect(stack.url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=20)
    try:
        client.emit(event, payload)
        client.emit("user_uttered", {"message": "what is an endoscope?"})  # still answered after it
        client.sleep(0.1)
        deadline = 40
        while not replies and deadline:
            client.sleep(0.5)
            deadline -= 1
        assert replies and DISCLAIMER in replies[-1]["text"].replace("  \n", "\n")
    finally:
        client.disconnect()
