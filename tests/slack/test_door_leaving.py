"""Leaving an interview unfinished — cancelling it, or letting it expire — in-process: the
interview is over even when Slack refuses the message that says so, so a new one can start in
the same DM; and a panel hears that a member left only once the member's step is carried out."""

from __future__ import annotations

from interview_steps import ARTICLE
from recording import asked

USER, DM = "U1", "D1"


def test_a_cancel_slack_refused_to_announce_still_ends_the_interview(door):
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    door.client.refuse_next("chat.postMessage", "ratelimited")
    mark = door.client.mark()
    door.nav(USER, first, "cmbot_cancel")
    assert "ratelimited" in door.client.told(mark)[0].text  # the person is told it failed
    assert door.desk.session_at(DM) is None  # but the interview is over: nothing to resume
    mark = door.client.mark()
    door.message(USER, DM, "start")
    assert door.client.question("org_size", mark).ts != first.ts  # a new interview begins


def test_a_panel_member_who_cancels_is_said_even_when_slack_refuses_their_message(door):
    door.client.members["C1"] = [USER, "U2", "U3"]
    door.command("panel <@U2> <@U3>", user=USER, channel="C1")
    root = door.client.posted()[0]
    mark = 0
    for state, value in [*ARTICLE.items(), ("confirm", "confirm")]:  # the starter, in their DM
        question = door.client.question(state, mark)
        mark = door.client.mark()
        door.answer(USER, question, state, value)
    first = next(c for c in reversed(door.client.posted())
                 if c.params["channel"] == "DU2" and asked(c))
    door.client.refuse_next("chat.postMessage", "ratelimited")
    mark = door.client.mark()
    door.nav("U2", first, "cmbot_cancel")
    assert "ratelimited" in door.client.told(mark)[0].text
    assert door.desk.session_at("DU2") is None
    assert "<@U2> stopped answering" in door.client.updated(root.ts, mark).blocks()
