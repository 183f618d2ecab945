"""Junk, malformed payloads and random click sequences never break the bot (hypothesis)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interview_steps import command, wait_question

USER, OTHER, DM = "U1", "U2", "D1"
STATES = ["org_size", "departments", "proposed_host", "budget_owner", "budget_amount",
          "objectives", "objectives_other", "reporting", "content", "brand_reach",
          "collaboration", "dedicated_possible", "confirm", "nonsense"]
VALUES = ["small", "sales", "management", "host", "unknown", "fans", "other", "volume", "none",
          "household", "yes", "no", "confirm", "edit", "", "<!channel>", "x" * 80]
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


def test_oversized_and_control_text_is_capped(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    wait_question(fake, "org_size")
    status, body = command(bot, "x" * 20_000)
    assert status == 200 and len(body) < 4000
    mark = fake.mark()
    driver.message(USER, DM, "\x00\x07" + "y" * 50_000)
    fake.wait_for("chat.postMessage", lambda c: "buttons" in c.text, after=mark)
    for call in fake.calls:
        assert len(call.text) < 4000
    assert_healthy(bot)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from([USER, OTHER]), st.sampled_from(ACTIONS),
                                st.sampled_from(STATES), st.sampled_from(VALUES),
                                st.booleans()), min_size=1, max_size=15))
def test_random_clicks_and_replies_never_break_anything(bot, steps):
    fake, driver = bot.fake, bot.driver
    mark = fake.mark()
    driver.message(USER, DM, "start")  # a new interview, or the one still running is shown again
    question = fake.wait_for("chat.postMessage", lambda c: any(
        b.get("block_id") == "cmbot_nav" for b in c.params.get("blocks") or []), after=mark)
    for user, action, state, value, as_reply in steps:
        if as_reply:
            reply = driver.message(user, DM, value or "?")
        else:
            reply = driver.block_action(user, DM, question.response["ts"], action, value=value,
                                        block_id=state, select=action == "cmbot_choice",
                                        state_values={state: {"cmbot_multi": {
                                            "type": "checkboxes",
                                            "selected_options": [{"value": value}]}}})
        assert reply.status == 200, (action, reply)
    assert_healthy(bot)
    # whatever happened, the person can always end it and start afresh
    driver.message(USER, DM, "start")
    mark = fake.mark()
    status, _ = command(bot, "help", user=USER, channel=DM)
    assert status == 200
