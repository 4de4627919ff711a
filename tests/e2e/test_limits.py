"""The limits of assistant/limits.py, on the real servers: an oversized or malformed request is
refused early, with a clear 4xx, and never holds up another patient."""

from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from typing import List

import requests

from assistant import limits
from tests.helpers import DISCLAIMER, post_sms, sms_replies, twilio_form

MEGABYTE = 1024 * 1024


def timed_question(stack, sender: str) -> float:
    start = time.monotonic()
    [reply] = stack.rest(sender, "how long is the hospital stay?")
    assert DISCLAIMER in reply["text"]
    return time.monotonic() - start


def trickle_a_megabyte(port: int, path: str, statuses: List[bytes]) -> None:
    """A 1 MB chunked upload sent slowly (about 4 s), as a slow or hostile client would."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"x" * 16384
        try:
            for _ in range(MEGABYTE // len(chunk)):
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                time.sleep(0.06)
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection once the cap was passed
        try:
            statuses.append(s.recv(200).split(b"\r\n", 1)[0])
        except OSError:
            statuses.append(b"closed")


def test_a_1mb_request_is_refused_while_another_patient_is_answered(stack, sender):
    timed_question(stack, sender)  # warm
    statuses: List[bytes] = []
    slow = threading.Thread(
        target=trickle_a_megabyte, args=(stack.rasa_port, "/webhooks/rest/webhook", statuses)
    )
    slow.start()
    at_once = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=json.dumps({"sender": "big", "message": "x" * MEGABYTE}),
        headers={"Content-Type": "application/json", **stack.rest_headers},
        timeout=30,
    )
    waits = [timed_question(stack, sender) for _ in range(3)]
    slow.join(timeout=60)
    assert at_once.status_code == 413 and at_once.text.strip()
    assert statuses and (b"413" in statuses[0] or statuses[0] == b"closed"), statuses
    print(f"\nanswered in {', '.join(f'{w * 1000:.0f} ms' for w in waits)} while 1 MB requests were refused")
    assert max(waits) < 1.0


def test_a_long_message_within_the_body_limit_gets_a_clear_reply(stack, sender):
    [reply] = stack.rest(sender, "please help " * 5000)  # 60,000 characters
    assert "too long" in reply["text"] and DISCLAIMER in reply["text"]
    user = [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]
    assert len(user[-1]["text"]) <= limits.MAX_TEXT_CHARS  # only the part that is read is kept


def test_metadata_is_bounded(stack, sender):
    url = f"{stack.url}/webhooks/rest/webhook"
    too_many = {f"k{i}": i for i in range(limits.MAX_METADATA_KEYS + 1)}
    too_big = {"note": "x" * limits.MAX_METADATA_BYTES}
    for metadata in (too_many, too_big, ["not", "an", "object"]):
        r = requests.post(
            url,
            json={"sender": sender, "message": "hi", "metadata": metadata},
            headers=stack.rest_headers,
            timeout=30,
        )
        assert r.status_code == 400 and '"metadata"' in r.json()["message"], r.text
    ok = requests.post(
        url,
        json={"sender": sender, "message": "hi", "metadata": {"app": "portal"}},
        headers=stack.rest_headers,
        timeout=30,
    )
    assert ok.status_code == 200


def test_a_replayed_sms_is_refused_and_not_processed_again(stack):
    phone, text = "+447700900321", "what are the risks?"

    def times_said() -> int:  # in any SMS conversation: other tests may send the same text
        return sum(1 for e in stack.events_by_prefix("sms-") if e["event"] == "user" and e["text"] == text)

    before = times_said()
    form = twilio_form(phone, text)
    assert sms_replies(post_sms(stack, form))
    again = post_sms(stack, form)
    assert again.status_code == 403 and "already" in again.text
    assert times_said() == before + 1


def test_an_oversized_sms_form_is_refused_before_it_is_read(stack):
    form = twilio_form("+447700900322", "x" * (limits.MAX_SMS_FORM_BYTES + 1))
    r = post_sms(stack, form)
    assert r.status_code == 413 and r.text.strip()


def test_the_action_server_answers_only_the_rasa_server(stack):
    url = f"http://127.0.0.1:{stack.action_port}/webhook"
    call = {"next_action": "action_answer", "sender_id": "x", "tracker": {"events": []}, "domain": {}}
    assert requests.post(url, json=call, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.post(url, json=call, headers=wrong, timeout=10).status_code == 401
    assert "Access-Control-Allow-Origin" not in requests.options(url, timeout=10).headers


def test_the_action_server_caps_what_it_inflates(stack):
    bomb = zlib.compress(b"[" + b" " * (64 * MEGABYTE) + b"]", 9)  # 64 KB that inflates to 64 MB
    r = requests.post(
        f"http://127.0.0.1:{stack.action_port}/webhook",
        data=bomb,
        headers={
            "Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}",
            "Content-Encoding": "deflate",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert r.status_code == 413 and "too large" in r.json()["error"]
