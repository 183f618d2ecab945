"""Interviews left half-way get one reminder, survive restarts without a second one, then close."""

from __future__ import annotations

import time

import pytest
from interview_steps import click, wait_question

USER, DM = "U1", "D1"
# Reminders after half a second (swept ten times a second); closed after an hour unless a test
# says otherwise.
FAST = {"CMBOT_REMIND_AFTER": "0.5s", "CMBOT_EXPIRE_AFTER": "1h", "CMBOT_SWEEP_EVERY": "0.1"}
WAIT = 60  # seconds: only how long a hung bot is waited for, never what a test measures


def reminders(fake, channel, since: float = 0):
    return [c for c in fake.calls_to("chat.postMessage")
            if "waiting for you" in c.text and c.params["channel"] == channel and c.time > since]


def left_idle(bot, n: int):
    """Someone starts an interview in their DM and leaves it; returns their reminder."""
    mark = bot.fake.mark()
    bot.driver.message(f"U{n}", f"D{n}", "start")
    wait_question(bot.fake, "org_size", after=mark, channel=f"D{n}")
    return bot.fake.wait_for("chat.postMessage", lambda c: "waiting for you" in c.text
                             and c.params["channel"] == f"D{n}", after=mark, timeout=WAIT)


@pytest.mark.serve_process
@pytest.mark.parametrize("bot_env", [FAST], indirect=True)
def test_one_reminder_no_second_after_restart_then_closed(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "small")
    # Counted from the second question on: had the answer come later than the reminder delay
    # (a busy machine), the first question would rightly have had a reminder of its own.
    idle = wait_question(fake, "departments").time
    reminder = fake.wait_for("chat.postMessage", lambda c: "waiting for you" in c.text
                             and c.time > idle, timeout=WAIT)
    buttons = [e["action_id"] for b in reminder.params["blocks"] for e in b.get("elements", [])
               if b["type"] == "actions"]
    assert buttons == ["cmbot_resume", "cmbot_cancel"]
    bot.kill9()
    bot.restart()
    # Proof that the restarted bot swept U1's interview, still idle, and kept quiet: U3's reminder
    # comes from a sweep that began after U2's was posted, so the sweep that reminded U2 — which
    # went through every interview, U1's included — had ended.
    left_idle(bot, 2)
    left_idle(bot, 3)
    assert len(reminders(fake, channel=DM, since=idle)) == 1
    # Resume re-posts the current question
    mark = fake.mark()
    driver.block_action(USER, DM, reminder.response["ts"], "cmbot_resume",
                        value=reminder.params["blocks"][1]["elements"][0]["value"],
                        block_id="cmbot_reminder")
    wait_question(fake, "departments", after=mark)
    bot.env["CMBOT_EXPIRE_AFTER"] = "1s"  # idle longer than this: closed at the first sweep
    bot.restart()
    closed = fake.wait_for("chat.postMessage", lambda c: "idle too long" in c.text
                           and c.params["channel"] == DM, timeout=WAIT)
    assert closed.params["channel"] == DM
    assert len(reminders(fake, channel=DM, since=idle)) == 1
    mark = fake.mark()
    driver.message(USER, DM, "start")
    wait_question(fake, "org_size", after=mark)  # the closed interview no longer blocks a new one


@pytest.mark.parametrize("bot_env", [{**FAST, "CMBOT_REMIND_AFTER": "1.2s"}], indirect=True)
def test_an_answer_resets_the_idle_clock(bot):
    """Counted from the answer, not from the start: the reminder comes a whole idle period after
    the answer (without the reset it would come 0.8 s after it)."""
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    call = wait_question(fake, "org_size")
    time.sleep(0.4)  # idle a while before answering
    answered_at = time.time()
    click(driver, USER, call, "org_size", "small")
    wait_question(fake, "departments")
    reminder = fake.wait_for("chat.postMessage", lambda c: "waiting for you" in c.text, timeout=WAIT)
    assert reminder.time - answered_at >= 1.19  # (the idle clock keeps milliseconds)
