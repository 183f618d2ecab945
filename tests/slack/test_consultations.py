"""Consultations in Slack: history pages, re-running with changed answers, App Home."""

from __future__ import annotations

import json

from archive import saved_consultations
from interview_steps import ARTICLE, answer_block, click, command, wait_question
from test_dm_interview import run_interview

USER, DM = "U1", "D1"


def test_rerun_with_one_change_shows_what_changed(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = run_interview(bot, ARTICLE)
    parent = first.params["metadata"]["event_payload"]["consultation_id"]
    _, body = command(bot, f"show {parent}", channel=DM)
    blocks = json.loads(body)["blocks"]
    rerun = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "cmbot_rerun")
    mark = fake.mark()
    driver.block_action(USER, DM, "1712345678.000300", "cmbot_rerun", value=rerun["value"],
                        block_id="cmbot_result", is_ephemeral=True)
    confirm = wait_question(fake, "confirm", after=mark)  # every answer is already there
    assert "Sales" in str(confirm.params["blocks"])
    mark = fake.mark()
    click(driver, USER, confirm, "confirm", "edit")
    picker = fake.wait_for("chat.postMessage", lambda c: any(
        b.get("block_id") == "cmbot_edit" for b in c.params.get("blocks") or []), after=mark)
    mark = fake.mark()
    driver.block_action(USER, DM, picker.response["ts"], "cmbot_edit", value="dedicated_possible",
                        block_id="cmbot_edit", select=True)
    question = wait_question(fake, "dedicated_possible", after=mark)
    mark = fake.mark()
    click(driver, USER, question, "dedicated_possible", "yes")
    confirm = wait_question(fake, "confirm", after=mark)
    mark = fake.mark()
    click(driver, USER, confirm, "confirm", "confirm")
    result = fake.wait_for("chat.postMessage", lambda c: c.params.get("metadata"), after=mark)
    payload = result.params["metadata"]["event_payload"]
    assert payload["placement"] == "dedicated" and payload["consultation_id"] != parent
    text = str(result.params["blocks"])
    assert f"What changed since consultation {parent}" in text
    assert "Could the role have a unit of its own" in text
    child = saved_consultations(bot.db_path)[payload["consultation_id"]]
    assert child["parent_id"] == parent


def test_history_is_paginated(bot):
    fake, driver = bot.fake, bot.driver
    ids = []
    for i in range(12):
        channel = f"D{i:02d}"
        mark = fake.mark()
        driver.message(USER, channel, "start")
        result = run_interview(bot, ARTICLE, channel=channel, after=mark)
        ids.append(result.params["metadata"]["event_payload"]["consultation_id"])
    _, body = command(bot, "history")
    page = json.loads(body)
    text = json.dumps(page["blocks"])
    assert ids[-1] in text and ids[0] not in text  # newest first, ten a page
    more = next(e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"])
    mark = fake.mark()
    driver.block_action(USER, "C1", "1712345678.000400", "cmbot_history_more",
                        value=more["value"], block_id="cmbot_history", is_ephemeral=True)
    second = fake.wait_for("response", after=mark)
    rest = json.dumps(second.params.get("blocks"))
    assert ids[0] in rest and ids[1] in rest and ids[-1] not in rest


def test_app_home_lists_interviews_in_progress_with_resume(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "large")
    wait_question(fake, "departments")
    mark = fake.mark()
    driver.app_home_opened(USER)
    fake.wait_for("views.publish", after=mark)
    view = fake.home_views[USER]
    resume = next(b["accessory"] for b in view["blocks"]
                  if b.get("accessory", {}).get("action_id") == "cmbot_resume")
    assert "question 2 of" in json.dumps(view["blocks"])
    mark = fake.mark()
    driver.block_action(USER, None, None, "cmbot_resume", value=resume["value"],
                        container_kind="view", view=view)
    again = wait_question(fake, "departments", after=mark)
    assert answer_block(again, "departments") is not None
