"""Interviews in a channel over HTTP: a root message, the interview in its thread, who may
answer in a team interview, an @mention Slack delivers twice and retries. Who else may answer,
replies delivered twice and escaping are tested in-process (`test_door_interview.py`)."""

from __future__ import annotations

from interview_steps import ARTICLE, click, submit, wait_question
from test_dm_interview import run_interview

CHANNEL, OWNER, OTHER = "C1", "U1", "U2"


def test_mention_starts_a_thread_and_posts_the_result_there(bot):
    fake, driver = bot.fake, bot.driver
    driver.app_mention(OWNER, CHANNEL, "<@UBOT> start")
    root = fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL
                         and not c.params.get("thread_ts"))
    assert f"<@{OWNER}>" in root.text
    first = wait_question(fake, "org_size")
    assert first.params["thread_ts"] == root.response["ts"]
    result = run_interview(bot, ARTICLE, user=OWNER, channel=CHANNEL)
    assert result.params["thread_ts"] == root.response["ts"]
    assert result.params["metadata"]["event_type"] == "cmbot_recommendation"
    summary = fake.wait_for("chat.update", lambda c: c.params.get("ts") == root.response["ts"]
                            and result.params["metadata"]["event_payload"]["consultation_id"]
                            in c.text)
    assert "risk" in summary.text


def test_team_mode_lets_any_member_answer_and_records_who(bot):
    fake, driver = bot.fake, bot.driver
    fake.channel_members[CHANNEL] = [OWNER, OTHER]
    reply = driver.command("start team", user=OWNER, channel=CHANNEL)
    assert reply.status == 200
    root = fake.wait_for("chat.postMessage", lambda c: not c.params.get("thread_ts"))
    assert "team" in root.text.lower()
    first = wait_question(fake, "org_size")
    mark = fake.mark()
    click(driver, "U9", first, "org_size", "small")  # not a member of the channel
    refusal = fake.wait_for("chat.postEphemeral", lambda c: c.params["user"] == "U9", after=mark)
    assert f"<@{OWNER}>" in refusal.text
    click(driver, OTHER, first, "org_size", "large")
    second = wait_question(fake, "departments", after=mark)
    answered = fake.wait_for("chat.update", lambda c: c.params["ts"] == first.response["ts"])
    assert f"<@{OTHER}>" in str(answered.params["blocks"])
    submit(driver, OWNER, second, "departments", ["communication", "sales"])
    wait_question(fake, "proposed_host", after=mark)


def test_mention_delivered_twice_starts_once(bot):
    fake, driver = bot.fake, bot.driver
    ts = "1712345678.000100"
    driver.app_mention(OWNER, CHANNEL, "<@UBOT> start", ts=ts)
    driver.message(OWNER, CHANNEL, "<@UBOT> start", ts=ts)
    driver.retry_last(retry_num=1)
    wait_question(fake, "org_size")
    fake.assert_no_call("chat.postMessage", lambda c: "org_size" in str(c.params.get("blocks")),
                        after=fake.mark(), wait=1.0)
    roots = [c for c in fake.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(roots) == 1
