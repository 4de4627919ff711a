"""Nothing kept longer than it should be, nothing leaked: "forget me" on every channel, STOP by
SMS, `make purge`, private files, and no message text in any log."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import datetime, timezone

import pytest

from tests.e2e.socketio_client import WebchatClient
from tests.helpers import PROJECT_ROOT, post_sms, sms_replies, twilio_form


def events_of(stack, conversation: str) -> list:
    return stack.sql("SELECT type_name FROM events WHERE sender_id = :c", c=conversation)


def review_rows(stack) -> int:
    return stack.sql("SELECT COUNT(*) FROM review_queue", stack.review_url)[0][0]


def conversations(stack) -> set:
    return {r[0] for r in stack.sql("SELECT DISTINCT sender_id FROM events")}


def test_forget_me_over_rest_deletes_the_conversation_and_its_review_rows(stack, sender):
    stack.rest(sender, "how much does parking cost at the hospital?")  # queued for review
    before = review_rows(stack)
    [question] = stack.rest(sender, "please delete my conversation")
    assert "delete this conversation" in question["text"] and question["metadata"]["kind"] == "confirm"
    [done] = stack.rest(sender, question["buttons"][0]["payload"])
    assert done["metadata"]["kind"] == "forgotten" and "deleted" in done["text"]
    assert events_of(stack, f"rest-{sender}") == []
    assert review_rows(stack) == before - 1
    [fresh] = stack.rest(sender, "hi")  # a new conversation starts
    assert fresh["metadata"]["kind"] == "smalltalk"
    assert len([e for e in stack.tracker(sender)["events"] if e["event"] == "user"]) == 1


def test_typing_no_keeps_the_conversation(stack, sender):
    stack.rest(sender, "what are the risks?")
    stack.rest(sender, "forget me")
    [kept] = stack.rest(sender, "no")
    assert "nothing has been deleted" in kept["text"]
    assert len([e for e in stack.tracker(sender)["events"] if e["event"] == "user"]) == 3


def test_forget_me_on_the_web_chat(stack):
    client = WebchatClient(stack.url)
    try:
        client.say("what are the risks?")
        client.say("forget me")
        [done] = client.say("yes")
        assert "deleted" in done["text"]
        assert events_of(stack, client.session_id) == []
    finally:
        client.close()


def test_after_forget_me_the_web_chat_token_no_longer_opens_the_conversation(stack):
    """Issue 19 item 10: the token survived "forget me", so whoever held it could read what the
    patient wrote next; now the socket gets a new conversation and the old token is refused."""
    client = WebchatClient(stack.url)
    old_token = client.token
    try:
        client.say("forget me")
        client.say("yes")
        assert client.confirmed.get(timeout=10) != old_token  # the socket moved on
        client.say("what are the risks?")
    finally:
        client.close()
    later = WebchatClient(stack.url, token=old_token)
    try:
        assert later.token != old_token
    finally:
        later.close()


@pytest.mark.single_server  # each server counts its own sockets: through the proxy they spread
def test_only_a_few_sockets_may_share_a_web_chat_conversation(stack):
    """Issue 19 item 10: any number of sockets could join a conversation's room."""
    from assistant import limits

    first = WebchatClient(stack.url)
    others = []
    try:
        for _ in range(limits.SOCKETS_PER_CONVERSATION - 1):
            others.append(WebchatClient(stack.url, token=first.token))
            assert others[-1].token == first.token  # another tab of the same patient
        extra = WebchatClient(stack.url, token=first.token)
        others.append(extra)
        assert extra.token != first.token  # one too many: a conversation of its own
    finally:
        for client in [first, *others]:
            client.close()


def test_stop_by_sms_deletes_the_conversation(stack):
    phone = f"+4477009{uuid.uuid4().int % 100000:05d}"
    sms_replies(post_sms(stack, twilio_form(phone, "what are the risks?")))
    conversations_before = conversations(stack)
    assert sms_replies(post_sms(stack, twilio_form(phone, "STOP"))) == []  # Twilio answers STOP itself
    conversations_after = conversations(stack)
    gone = conversations_before - conversations_after
    assert len(gone) == 1 and next(iter(gone)).startswith("sms-")


def test_stop_by_sms_deletes_the_conversation_while_the_action_server_is_down(stack):
    """Issue 19 item 4: deleting is the channel's own step with the tracker store, not a turn
    that needs the action server (that turn was told "unavailable" and saved, not deleted)."""
    phone = f"+4477009{uuid.uuid4().int % 100000:05d}"
    sms_replies(post_sms(stack, twilio_form(phone, "how much does parking cost at the hospital?")))
    reviewed = review_rows(stack)
    conversations_before = conversations(stack)
    stack.stop_actions()
    try:
        stop = twilio_form(phone, "STOP")
        assert sms_replies(post_sms(stack, stop)) == []
        assert sms_replies(post_sms(stack, stop)) == []  # a retry of it: no 4xx, nothing kept
    finally:
        stack.start_actions()
    gone = conversations_before - conversations(stack)
    assert len(gone) == 1 and next(iter(gone)).startswith("sms-")
    assert review_rows(stack) == reviewed - 1


def test_make_purge_deletes_exactly_the_old_conversations_and_review_rows(stack, sender):
    stack.rest(sender, "how much does parking cost at the hospital?")  # queued for review
    old = f"rest-{sender}-old"
    forty_days_ago = time.time() - 40 * 86400
    stack.sql(  # a conversation last written to 40 days ago
        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')",
        s=old,
        t=forty_days_ago,
    )
    stack.sql(
        "INSERT INTO review_queue VALUES (:t, 'old question', 'fallback', NULL, 'x')",
        stack.review_url,
        t=datetime.fromtimestamp(forty_days_ago, timezone.utc).isoformat(timespec="seconds"),
    )
    rows_before = review_rows(stack)
    env = {k: v for k, v in stack.env.items() if not k.startswith("ACTION_SERVER")}  # as from cron
    endpoints = [f"ENDPOINTS={stack.endpoints}"] if stack.endpoints else []  # else the profile's
    result = subprocess.run(
        ["make", "--no-print-directory", "purge", "DAYS=30", *endpoints],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Deleted 1 conversation events and 1 review-queue rows older than 30 days" in result.stdout
    assert events_of(stack, old) == [] and events_of(stack, f"rest-{sender}") != []
    assert review_rows(stack) == rows_before - 1


def test_no_message_text_in_any_log(stack, sender):
    marker = f"zebra{uuid.uuid4().hex[:8]}"
    stack.rest(sender, f"my name is {marker} and my chest hurts")
    stack.rest(sender, f"{marker} what are the risks?")
    client = WebchatClient(stack.url)
    try:
        client.say(f"{marker} how long is recovery?")
    finally:
        client.close()
    sms_replies(
        post_sms(
            stack, twilio_form(f"+4477009{uuid.uuid4().int % 100000:05d}", f"{marker} when can I go home?")
        )
    )
    for log in stack.logs():
        assert marker not in log.read_text(errors="replace"), log.name
