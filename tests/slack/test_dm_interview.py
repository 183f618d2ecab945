"""A whole interview in a DM, driven exactly as Slack would drive `cmbot serve --http`: the
contract end to end (question blocks, buttons, checkboxes with `cmbot_submit`, typed replies,
navigation, a stale click, the recommendation's metadata). The conversation's other variants are
tested in-process, in milliseconds (`test_door_interview.py`)."""

from __future__ import annotations

from interview_steps import ARTICLE, answer_block, click, nav, submit, wait_question

USER, DM = "U1", "D1"
MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount", "objectives_other"}


def answering(bot, answers, user=USER, channel=DM, after=0):
    """Answer every question the bot asks, in order, then confirm; yields the fake's mark taken
    just before each answer was sent, once Slack's request for it was acknowledged."""
    fake, driver = bot.fake, bot.driver
    for state, value in [*answers.items(), ("confirm", "confirm")]:
        call = wait_question(fake, state, after=after, channel=channel)
        after = fake.mark()
        if state in MULTI:
            submit(driver, user, call, state, value)
        elif state in TYPED:
            driver.message(user, channel, value, thread_ts=call.params.get("thread_ts"))
        else:
            click(driver, user, call, state, value)
        yield after


def run_interview(bot, answers, user=USER, channel=DM, after=0):
    """Answer every question the bot asks, in order; returns the recommendation post."""
    *_, confirmed = answering(bot, answers, user, channel, after)
    return bot.fake.wait_for("chat.postMessage", lambda c: c.params.get("metadata")
                             and c.params["channel"] == channel, after=confirmed)


def test_whole_interview_in_a_dm(bot):
    bot.driver.message(USER, DM, "start")
    result = run_interview(bot, ARTICLE)
    meta = result.params["metadata"]
    assert meta["event_type"] == "cmbot_recommendation"
    payload = meta["event_payload"]
    assert payload["flow"] == "community_manager" and payload["lang"] == "en"
    assert payload["placement"] not in ("sales", "marketing")
    assert {"quantitative_objectives", "budget_owner_pressure", "no_budget_for_volume_targets",
            "unrealistic_audience_target", "reporting_mismatch"} <= set(payload["risks"])
    assert [r["from"] for r in payload["reframed"]] == ["fans", "conversion", "company_news"]
    # Who should pay: never sales, which planned to host and pay for volume targets.
    assert payload["budget_owner"] in ("dedicated", "management")
    text = str(result.params["blocks"])
    assert "Who should pay" in text and "If the sales department pays as you planned" in text
    assert result.params["channel"] == DM


def test_back_restart_cancel(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "small")
    second = wait_question(fake, "departments")
    mark = fake.mark()
    nav(driver, USER, second, "cmbot_back")
    again = wait_question(fake, "org_size", after=mark)
    mark = fake.mark()
    nav(driver, USER, again, "cmbot_restart")
    restarted = wait_question(fake, "org_size", after=mark)
    mark = fake.mark()
    nav(driver, USER, restarted, "cmbot_cancel")
    fake.wait_for("chat.postMessage", lambda c: "cancelled" in c.text.lower(), after=mark)
    # The cancelled interview's buttons now change nothing and say so, privately.
    mark = fake.mark()
    click(driver, USER, restarted, "org_size", "large")
    fake.wait_for("chat.postEphemeral", after=mark)
    fake.assert_no_call("chat.postMessage", after=mark)


def test_stale_click_changes_nothing(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    first = wait_question(fake, "org_size")
    click(driver, USER, first, "org_size", "small")
    wait_question(fake, "departments")
    mark = fake.mark()
    click(driver, USER, first, "org_size", "large")
    notice = fake.wait_for("chat.postEphemeral", after=mark)
    assert "no longer current" in notice.text
    fake.assert_no_call("chat.postMessage", after=mark)


def test_question_blocks_follow_the_contract(bot):
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    call = wait_question(fake, "org_size")
    block = answer_block(call, "org_size")
    assert sorted(e["value"] for e in block["elements"]) == ["large", "medium", "micro", "small"]
    assert "Question 1 of" in str(call.params["blocks"])
    nav_ids = [e["action_id"] for b in call.params["blocks"] if b.get("block_id") == "cmbot_nav"
               for e in b["elements"]]
    assert nav_ids == ["cmbot_back", "cmbot_restart", "cmbot_cancel"]


def test_ticks_sent_as_change_actions_count_when_submit_has_no_state(bot):
    """The selection may come from earlier checkbox actions instead of `state.values`."""
    fake, driver = bot.fake, bot.driver
    driver.message(USER, DM, "start")
    click(driver, USER, wait_question(fake, "org_size"), "org_size", "small")
    call = wait_question(fake, "departments")
    ts = call.response["ts"]
    for picked in (["sales"], ["communication", "sales"]):
        driver.block_action(USER, DM, ts, "cmbot_multi", selected_options=picked,
                            block_id="departments")
    nav = next(b for b in call.params["blocks"] if b.get("block_id") == "cmbot_nav")
    session_id = nav["elements"][0]["value"]
    mark = fake.mark()
    driver.block_action(USER, DM, ts, "cmbot_submit", value=session_id, block_id="cmbot_nav")
    host = wait_question(fake, "proposed_host", after=mark)
    offered = [e["value"] for e in answer_block(host, "proposed_host")["elements"]]
    assert offered == ["communication", "sales", "management", "undecided"]
