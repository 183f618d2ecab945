"""Panels over signed HTTP against the fake Slack: `/cmbot panel @b @c` in a channel, each member
answering in their own DM, the root message's progress, closing early, cancelling, privacy."""

from __future__ import annotations

import time
from typing import Any

import pytest
from interview_steps import click, command, nav, submit, wait_question

CHANNEL, STARTER, BEA, CARL, OUTSIDER = "C1", "U1", "U2", "U3", "U9"
MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount", "objectives_other"}
FACTS = {"org_size": "medium", "departments": ["communication", "marketing", "sales"],
         "content": "little", "brand_reach": "niche", "collaboration": ["communication", "sales"]}
SALES = {"proposed_host": "sales", "budget_owner": "host", "budget_amount": "10 000",
         "objectives": ["fans", "conversion"], "reporting": "sales", "dedicated_possible": "no"}
COMMUNICATION = {"proposed_host": "communication", "budget_owner": "host",
                 "budget_amount": "30k", "objectives": ["awareness", "advocates"],
                 "reporting": "qualitative", "dedicated_possible": "maybe"}
MANAGEMENT = {"proposed_host": "management", "budget_owner": "management",
              "budget_amount": "20000", "objectives": ["conversion", "awareness"],
              "reporting": "qualitative", "dedicated_possible": "maybe"}
FAST = {"CMBOT_REMIND_AFTER": "1s", "CMBOT_EXPIRE_AFTER": "2.5s", "CMBOT_SWEEP_EVERY": "0.1"}
FLOW_ORDER = ["org_size", "departments", "proposed_host", "budget_owner", "budget_amount",
              "objectives", "objectives_other", "reporting", "content", "brand_reach",
              "collaboration", "dedicated_possible"]


def dm(user: str) -> str:
    return "D" + user


def answer(bot, user: str, answers: dict[str, Any], after: int = 0) -> int:
    """Answer, in the user's DM, every question in `answers` (in the flow's order), then confirm;
    returns the mark after the confirm click."""
    fake, driver = bot.fake, bot.driver
    for state in [s for s in FLOW_ORDER if s in answers]:
        call = wait_question(fake, state, after=after, channel=dm(user))
        after = fake.mark()
        value = answers[state]
        if state in MULTI:
            submit(driver, user, call, state, value)
        elif state in TYPED:
            driver.message(user, dm(user), value)
        else:
            click(driver, user, call, state, value)
    call = wait_question(fake, "confirm", after=after, channel=dm(user))
    after = fake.mark()
    click(driver, user, call, "confirm", "confirm")
    return after


def start_panel(bot, members: str = f"<@{BEA}|bea> <@{CARL}>"):
    status, reply = command(bot, f"panel {members}", user=STARTER, channel=CHANNEL)
    assert status == 200
    root = bot.fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL
                             and not c.params.get("thread_ts"))
    return reply, root


def root_now(bot, root) -> dict[str, Any]:
    return bot.fake.messages[(CHANNEL, root.response["ts"])]


def root_text(bot, root, *expected: str, timeout: float = 5.0) -> str:
    """The root message as it is now, once it says every `expected` fragment (the bot updates it
    after acknowledging the click that changed it)."""
    deadline = time.monotonic() + timeout
    while True:
        text = str(root_now(bot, root).get("blocks"))
        if all(e in text for e in expected) or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


def progress(message: dict[str, Any]) -> str:
    """The root message's progress lines (its second block)."""
    return message["blocks"][1]["text"]["text"]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} in {message}")


def press(bot, user: str, root, action_id: str) -> None:
    value = button(root_now(bot, root), action_id)["value"]
    reply = bot.driver.block_action(user, CHANNEL, root.response["ts"], action_id, value=value,
                                    block_id="cmbot_panel")
    assert reply.status == 200


def result_of(bot, root, after: int = 0):
    return bot.fake.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts")
                             == root.response["ts"] and c.params.get("metadata"), after=after)


def test_three_members_answer_on_their_own_and_the_result_shows_their_disagreements(bot):
    fake = bot.fake
    reply, root = start_panel(bot)
    assert f"<#{CHANNEL}>" in reply
    assert all(f"<@{u}>" in root.text for u in (STARTER, BEA, CARL))
    # The starter is asked first, the facts included; the others wait for the facts.
    wait_question(fake, "org_size", channel=dm(STARTER))
    assert "once <@U1> has described" in root_text(bot, root, "once <@U1> has described")
    fake.assert_no_call("chat.postMessage", lambda c: c.params["channel"] in (dm(BEA), dm(CARL)))
    mark = facts_given = answer(bot, STARTER, {**FACTS, **SALES})
    fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == dm(STARTER)
                  and "answers are saved" in c.text, after=mark)
    # Now Bea and Carl get their DMs, starting at their first opinion: no fact is asked again.
    first_bea = wait_question(fake, "proposed_host", after=mark, channel=dm(BEA))
    wait_question(fake, "proposed_host", after=mark, channel=dm(CARL))
    now = root_text(bot, root, "has answered", "is answering")
    assert "has answered" in now and "is answering" in now
    # Nobody but Bea answers Bea's interview, not even another member.
    before = fake.mark()
    click(bot.driver, CARL, first_bea, "proposed_host", "sales")
    refusal = fake.wait_for("chat.postEphemeral", after=before)
    assert refusal.params["user"] == CARL
    fake.assert_no_call("chat.update", lambda c: c.params.get("ts") == first_bea.response["ts"],
                        after=before)
    mark = answer(bot, BEA, COMMUNICATION, after=mark)
    asked_bea = {c.params["blocks"][1].get("block_id") for c in fake.calls_to("chat.postMessage")
                 if c.params["channel"] == dm(BEA) and len(c.params.get("blocks") or []) > 1}
    assert not asked_bea & set(FACTS)
    # Until the last member answers, the channel sees who answered, never what.
    assert "Communication" not in root_text(bot, root) and "€" not in root_text(bot, root)
    fake.assert_no_call("chat.postMessage", lambda c: c.params.get("metadata"), after=0)
    # Carl finishes late: the result is posted in the root message's thread.
    mark = answer(bot, CARL, MANAGEMENT, after=facts_given)
    result = result_of(bot, root, after=mark)
    meta = result.params["metadata"]
    assert meta["event_type"] == "cmbot_panel_result"
    payload = meta["event_payload"]
    assert payload["members"] == [STARTER, BEA, CARL]
    assert set(payload) >= {"consultation_id", "members", "placement", "runner_up",
                            "budget_owner", "divergences", "risks", "reframed"}
    assert {"proposed_host", "budget_owner", "objectives", "reporting"} <= set(
        payload["divergences"])
    assert {"payer_disagreement", "host_disagreement", "objectives_conflict"} <= set(
        payload["risks"])
    assert [r["from"] for r in payload["reframed"]] == ["fans", "conversion", "awareness",
                                                        "advocates"]
    text = str(result.params["blocks"])
    assert "Each member's answers" in text and "sets the targets" in text
    # The root says it is done and loses its buttons; every member is told where the result is.
    done = fake.wait_for("chat.update", lambda c: c.params["ts"] == root.response["ts"]
                         and "3 of 3 answered" in str(c.params["blocks"]), after=mark)
    assert "cmbot_panel_close" not in str(done.params["blocks"])
    for user in (STARTER, BEA, CARL):
        fake.wait_for("chat.postMessage", lambda c, u=user: c.params["channel"] == dm(u)
                      and payload["consultation_id"] in c.text)
    # The panel is one consultation the channel's members can reopen.
    fake.channel_members[CHANNEL] = [STARTER, BEA, CARL]
    status, shown = command(bot, f"show {payload['consultation_id']}", user=BEA, channel=CHANNEL)
    assert status == 200 and "Each member's answers" in shown


def test_the_starter_closes_early_once_two_have_answered(bot):
    fake = bot.fake
    _, root = start_panel(bot)
    mark = fake.mark()
    press(bot, STARTER, root, "cmbot_panel_close")  # nobody has answered yet
    refusal = fake.wait_for("chat.postEphemeral", after=mark)
    assert "At least 2 members" in refusal.text and refusal.params["user"] == STARTER
    mark = answer(bot, STARTER, {**FACTS, **SALES})
    carl_question = wait_question(fake, "proposed_host", after=mark, channel=dm(CARL))
    mark = answer(bot, BEA, COMMUNICATION, after=mark)
    # Only the starter may close; a member or an outsider is told so, privately.
    for user in (BEA, OUTSIDER):
        before = fake.mark()
        press(bot, user, root, "cmbot_panel_close")
        told = fake.wait_for("chat.postEphemeral", after=before)
        assert told.params["user"] == user and f"<@{STARTER}>" in told.text
    mark = fake.mark()
    press(bot, STARTER, root, "cmbot_panel_close")
    payload = result_of(bot, root, after=mark).params["metadata"]["event_payload"]
    assert payload["members"] == [STARTER, BEA]
    now = root_text(bot, root, "2 of 3 answered", "did not answer")
    assert "2 of 3 answered" in now and "did not answer" in now
    fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == dm(CARL)
                  and "closed the panel" in c.text, after=mark)
    # Carl's question no longer takes answers.
    before = fake.mark()
    click(bot.driver, CARL, carl_question, "proposed_host", "management")
    fake.wait_for("chat.postEphemeral", lambda c: c.params["user"] == CARL, after=before)
    fake.assert_no_call("chat.postMessage", lambda c: c.params.get("metadata"), after=before)


def test_the_starter_cancels_and_nothing_is_saved(bot):
    fake = bot.fake
    _, root = start_panel(bot)
    mark = answer(bot, STARTER, {**FACTS, **SALES})
    wait_question(fake, "proposed_host", after=mark, channel=dm(BEA))
    mark = fake.mark()
    press(bot, STARTER, root, "cmbot_panel_cancel")
    fake.wait_for("chat.update", lambda c: c.params.get("ts") == root.response["ts"]
                  and "cancelled" in c.text, after=mark)
    fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == dm(BEA)
                  and "cancelled the panel" in c.text, after=mark)
    _, history = command(bot, "history", user=STARTER, channel=CHANNEL)
    assert "No consultation yet" in history


def test_each_member_in_their_own_language_the_result_in_the_starters(bot):
    fake = bot.fake
    fake.user_locales[BEA] = "fr-FR"
    _, root = start_panel(bot, f"<@{BEA}>")
    mark = answer(bot, STARTER, {**FACTS, **SALES})
    question = wait_question(fake, "proposed_host", after=mark, channel=dm(BEA))
    intro = fake.find("chat.postMessage", lambda c: c.params["channel"] == dm(BEA), after=mark)
    assert intro is not None and "vous demande votre avis" in intro.text
    assert "Où envisagiez-vous" in question.text
    mark = answer(bot, BEA, COMMUNICATION, after=mark)
    result = result_of(bot, root, after=mark)
    assert "Each member's answers" in str(result.params["blocks"])
    assert "\u00a0:" not in result.text


def test_a_panel_needs_a_channel_and_named_members(bot):
    assert "runs in a channel" in command(bot, f"panel <@{BEA}>", user=STARTER,
                                          channel=dm(STARTER))[1]
    assert "Name the members" in command(bot, "panel", user=STARTER, channel=CHANNEL)[1]
    assert "Name the members" in command(bot, "panel bea carl", user=STARTER, channel=CHANNEL)[1]
    assert "Name the members" in command(bot, f"panel <@{STARTER}>", user=STARTER,
                                         channel=CHANNEL)[1]
    bot.fake.assert_no_call("chat.postMessage")


@pytest.mark.parametrize("bot_env", [FAST], indirect=True)
def test_a_member_left_idle_is_reminded_then_the_panel_merges_without_them(bot):
    fake = bot.fake
    _, root = start_panel(bot)
    mark = facts_given = answer(bot, STARTER, {**FACTS, **SALES})
    wait_question(fake, "proposed_host", after=mark, channel=dm(BEA))
    answer(bot, CARL, MANAGEMENT, after=facts_given)
    reminder = fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == dm(BEA)
                             and "waiting for you" in c.text, timeout=8, after=facts_given)
    assert reminder is not None
    fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == dm(BEA)
                  and "idle too long" in c.text, timeout=10, after=facts_given)
    payload = result_of(bot, root).params["metadata"]["event_payload"]
    assert payload["members"] == [STARTER, CARL]
    fake.wait_for("chat.update", lambda c: c.params.get("ts") == root.response["ts"]
                  and "stopped answering" in progress(c.params))


def test_a_member_who_cancels_is_said_and_one_outside_the_channel_is_warned(bot):
    fake = bot.fake
    fake.channel_members[CHANNEL] = [STARTER, BEA]
    _, root = start_panel(bot)
    lines = progress(root_now(bot, root)).splitlines()
    assert [line for line in lines if "not in this channel" in line] == [
        f"⏳ <@{CARL}> gets the questions once <@{STARTER}> has described the organisation"
        " (not in this channel, so they will not see this thread)"]
    mark = answer(bot, STARTER, {**FACTS, **SALES})
    question = wait_question(fake, "proposed_host", after=mark, channel=dm(BEA))
    mark = fake.mark()
    nav(bot.driver, BEA, question, "cmbot_cancel")
    fake.wait_for("chat.update", lambda c: c.params.get("ts") == root.response["ts"]
                  and "stopped answering" in str(c.params.get("blocks")), after=mark)
    # Carl, outside the channel, may still answer and see the result.
    mark = answer(bot, CARL, MANAGEMENT)
    payload = result_of(bot, root, after=mark).params["metadata"]["event_payload"]
    assert payload["members"] == [STARTER, CARL]
    status, shown = command(bot, f"show {payload['consultation_id']}", user=CARL,
                            channel=dm(CARL))
    assert status == 200 and "Each member's answers" in shown


def picked(members: list[str], channel: str | None) -> dict[str, Any]:
    return {"members": {"members": {"type": "multi_users_select", "selected_users": members}},
            "where": {"channel": {"type": "conversations_select",
                                  "selected_conversation": channel}}}


def test_a_panel_from_app_home_or_the_shortcut_with_a_people_picker(bot):
    fake, driver = bot.fake, bot.driver
    driver.app_home_opened(STARTER)
    fake.wait_for("views.publish", lambda c: c.params["user_id"] == STARTER)
    view = fake.home_views[STARTER]
    driver.block_action(STARTER, None, None, "cmbot_home_panel", value="panel",
                        block_id="cmbot_home", container_kind="view", view=view)
    opened = fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "cmbot_panel_modal"
    # A DM is no place for a panel: the modal says so, on the channel field.
    status, body = driver.view_submission(STARTER, "cmbot_panel_modal",
                                          state_values=picked([BEA], dm(STARTER)))
    assert status == 200 and "runs in a channel" in body and '"where"' in body
    fake.assert_no_call("chat.postMessage")
    mark = fake.mark()
    driver.shortcut("cmbot_panel", user=STARTER)
    assert fake.wait_for("views.open", after=mark).params["view"]["callback_id"] == \
        "cmbot_panel_modal"
    status, _ = driver.view_submission(STARTER, "cmbot_panel_modal",
                                       state_values=picked([BEA, STARTER, CARL], CHANNEL))
    assert status == 200
    root = fake.wait_for("chat.postMessage", lambda c: c.params["channel"] == CHANNEL
                         and not c.params.get("thread_ts"), after=mark)
    assert "<@U1>, <@U2> and <@U3>" in root.text
    wait_question(fake, "org_size", channel=dm(STARTER))
