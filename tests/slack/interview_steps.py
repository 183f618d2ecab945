"""Steps a Slack user takes in an interview, built on the harness (find a question, click it).

A question is found the way a person sees it: the message the bot posted whose answer block
has `block_id` = the state id (the contract of `cmbot/slack/blocks.py`); its buttons, menu or
checkboxes are then used.
"""

from __future__ import annotations

import json
from typing import Any

from fakeslack import Call, FakeSlack
from slack_requests import BotDriver, checkbox_state


def answer_block(call: Call, state: str) -> dict[str, Any] | None:
    for block in call.params.get("blocks") or []:
        if block.get("block_id") == state:
            return block
    return None


def wait_question(fake: FakeSlack, state: str, after: int = 0, timeout: float = 5.0,
                  channel: str | None = None) -> Call:
    """The message asking `state`: the one with a block whose `block_id` is the state id."""
    return fake.wait_for(
        "chat.postMessage",
        lambda c: answer_block(c, state) is not None
        and (channel is None or c.params.get("channel") == channel),
        timeout=timeout, after=after)


def element(block: dict[str, Any], value: str | None = None) -> dict[str, Any]:
    for el in block["elements"]:
        if el["type"] == "button" and (value is None or el.get("value") == value):
            return el
        if el["type"] in ("static_select", "checkboxes"):
            return el
    raise AssertionError(f"no element for {value!r} in {block}")


def click(driver: BotDriver, user: str, call: Call, state: str, value: str) -> None:
    """Click option `value` of question `state` (a button, or the menu when it is a select)."""
    block = answer_block(call, state)
    assert block is not None, f"{state} has no answer block"
    el = element(block, value)
    reply = driver.block_action(
        user, call.params["channel"], call.response["ts"], el["action_id"], value=value,
        block_id=state, select=el["type"] == "static_select",
        thread_ts=call.params.get("thread_ts"))
    assert reply.status == 200, reply


def submit(driver: BotDriver, user: str, call: Call, state: str, values: list[str]) -> None:
    """Tick `values` in a multi question, then press its `cmbot_submit` button."""
    nav = next(b for b in call.params["blocks"] if b.get("block_id") == "cmbot_nav")
    button = next(e for e in nav["elements"] if e["action_id"] == "cmbot_submit")
    reply = driver.block_action(
        user, call.params["channel"], call.response["ts"], "cmbot_submit",
        value=button["value"], block_id="cmbot_nav",
        state_values=checkbox_state(state, "cmbot_multi", values),
        thread_ts=call.params.get("thread_ts"))
    assert reply.status == 200, reply


def nav(driver: BotDriver, user: str, call: Call, action_id: str) -> None:
    block = next(b for b in call.params["blocks"] if b.get("block_id") == "cmbot_nav")
    button = next(e for e in block["elements"] if e["action_id"] == action_id)
    reply = driver.block_action(user, call.params["channel"], call.response["ts"], action_id,
                                value=button["value"], block_id="cmbot_nav",
                                thread_ts=call.params.get("thread_ts"))
    assert reply.status == 200, reply


ARTICLE = {
    "org_size": "medium",
    "departments": ["communication", "marketing", "sales"],
    "proposed_host": "sales",
    "budget_owner": "host",
    "budget_amount": "0",
    "objectives": ["fans", "conversion", "company_news"],
    "reporting": "volume",
    "content": "little",
    "brand_reach": "niche",
    "collaboration": ["sales"],
    "dedicated_possible": "no",
}


def command(bot: Any, text: str, **fields: Any) -> tuple[int, str]:
    """A `/cmbot` command and its private answer (sent to the response URL after the ack), as
    (HTTP status of the ack, the answer's JSON text)."""
    mark = bot.fake.mark()
    reply = bot.driver.command(text, **fields)
    answer = bot.fake.wait_for("response", after=mark)
    return reply.status, json.dumps(answer.params, ensure_ascii=False)
