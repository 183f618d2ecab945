"""Panels in-process: each member's step, and what it tells the panel, is a plan the courier
carries — the hub saved before the root message shows its progress, the consultation archived
and the hub saved as done before the result is posted, and nothing said when the storage
refused the save (the member's answer then stays theirs to give again)."""

from __future__ import annotations

from typing import Any

from interview_steps import ARTICLE
from listener_driver import full_disk
from recording import Call, asked

from cmbot import panel_hub
from cmbot.panel_hub import Hub
from cmbot.slack.panel import root_blocks

CHANNEL, STARTER, BEA, CARL = "C1", "U1", "U2", "U3"
BEA_SAYS = {"proposed_host": "communication", "budget_owner": "management",
            "budget_amount": "30k", "objectives": ["awareness", "advocates"],
            "reporting": "qualitative", "dedicated_possible": "maybe"}
CARL_SAYS = {**BEA_SAYS, "proposed_host": "management", "reporting": "sales"}


def start(door) -> tuple[Call, str]:
    """`/cmbot panel @Bea @Carl` by the starter in the channel: the root message, the hub id."""
    door.command(f"panel <@{BEA}> <@{CARL}>", user=STARTER, channel=CHANNEL)
    root = door.client.posted()[0]
    return root, hub_of(root)


def hub_of(root: Call) -> str:
    """The panel's id, as the root message's buttons carry it."""
    return next(e["value"] for b in root.params["blocks"] if b.get("block_id") == "cmbot_panel"
                for e in b["elements"])


def answer(door, user: str, says: dict[str, Any], mark: int = 0, confirm: bool = True) -> Call:
    """Answer every question asked in the user's DM since `mark` from `says`; the confirm
    question last (clicked when `confirm`), returned."""
    while True:
        question = next(c for c in reversed(door.client.posted(mark))
                        if c.params["channel"] == "D" + user and asked(c))
        state = asked(question)
        if state == "confirm":
            if confirm:
                door.click(user, question, "confirm", "confirm")
            return question
        mark = door.client.mark()
        door.answer(user, question, state, says[state])


def stored(door, hub_id: str) -> Hub:
    hub = panel_hub.load(door.desk, hub_id)
    assert hub is not None
    return hub


def press(door, user: str, root: Call, hub_id: str, action_id: str):
    return door.action(user, action_id, CHANNEL, root.ts, None, hub_id, "cmbot_panel")


def test_the_root_and_the_result_show_only_what_was_saved(door):
    door.client.members[CHANNEL] = [STARTER, BEA]  # Carl is not in the channel: the root says so
    shown: list[tuple[Call, Hub | None, bool]] = []
    hub_id = ""

    def note(call: Call) -> None:
        nonlocal hub_id
        if call.params.get("channel") == CHANNEL and call.method != "conversations.members":
            hub_id = hub_id or hub_of(call)
            hub = panel_hub.load(door.desk, hub_id)
            archived = bool(hub and hub.consultation_id
                            and door.desk.consultation(hub.consultation_id))
            shown.append((call, hub, archived))
    door.client.watchers.append(note)
    root, _ = start(door)
    assert shown[0][1] is None  # the root is posted first; the panel is saved once it exists
    mark = door.client.mark()
    answer(door, STARTER, ARTICLE)
    assert "answers are saved" in door.client.posted(mark)[-1].text
    mark = door.client.mark()
    answer(door, BEA, BEA_SAYS)
    answer(door, CARL, CARL_SAYS)
    updates = [(c, hub) for c, hub, _ in shown if c.method == "chat.update"]
    # Every progress the root showed is the hub as saved at that moment, Carl marked outside.
    assert len(updates) == 4  # started, the starter answered, Bea answered, done
    for call, hub in updates:
        assert hub is not None and call.params["ts"] == root.ts
        assert call.params["blocks"] == root_blocks(hub, {STARTER, BEA})[0]
    assert "not in this channel" in str(updates[0][0].params["blocks"])
    result = next(c for c in door.client.posted(mark) if c.params.get("metadata"))
    found = next((hub, archived) for c, hub, archived in shown if c is result)
    assert found[0] is not None and found[0].status == panel_hub.DONE and found[1]
    payload = result.params["metadata"]["event_payload"]
    assert result.params["thread_ts"] == root.ts
    assert payload["consultation_id"] == found[0].consultation_id
    assert payload["members"] == [STARTER, BEA, CARL] and "proposed_host" in payload["divergences"]
    told = [c.params["channel"] for c in door.client.posted(mark)
            if payload["consultation_id"] in c.text and c.params["channel"] != CHANNEL]
    assert sorted(told) == ["DU1", "DU2", "DU3"]  # once each
    # Carl's answer completed the panel: his thanks say where the result is, and nothing says
    # it is still to come.
    to_carl = [c.text for c in door.client.posted(mark) if c.params["channel"] == "DU3"
               and not asked(c)]
    assert to_carl[-1].startswith("Thank you") and "last to answer" in to_carl[-1]
    assert not any("once the panel is complete" in text for text in to_carl)
    assert door.desk.session_at("DU2") is None and door.desk.session_at("DU3") is None


def test_members_are_asked_only_once_the_facts_are_saved_and_never_a_fact(door):
    root, hub_id = start(door)
    assert [c.params["channel"] for c in door.client.posted()] == [CHANNEL, "DU1", "DU1"]
    mark = door.client.mark()
    answer(door, STARTER, ARTICLE)
    hub = stored(door, hub_id)
    assert hub.status == panel_hub.OPEN and set(hub.sessions) == {BEA, CARL}
    for member in (BEA, CARL):
        first = next(c for c in door.client.posted(mark)
                     if c.params["channel"] == "D" + member and asked(c))
        assert asked(first) == "proposed_host"  # past every fact the starter gave
        assert door.desk.session_at("D" + member) == hub.sessions[member]
    assert "has answered" in str(door.client.updated(root.ts, mark).params["blocks"])


def test_a_refused_save_of_the_last_answer_says_nothing_and_the_member_can_confirm_again(
        door, monkeypatch):
    _, hub_id = start(door)
    answer(door, STARTER, ARTICLE)
    answer(door, BEA, BEA_SAYS)
    confirm = answer(door, CARL, CARL_SAYS, confirm=False)
    monkeypatch.setattr(door.desk.store, "set_pref", full_disk)
    mark = door.client.mark()
    door.click(CARL, confirm, "confirm", "confirm")
    assert [c.method for c in door.client.since(mark)
            if c.method not in ("users.info", "conversations.members")] == ["chat.postEphemeral"]
    assert "could not save" in door.client.told(mark)[0].text
    hub = stored(door, hub_id)
    assert hub.status == panel_hub.OPEN and CARL not in hub.answers
    monkeypatch.undo()
    mark = door.client.mark()
    door.click(CARL, confirm, "confirm", "confirm")  # the same question still takes the answer
    result = next(c for c in door.client.posted(mark) if c.params.get("metadata"))
    payload = result.params["metadata"]["event_payload"]
    assert payload["members"] == [STARTER, BEA, CARL]
    assert stored(door, hub_id).status == panel_hub.DONE
    # Archived once: what the refused step had archived is what the second try posted.
    assert [s.id for s in door.desk.consultations()] == [payload["consultation_id"]] == [hub_id]


def test_closing_when_the_save_is_refused_is_said_and_changes_nothing(door, monkeypatch):
    root, hub_id = start(door)
    answer(door, STARTER, ARTICLE)
    answer(door, BEA, BEA_SAYS)
    monkeypatch.setattr(door.desk.store, "set_pref", full_disk)
    mark = door.client.mark()
    press(door, STARTER, root, hub_id, "cmbot_panel_close")
    assert door.client.posted(mark) == [] and door.client.since(mark, "chat.update") == []
    assert "could not save" in door.client.told(mark)[0].text
    monkeypatch.undo()
    assert stored(door, hub_id).status == panel_hub.OPEN
    assert door.desk.session_at("DU3") is not None  # Carl may still answer
    press(door, STARTER, root, hub_id, "cmbot_panel_close")
    result = next(c for c in door.client.posted(mark) if c.params.get("metadata"))
    assert result.params["metadata"]["event_payload"]["members"] == [STARTER, BEA]
    assert [s.id for s in door.desk.consultations()] == [hub_id]
    assert door.desk.session_at("DU3") is None
    assert any("closed the panel" in c.text for c in door.client.posted(mark)
               if c.params["channel"] == "DU3")


def test_a_result_slack_refuses_is_still_saved_and_each_member_gets_its_id(door):
    root, hub_id = start(door)
    answer(door, STARTER, ARTICLE)
    answer(door, BEA, BEA_SAYS)
    confirm = answer(door, CARL, CARL_SAYS, confirm=False)
    door.client.refuse_next("chat.postMessage", "not_in_channel")  # the result, in the thread
    mark = door.client.mark()
    door.click(CARL, confirm, "confirm", "confirm")
    hub = stored(door, hub_id)
    assert hub.status == panel_hub.DONE and hub.consultation_id is not None
    assert door.desk.consultation(hub.consultation_id) is not None
    assert "merged advice is in this thread" in str(door.client.updated(root.ts, mark).params)
    told = [c.params["channel"] for c in door.client.posted(mark) if hub.consultation_id in c.text]
    assert sorted(told) == ["DU1", "DU2", "DU3"]


def test_a_member_no_dm_can_reach_is_said_before_anything_is_posted_or_saved(door):
    door.client.unreachable.add(CARL)
    said = door.command(f"panel <@{BEA}> <@{CARL}>", user=STARTER, channel=CHANNEL)
    assert "<@U3>" in said.texts() and "user_disabled" in said.texts()
    assert door.client.posted() == [] and door.desk.session_at("DU1") is None
    door.client.unreachable.clear()
    door.command(f"panel <@{BEA}> <@{CARL}>", user=STARTER, channel=CHANNEL)
    assert [c.params["channel"] for c in door.client.posted()] == [CHANNEL, "DU1", "DU1"]
