"""Junk and malformed payloads never break the bot, over signed HTTP: refused with a 4xx, never a
500, and every click Slack can send is acknowledged. Random sequences of clicks and replies, and
oversized text, are the in-process door's (`test_door_commands.py`): the logic is the same, and a
hundred sequences take a second there."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from interview_steps import wait_question

USER, OTHER, DM = "U1", "U2", "D1"
ACTIONS = ["cmbot_choice_0", "cmbot_choice", "cmbot_submit", "cmbot_back", "cmbot_restart",
           "cmbot_cancel", "cmbot_edit", "cmbot_multi", "cmbot_resume", "cmbot_export_md",
           "cmbot_rerun", "cmbot_new", "cmbot_history_more", "something_else"]


def assert_healthy(bot):
    assert bot.driver.healthz() == 200
    logs = bot.logs()
    assert "Traceback" not in logs and "listener failed" not in logs, logs[-3000:]


def test_malformed_requests_are_refused_cleanly(bot):
    driver = bot.driver
    for body, ctype in [
        ("not json at all", "application/json"),
        ("{}", "application/json"),
        (json.dumps({"type": "event_callback", "event": {"type": "message"}}), "application/json"),
        (urlencode({"payload": "{broken"}), "application/x-www-form-urlencoded"),
        (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": USER},
                                           "actions": [{}]})}), "application/x-www-form-urlencoded"),
        (urlencode({"command": "/cmbot"}), "application/x-www-form-urlencoded"),
    ]:
        status, _ = driver.post(body, content_type=ctype)
        assert status < 500, body
    assert_healthy(bot)


def test_every_click_is_acknowledged_with_a_200(bot):
    """Each action id cmbot knows (and one it does not) on a live question, as Slack posts it."""
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    question = wait_question(fake, "org_size")
    for action in ACTIONS:
        reply = driver.block_action(OTHER, DM, question.response["ts"], action, value="small",
                                    block_id="org_size", select=action == "cmbot_choice")
        assert reply.status == 200, (action, reply)
    assert_healthy(bot)
