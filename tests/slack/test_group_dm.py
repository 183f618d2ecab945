"""Group DMs (mpim) over HTTP: with the bot added, an interview runs there like in a channel, in
a thread, and replies arrive as `message.mpim` events. Without the bot, the person is told how
to add it and nothing is left half-started: `test_door_interview.py`, in-process."""

from __future__ import annotations

from interview_steps import click, wait_question

GROUP, OWNER = "G0MPIM1", "U1"
MPDM = "mpdm-u1--u2--u3-1"  # how Slack names a group DM in a slash command


def start(bot):
    return bot.driver.command("start", user=OWNER, channel=GROUP, channel_name=MPDM)


def test_a_group_dm_the_bot_was_added_to_runs_the_interview_in_a_thread(bot):
    fake, driver = bot.fake, bot.driver
    assert start(bot).status == 200
    root = fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == GROUP
                         and not c.params.get("thread_ts"))
    first = wait_question(fake, "org_size", channel=GROUP)
    assert first.params["thread_ts"] == root.response["ts"]
    mark = fake.mark()
    click(driver, OWNER, first, "org_size", "medium")
    wait_question(fake, "departments", after=mark, channel=GROUP)
    mark = fake.mark()  # a reply in the thread arrives as a `message.mpim` event
    driver.message(OWNER, GROUP, "medium please", thread_ts=root.response["ts"], channel_type="mpim")
    hint = fake.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == root.response["ts"],
                         after=mark)
    assert "buttons" in hint.text
