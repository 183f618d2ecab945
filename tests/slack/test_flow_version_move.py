"""An interview whose flow gets a new version while it waits, in-process: the service reports
the move when it loads the session, the Slack door tells the person once, and nothing about
the move is kept in the session."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_conversation import DM, USER, Slack, asked

from cmbot.service import Desk
from cmbot.slack.conversation import Conductor
from cmbot.slack.reminders import Reminders
from cmbot.slack.where import Start, Where
from cmbot.slack.workspaces import Conductors
from cmbot.store import Store

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@pytest.fixture
def moved(tmp_path: Path):
    """An interview on question 2 whose flow was then given version 2."""
    flows = tmp_path / "flows"
    flows.mkdir()
    mine = flows / "community_manager.yaml"
    shutil.copy(FLOWS / "community_manager.yaml", mine)
    store = Store(tmp_path / "cmbot.json")
    slack = Slack(store)
    desk = Desk(store, flows)
    conductor = Conductor(desk, slack, "en")  # type: ignore[arg-type]
    conductor.start(USER, Where.dm(DM), Start())
    conductor.click(USER, DM, f"1800000000.{slack.n:06d}", None, "org_size", "large")
    question_ts = f"1800000000.{slack.n - 1:06d}"  # the departments question (then the update)
    mine.write_text(mine.read_text().replace("version: 1", "version: 2"))
    desk.reload_flows()
    del slack.calls[:]
    yield conductor, slack, store, question_ts
    store.close()


def saved(store: Store) -> dict:
    return store.get_session(store.session_at(DM))


def test_the_service_reports_the_move_and_stores_no_flag(moved):
    conductor, _slack, store, _ts = moved
    session_id = store.session_at(DM)
    with conductor.desk.hold(session_id) as held:
        assert held.moved_from == 1 and held.session.flow_version == 2
    assert saved(store)["flow_version"] == 1  # nothing was saved: the next load moves it again
    with conductor.desk.hold(session_id) as held:
        assert held.moved_from == 1
        conductor.desk.save(held.session)
    with conductor.desk.hold(session_id) as held:
        assert held.moved_from is None
    assert "migrated_from" not in saved(store)["meta"]


def test_a_click_on_the_old_question_is_told_once_and_asked_again(moved):
    conductor, slack, store, question_ts = moved
    conductor.click(USER, DM, question_ts, None, "departments", ["sales"])
    texts = [p["text"] for p in slack.posted()]
    assert any("updated" in text for text in texts)
    assert asked(slack.posted()[-1]) == "departments"  # org_size was kept, departments asked anew
    assert saved(store)["flow_version"] == 2 and saved(store)["state"] == "departments"
    assert "migrated_from" not in saved(store)["meta"]
    del slack.calls[:]
    current = saved(store)["meta"]["slack"]["asked_ts"]
    conductor.click(USER, DM, current, None, "departments", ["sales"])
    assert not any("updated" in p["text"] for p in slack.posted())  # told once
    assert saved(store)["state"] != "departments"


def test_the_sweep_saves_nothing_for_a_moved_session_it_has_nothing_to_do_for(moved):
    conductor, slack, store, question_ts = moved
    sweep = Reminders(Conductors.fixed(conductor.desk, conductor), timedelta(0), timedelta(days=30), every=60)
    sweep._sweep_one(store.session_at(DM), datetime.now(UTC) - timedelta(days=1))  # not idle yet
    assert slack.calls == [] and saved(store)["flow_version"] == 1
    conductor.click(USER, DM, question_ts, None, "departments", ["sales"])
    assert any("updated" in p["text"] for p in slack.posted())  # still told


def test_a_reminder_retires_the_question_of_the_old_version(moved):
    conductor, slack, store, question_ts = moved
    sweep = Reminders(Conductors.fixed(conductor.desk, conductor), timedelta(hours=1), timedelta(days=30),
                      every=60)
    sweep._sweep_one(store.session_at(DM), datetime.now(UTC) + timedelta(hours=2))
    assert slack.methods() == ["chat.postMessage", "chat.update"]
    assert slack.calls[-1][1]["ts"] == question_ts  # no longer takes answers
    assert saved(store)["flow_version"] == 2
    del slack.calls[:]
    conductor.click(USER, DM, question_ts, None, "departments", ["sales"])
    assert [asked(p) for p in slack.posted()] == ["departments"]  # asked anew, not answered
    assert saved(store)["state"] == "departments"
