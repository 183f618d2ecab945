"""A flow edited while the bot runs: nonsense is refused, a new version migrates interviews."""

from __future__ import annotations

import shutil
from pathlib import Path

from interview_steps import click, submit, wait_question

FLOWS = Path(__file__).resolve().parents[2] / "flows"
USER, DM = "U1", "D1"


def test_new_version_migrates_and_nonsense_is_refused(start_bot, tmp_path):
    user_flows = tmp_path / "flows"
    user_flows.mkdir()
    mine = user_flows / "community_manager.yaml"
    shutil.copy(FLOWS / "community_manager.yaml", mine)
    bot = start_bot(CMBOT_FLOWS=str(user_flows), CMBOT_SWEEP_EVERY="0.2")
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "large")
    departments = wait_question(fake, "departments")

    mine.write_text("id: community_manager\nversion: 2\nstates: [ nonsense")
    bot.wait_for_log("refused")  # the next sweep reads the edit
    assert str(mine) in bot.logs()
    assert driver.healthz() == 200

    text = (FLOWS / "community_manager.yaml").read_text()
    mine.write_text(text.replace("version: 1", "version: 2").replace(
        "How many people work in your company?", "How many people does your company employ?"))
    bot.wait_for_log("flows reloaded")
    mark = fake.mark()
    submit(driver, USER, departments, "departments", ["sales"])  # an old message, old version
    notice = fake.wait_for("chat.postMessage", lambda c: "updated" in c.text, after=mark)
    assert notice.params["channel"] == DM
    again = wait_question(fake, "departments", after=mark)  # org_size was kept
    assert again.response["ts"] != departments.response["ts"]
