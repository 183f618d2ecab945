"""`cmbot serve`: configuration errors, request signatures, health, restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from commandline import run
from conftest import bot_environment
from interview_steps import ARTICLE, click, submit, wait_question
from test_dm_interview import run_interview

USER, DM = "U1", "D1"


def test_health_and_signatures(bot):
    driver = bot.driver
    assert driver.healthz() == 200
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {
        "type": "message", "user": USER, "channel": DM, "channel_type": "im", "text": "start",
        "ts": "1.1"}})
    assert driver.post(body, secret="not-the-secret").status == 401
    assert driver.post(body, timestamp=int(time.time()) - 600).status == 401
    assert driver.post(body, signed=False).status == 401
    bot.fake.assert_no_call("chat.postMessage", wait=0.5)
    assert driver.post(body).status == 200
    wait_question(bot.fake, "org_size")


def run_serve(env, *args):
    return run(["serve", "--http", *args], env=env, cwd=Path.cwd(), timeout=30)


def test_missing_or_bad_settings_are_one_clear_line(fake_slack, tmp_path):
    env = bot_environment(fake_slack, tmp_path / "db.json", {"SLACK_SIGNING_SECRET": None})
    result = run_serve(env, "--port", "0")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    env = bot_environment(fake_slack, tmp_path / "db.json", {"SLACK_BOT_TOKEN": "xoxp-secret-123"})
    result = run_serve(env)
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr
    assert "xoxp-secret-123" not in result.stderr + result.stdout
    env = bot_environment(fake_slack, tmp_path / "db.json", {"PORT": "eighty"})
    result = run_serve(env)
    assert result.returncode == 2 and "PORT" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_database_is_named_and_left_alone(fake_slack, tmp_path):
    db = tmp_path / "cmbot.json"
    db.write_text("{ not json")
    result = run_serve(bot_environment(fake_slack, db))
    assert result.returncode == 2 and str(db) in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_text() == "{ not json"


@pytest.mark.serve_process
def test_interview_survives_kill_9_and_old_buttons_still_work(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "medium")
    departments = wait_question(fake, "departments")
    bot.kill9()
    bot.restart()
    mark = fake.mark()
    submit(bot.driver, USER, departments, "departments", ARTICLE["departments"])
    wait_question(fake, "proposed_host", after=mark)
    rest = {k: v for k, v in ARTICLE.items() if k not in ("org_size", "departments")}
    result = run_interview(bot, rest, after=mark)
    payload = result.params["metadata"]["event_payload"]
    assert payload["placement"] not in ("sales", "marketing")


@pytest.mark.serve_process
def test_tokens_never_logged(bot):
    bot.driver.message(USER, DM, "start")
    wait_question(bot.fake, "org_size")
    bot.stop()
    assert "xoxb-test-token" not in bot.logs()


@pytest.mark.serve_process
def test_a_second_bot_on_the_same_database_refuses_to_start(bot):
    result = run_serve(bot.env, "--port", "0")
    assert result.returncode == 2
    assert str(bot.db_path) in result.stderr and "Traceback" not in result.stderr
    assert bot.driver.healthz() == 200
