"""An interview whose flow gets a new version while it waits, in-process: the service reports
the move when it loads the session, the Slack door tells the person once, and nothing about
the move is kept in the session."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from recording import asked

from cmbot.slack.reminders import Reminders
from cmbot.slack.where import Start, Where
from cmbot.slack.workspaces import Conductors

FLOWS = Path(__file__).resolve().parents[2] / "flows"
USER, DM = "U1", "D1"


@pytest.fixture
def moved(make_door, tmp_path: Path):
    """An interview on question 2 (on TinyDB files) whose flow was then given version 2; the
    door, and the departments question on screen."""
    flows = tmp_path / "flows"
    flows.mkdir()
    mine = flows / "community_manager.yaml"
    shutil.copy(FLOWS / "community_manager.yaml", mine)
    door = make_door(engine="tinydb", flows_dir=flows)
    door.conductor.start(USER, Where.dm(DM), Start())
    door.conductor.click(USER, DM, door.client.question("org_size").ts, None, "org_size", "large")
    question = door.client.question("departments")
    mine.write_text(mine.read_text().replace("version: 1", "version: 2"))
    door.desk.reload_flows()
    del door.client.calls[:]
    return door, question


def saved(door) -> dict:
    return door.desk.store.get_session(door.desk.session_at(DM))


def test_the_service_reports_the_move_and_stores_no_flag(moved):
    door, _ts = moved
    desk = door.desk
    session_id = desk.session_at(DM)
    with desk.hold(session_id) as held:
        assert held.moved_from == 1 and held.session.flow_version == 2
    assert saved(door)["flow_version"] == 1  # nothing was saved: the next load moves it again
    with desk.hold(session_id) as held:
        assert held.moved_from == 1
        desk.save(held.session)
    with desk.hold(session_id) as held:
        assert held.moved_from is None
    assert "migrated_from" not in saved(door)["meta"]


def test_a_click_on_the_old_question_is_told_once_and_asked_again(moved):
    door, question = moved
    slack, question_ts = door.client, question.ts
    door.submit(USER, question, "departments", ["sales"])  # through the listener, as Slack sends it
    posted = slack.posted()
    assert ["updated" in c.text for c in posted] == [True, False]
    assert asked(posted[-1]) == "departments"  # org_size was kept, departments asked anew
    assert posted[-1].ts != question_ts
    assert "The interview was updated" in slack.updated(question_ts).blocks()  # retired
    assert saved(door)["flow_version"] == 2 and saved(door)["state"] == "departments"
    assert saved(door)["answers"]["org_size"]["value"] == "large"
    assert "migrated_from" not in saved(door)["meta"]
    mark = slack.mark()
    door.submit(USER, posted[-1], "departments", ["sales"])
    assert [asked(c) for c in slack.posted(mark)] == ["proposed_host"]  # told once
    assert saved(door)["state"] != "departments"


def test_the_sweep_saves_nothing_for_a_moved_session_it_has_nothing_to_do_for(moved):
    door, question = moved
    conductor, slack, question_ts = door.conductor, door.client, question.ts
    sweep = Reminders(Conductors.fixed(door.desk, conductor), timedelta(0), timedelta(days=30), every=60)
    sweep._sweep_one(door.desk.session_at(DM), datetime.now(UTC) - timedelta(days=1))  # not idle yet
    assert slack.calls == [] and saved(door)["flow_version"] == 1
    conductor.click(USER, DM, question_ts, None, "departments", ["sales"])
    assert any("updated" in c.text for c in slack.posted())  # still told


def test_a_reminder_retires_the_question_of_the_old_version(moved):
    door, question = moved
    conductor, slack, question_ts = door.conductor, door.client, question.ts
    sweep = Reminders(Conductors.fixed(door.desk, conductor), timedelta(hours=1), timedelta(days=30),
                      every=60)
    sweep._sweep_one(door.desk.session_at(DM), datetime.now(UTC) + timedelta(hours=2))
    assert slack.methods() == ["chat.postMessage", "chat.update"]
    assert slack.calls[-1].params["ts"] == question_ts  # no longer takes answers
    assert saved(door)["flow_version"] == 2
    mark = slack.mark()
    conductor.click(USER, DM, question_ts, None, "departments", ["sales"])
    assert [asked(c) for c in slack.posted(mark)] == ["departments"]  # asked anew, not answered
    assert saved(door)["state"] == "departments"
