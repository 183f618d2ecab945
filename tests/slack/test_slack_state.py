"""What the Slack door keeps with a session, read from every shape a saved session may have:
the current one (`meta["slack"]`), the previous one (the panel's id beside it) and older ones'
loose keys — so an interview in progress when cmbot is upgraded goes on where it was."""

from __future__ import annotations

from cmbot.interview import Session
from cmbot.slack.state import SlackState


def saved(meta: dict) -> Session:
    return Session(id="s1", flow_id="community_manager", flow_version=1, state="org_size",
                   meta=meta)


def test_the_state_is_stored_under_one_key_and_read_back():
    session = saved({})
    SlackState(asked="org_size", asked_ts="17.1", panel="h1", handled=["17.0"]).store(session)
    assert session.meta == {"slack": {"asked": "org_size", "asked_ts": "17.1", "root_ts": None,
                                      "ticks": {}, "handled": ["17.0"], "reminded": None,
                                      "panel": "h1"}}
    assert SlackState.of(session) == SlackState(asked="org_size", asked_ts="17.1", panel="h1",
                                                handled=["17.0"])


def test_a_panel_member_saved_with_the_panel_beside_the_state_still_answers_for_it():
    session = saved({"panel": "h1", "slack": {"asked": "org_size", "asked_ts": "17.1"}})
    state = SlackState.of(session)
    assert (state.panel, state.asked, state.asked_ts) == ("h1", "org_size", "17.1")
    state.store(session)
    assert list(session.meta) == ["slack"] and session.meta["slack"]["panel"] == "h1"


def test_the_loose_keys_of_older_versions_are_read_and_then_dropped():
    session = saved({"messages": {"17.1": "org_size"}, "question_ts": "17.1", "root_ts": "16.0",
                     "reminded": "2026-01-01T00:00:00+00:00", "panel": "h1", "origin": "x"})
    state = SlackState.of(session)
    assert state == SlackState(asked="org_size", asked_ts="17.1", root_ts="16.0",
                               reminded="2026-01-01T00:00:00+00:00", panel="h1")
    state.store(session)
    assert list(session.meta) == ["slack"]
    assert SlackState.of(session) == state
