"""The small things real use brings: replies sent to the channel too or with a file, summaries
longer than one Block Kit section, text that must be cut, history pages out of range."""

from __future__ import annotations

from interview_steps import ARTICLE, click, submit, wait_question
from test_dm_interview import MULTI

USER, DM, CHANNEL = "U1", "D1", "C1"
FIRST = ["org_size", "departments", "proposed_host", "budget_owner"]


def answer_first(bot, channel: str, after: int = 0) -> None:
    fake, driver = bot.fake, bot.driver
    for state in FIRST:
        call = wait_question(fake, state, after=after, channel=channel)
        after = fake.mark()
        (submit if state in MULTI else click)(driver, USER, call, state, ARTICLE[state])


def test_a_reply_also_sent_to_the_channel_is_an_answer(bot):
    fake, driver = bot.fake, bot.driver
    driver.app_mention(USER, CHANNEL, "<@UBOT> start")
    answer_first(bot, CHANNEL)
    amount = wait_question(fake, "budget_amount", channel=CHANNEL)
    mark = fake.mark()
    driver.message(USER, CHANNEL, "15000", thread_ts=amount.params["thread_ts"],
                   subtype="thread_broadcast")
    wait_question(fake, "objectives", after=mark, channel=CHANNEL)


def test_a_reply_with_a_file_is_an_answer(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    answer_first(bot, DM)
    wait_question(fake, "budget_amount", channel=DM)
    mark = fake.mark()
    driver.message(USER, DM, "12k", subtype="file_share", files=[{"id": "F1", "name": "budget.pdf"}])
    wait_question(fake, "objectives", after=mark, channel=DM)


def test_a_long_summary_is_split_and_loses_no_answer(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    answers = dict(ARTICLE, objectives=["fans", "other"])
    after = 0
    for state, value in answers.items():
        call = wait_question(fake, state, after=after, channel=DM)
        after = fake.mark()
        if state == "budget_amount":
            driver.message(USER, DM, value)
        elif state in MULTI:
            submit(driver, USER, call, state, value)
        else:
            click(driver, USER, call, state, value)
        if state == "objectives":
            wait_question(fake, "objectives_other", after=after, channel=DM)
            after = fake.mark()
            driver.message(USER, DM, "R&D <ideas> " + "&" * 480)  # 2 500 characters once escaped
    confirm = wait_question(fake, "confirm", after=after, channel=DM)
    sections = [b["text"]["text"] for b in confirm.params["blocks"] if b["type"] == "section"]
    assert len("".join(sections)) > 3000 and all(len(text) <= 3000 for text in sections)
    summary = "\n".join(sections)
    assert "&amp;lt;" not in summary and "R&amp;D &lt;ideas&gt;" in summary
    assert "unit of its own" in summary  # the last answer is still there
    assert not any(text.rstrip().endswith(("&", "&amp", "&lt")) for text in sections)


def test_a_history_page_out_of_range_shows_the_last_page(bot):
    fake, driver = bot.fake, bot.driver
    mark = fake.mark()
    driver.block_action(USER, DM, "1712345678.000100", "cmbot_history_more", value="12",
                        block_id="cmbot_history")
    answer = fake.wait_for("response", after=mark)
    assert answer.params["blocks"] and all(
        b["text"]["text"].strip() for b in answer.params["blocks"] if b["type"] == "section")
