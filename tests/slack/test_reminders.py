"""Interviews left half-way get one reminder, survive restarts without a second one, then close."""

from __future__ import annotations

import time

import pytest
from interview_steps import click, wait_question

USER, DM = "U1", "D1"
FAST = {"CMBOT_REMIND_AFTER": "1s", "CMBOT_EXPIRE_AFTER": "5s", "CMBOT_SWEEP_EVERY": "0.2"}


def reminders(fake, after=0):
    return [c for c in fake.calls_to("chat.postMessage", after=after) if "waiting for you" in c.text]


@pytest.mark.parametrize("bot_env", [FAST], indirect=True)
def test_one_reminder_no_second_after_restart_then_closed(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "small")
    wait_question(fake, "departments")
    reminder = fake.wait_for("chat.postMessage", lambda c: "waiting for you" in c.text, timeout=5)
    buttons = [e["action_id"] for b in reminder.params["blocks"] for e in b.get("elements", [])
               if b["type"] == "actions"]
    assert buttons == ["cmbot_resume", "cmbot_cancel"]
    bot.kill9()
    bot.restart()
    time.sleep(1.0)
    assert len(reminders(fake)) == 1
    # Resume re-posts the current question
    mark = fake.mark()
    driver.block_action(USER, DM, reminder.response["ts"], "cmbot_resume",
                        value=reminder.params["blocks"][1]["elements"][0]["value"],
                        block_id="cmbot_reminder")
    wait_question(fake, "departments", after=mark)
    closed = fake.wait_for("chat.postMessage", lambda c: "idle too long" in c.text, timeout=8)
    assert closed.params["channel"] == DM
    assert len(reminders(fake)) == 1
    mark = fake.mark()
    driver.message(USER, DM, "start")
    wait_question(fake, "org_size", after=mark)  # the closed interview no longer blocks a new one


@pytest.mark.parametrize("bot_env", [FAST], indirect=True)
def test_an_answer_resets_the_idle_clock(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    call = wait_question(fake, "org_size")
    time.sleep(0.6)
    click(driver, USER, call, "org_size", "small")
    wait_question(fake, "departments")
    time.sleep(0.6)
    assert not reminders(fake)  # 1.2 s since start, but only 0.6 s since the last answer
