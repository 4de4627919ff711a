"""Never silent: with the action server stopped, hung or failing, every channel still answers
with the "unavailable" message (clinic contact, emergency advice, disclaimer)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.e2e.socketio_client import WebchatClient
from tests.helpers import CLINIC_ENV, DISCLAIMER, SMS_DISCLAIMER, post_sms, sms_replies, twilio_form


def assert_unavailable(text: str, disclaimer: str = DISCLAIMER) -> None:
    assert "can't answer right now" in text
    assert CLINIC_ENV["CLINIC_PHONE"] in text and CLINIC_ENV["EMERGENCY_NUMBER"] in text
    assert text.count(disclaimer) == 1


@pytest.fixture
def action_server_down(stack):
    """Stops our action server for the test and brings it back afterwards."""
    stack.stop_actions()
    yield
    stack.start_actions()


def test_rest_twilio_and_web_answer_while_the_action_server_is_down(stack, sender, action_server_down):
    [reply] = stack.rest(sender, "what are the risks?")
    assert_unavailable(reply["text"])
    assert stack.bot_events(sender)[-1]["metadata"]["kind"] == "unavailable"

    [sms] = sms_replies(post_sms(stack, twilio_form("+447700900555", "what are the risks?")))
    assert_unavailable(sms, SMS_DISCLAIMER)
    assert len(sms) <= 320

    client = WebchatClient(stack.url)
    try:
        [web] = client.say("what are the risks?")
    finally:
        client.close()
    assert_unavailable(web["text"])


def test_conversation_goes_on_when_the_action_server_comes_back(stack, sender):
    stack.stop_actions()
    try:
        assert_unavailable(stack.rest(sender, "will it hurt?")[0]["text"])
    finally:
        stack.start_actions()
    [reply] = stack.rest(sender, "will it hurt?")
    assert "Pain is typically less than after traditional spine surgery" in reply["text"]
    kinds = [b["metadata"]["kind"] for b in stack.bot_events(sender)]
    assert kinds == ["unavailable", "answer"]


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"internal error")

    def log_message(self, *args):
        pass


@pytest.mark.single_server
def test_failing_or_hung_action_server_still_gets_a_reply(stack, sender, action_server_down):
    failing = HTTPServer(("127.0.0.1", stack.action_port), _Failing)
    thread = threading.Thread(target=failing.serve_forever, daemon=True)
    thread.start()
    try:
        assert_unavailable(stack.rest(sender, "what is an endoscope?")[0]["text"])
    finally:
        failing.shutdown()
        failing.server_close()

    hung = socket.socket()  # accepts the connection, never answers: past the timeout
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind(("127.0.0.1", stack.action_port))
    hung.listen()
    try:
        assert_unavailable(stack.rest(sender, "what is an endoscope?")[0]["text"])
    finally:
        hung.close()
