"""The Slack use cases (`Conductor`) called directly, in milliseconds: a real desk, Slack's Web
API recorded (`recording.RecordingClient`) and refusing calls on demand. What is checked is what
a person would see (which messages, in which order) and what is saved when it happens."""

from __future__ import annotations

from typing import Any

import pytest
from interview_steps import ARTICLE
from listener_driver import ListenerDriver, full_disk
from recording import RecordingClient, asked

from cmbot.i18n import t
from cmbot.slack.where import Start, Where
from cmbot.store import Store

USER, DM = "U1", "D1"


def saved_state(door, channel=DM, thread_ts=None):
    session_id = door.desk.session_at(channel, thread_ts)
    with door.desk.session(session_id) as session:
        return session.state if session else None


def test_a_start_is_saved_before_its_question_is_posted(make_door):
    door = make_door(engine="tinydb")
    assert door.conductor.start(USER, Where.dm(DM), Start())
    assert [asked(p) for p in door.client.posted()] == [None, "org_size"]  # the intro, then question 1
    assert door.client.saved_when_posted == ["org_size", "org_size"]


def test_an_answer_posts_the_next_question_before_tidying_the_old_one(make_door):
    door = make_door(engine="tinydb")
    conductor, slack = door.conductor, door.client
    conductor.start(USER, Where.dm(DM), Start())
    question = slack.question("org_size")
    mark = slack.mark()
    conductor.click(USER, DM, question.ts, None, "org_size", "medium")
    assert slack.methods(mark) == ["chat.postMessage", "chat.update"]
    assert asked(slack.posted(mark)[0]) == "departments"
    assert slack.since(mark, "chat.update")[0].params["ts"] == question.ts
    assert slack.saved_when_posted[-1] == "departments"  # saved before it was shown
    assert question.params["channel"] == DM


def test_a_click_on_an_old_question_is_told_privately_and_changes_nothing(door):
    conductor, slack = door.conductor, door.client
    conductor.start(USER, Where.dm(DM), Start())
    mark = slack.mark()
    conductor.click(USER, DM, "1.000001", None, "org_size", "medium")
    assert slack.methods(mark) == ["chat.postEphemeral"]
    assert "no longer current" in slack.told(mark)[-1].text
    assert saved_state(door) == "org_size"


def test_a_refused_question_stays_pending_and_is_posted_once_on_recovery(door):
    conductor, slack = door.conductor, door.client
    conductor.start(USER, Where.dm(DM), Start())
    question = slack.question("org_size")
    slack.refuse_next("chat.postMessage", "fatal_error")
    conductor.click(USER, DM, question.ts, None, "org_size", "medium")
    told = slack.told()
    assert told and "fatal_error" in told[-1].text
    assert "Your answers are saved" in told[-1].text
    session_id = door.desk.session_at(DM)
    assert door.desk.pending_sessions() == [session_id]
    assert slack.since(0, "chat.update") == []  # the answered question is not tidied either
    mark = slack.mark()
    assert conductor.recover(session_id) is True
    assert [asked(p) for p in slack.posted(mark)] == ["departments"]
    assert door.desk.pending_sessions() == []
    assert conductor.recover(session_id) is False  # posted once


def test_a_question_posted_before_a_crash_is_adopted_not_posted_again(door):
    """The post reached Slack, but the process died before noting it: recovery finds it in
    the conversation, and a click on it then counts."""
    conductor, slack = door.conductor, door.client
    conductor.start(USER, Where.dm(DM), Start())
    session_id = door.desk.session_at(DM)
    question = slack.question("org_size")
    with door.desk.session(session_id) as session:  # as saved before the post was noted
        session.meta["slack"]["asked"] = session.meta["slack"]["asked_ts"] = None
        door.desk.keep(session, pending=True)
    mark = slack.mark()
    assert conductor.recover(session_id) is False
    assert slack.posted(mark) == []
    assert door.desk.pending_sessions() == []  # noted as shown: no start-up looks at it again
    conductor.click(USER, DM, question.ts, None, "org_size", "small")
    assert asked(slack.posted(mark)[-1]) == "departments"


def test_a_storage_failure_shows_nothing_as_accepted(door, monkeypatch):
    conductor, slack = door.conductor, door.client
    conductor.start(USER, Where.dm(DM), Start())
    question = slack.question("org_size")
    monkeypatch.setattr(door.desk, "keep", full_disk)
    mark = slack.mark()
    conductor.click(USER, DM, question.ts, None, "org_size", "medium")
    assert slack.posted(mark) == [] and slack.since(mark, "chat.update") == []
    assert "could not save" in slack.told(mark)[-1].text
    monkeypatch.undo()
    assert saved_state(door) == "org_size"


def test_a_team_interview_refuses_people_outside_the_channel(door):
    conductor, slack = door.conductor, door.client
    slack.members["C1"] = [USER]
    conductor.start(USER, Where.in_channel("C1"), Start(team=True))
    question = slack.question("org_size")
    mark = slack.mark()
    conductor.click("U9", "C1", question.ts, question.params["thread_ts"], "org_size", "small")
    assert slack.methods(mark) == ["conversations.members", "chat.postEphemeral"]
    assert "<@U1>" in slack.told(mark)[-1].text


def test_a_refused_recommendation_keeps_the_consultation_and_is_posted_on_recovery(door):
    door.message(USER, DM, "start")
    for state, value in ARTICLE.items():
        door.answer(USER, door.client.question(state), state, value)
    confirm = door.client.question("confirm")
    session_id = door.desk.session_at(DM)
    door.client.refuse_next("chat.postMessage", "msg_too_long")
    mark = door.client.mark()
    door.click(USER, confirm, "confirm", "confirm")
    told = door.client.told(mark)[-1].text
    assert door.client.posted(mark)[0].params.get("metadata")  # tried once, refused
    assert f"consultation `{session_id}` is saved" in told and "msg_too_long" in told
    assert door.desk.consultation(session_id) is not None
    mark = door.client.mark()
    assert door.conductor.recover(session_id) is True
    result = door.client.posted(mark)
    assert len(result) == 1 and result[0].params["metadata"]["event_type"] == "cmbot_recommendation"
    assert door.desk.session_at(DM) is None
    assert door.conductor.recover(session_id) is False


def test_an_interview_left_idle_is_closed_where_it_ran(door):
    conductor = door.conductor
    conductor.start(USER, Where.in_channel("C1"), Start())
    root, question = door.client.posted()
    session_id = door.desk.session_at("C1", root.ts)
    mark = door.client.mark()
    conductor.step(session_id, "", lambda session, state: conductor.expire(session, state))
    assert "left idle too long, so I closed it" in door.client.posted(mark)[-1].text
    assert "Closed: left idle too long" in door.client.updated(question.ts).blocks()
    assert f"by <@{USER}> was closed" in door.client.updated(root.ts).text
    assert door.desk.session_at("C1", root.ts) is None


def test_a_reminder_offers_resume_and_cancel_and_both_work(door):
    conductor = door.conductor
    door.message(USER, DM, "start")
    session_id = door.desk.session_at(DM)
    mark = door.client.mark()
    conductor.step(session_id, "", lambda session, state: conductor.remind(session, state))
    reminder = door.client.posted(mark)[-1]
    assert f"<@{USER}>, your interview" in reminder.text
    ids = [e["action_id"] for b in reminder.params["blocks"] if b.get("block_id") == "cmbot_reminder"
           for e in b["elements"]]
    assert ids == ["cmbot_resume", "cmbot_cancel"]
    mark = door.client.mark()
    door.action(USER, "cmbot_resume", DM, reminder.ts, value=session_id, block_id="cmbot_reminder")
    assert [asked(c) for c in door.client.posted(mark)] == ["org_size"]
    mark = door.client.mark()
    door.action(USER, "cmbot_cancel", DM, reminder.ts, value=session_id, block_id="cmbot_reminder")
    assert "Interview cancelled" in door.client.posted(mark)[-1].text
    assert door.desk.session_at(DM) is None


def test_cancel_still_works_on_a_question_whose_next_one_was_never_shown(door):
    door.message(USER, DM, "start")
    question = door.client.question("org_size")
    door.client.refuse_next("chat.postMessage", "fatal_error")
    door.click(USER, question, "org_size", "small")  # saved, departments never shown
    mark = door.client.mark()
    door.nav(USER, question, "cmbot_cancel")
    assert "Interview cancelled" in door.client.posted(mark)[-1].text
    assert door.desk.session_at(DM) is None and door.desk.pending_sessions() == []


def test_start_in_a_dm_whose_result_was_never_shown_shows_it_then_the_next_start_begins(door):
    door.message(USER, DM, "start")
    for state, value in ARTICLE.items():
        door.answer(USER, door.client.question(state), state, value)
    door.client.refuse_next("chat.postMessage", "fatal_error")
    door.click(USER, door.client.question("confirm"), "confirm", "confirm")
    mark = door.client.mark()
    door.message(USER, DM, "start")
    posted = door.client.posted(mark)
    assert len(posted) == 1 and posted[0].params["metadata"]["event_type"] == "cmbot_recommendation"
    assert door.desk.session_at(DM) is None
    mark = door.client.mark()
    door.message(USER, DM, "start")
    assert [asked(c) for c in door.client.posted(mark)] == [None, "org_size"]


# --- what a step writes, and when -------------------------------------------------------------


class CountedWrites:
    """The real engine, with every write it is asked for noted in order, beside how many
    messages Slack had been sent by then (`client`): what was saved before what was posted."""

    WRITES = ("save_session", "delete_session", "touch_session", "add_consultation",
              "delete_consultation", "set_pref", "insert_new", "import_new", "delete_workspace")

    def __init__(self, engine: Any):
        self.engine = engine
        self.client: RecordingClient | None = None
        self.writes: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.engine, name)
        if name not in self.WRITES:
            return found

        def write(*args: Any, **kwargs: Any) -> Any:
            posts = len(self.client.posted()) if self.client else 0
            if name == "save_session":
                record, pending = args[0], kwargs.get("pending", args[1] if len(args) > 1 else None)
                slack = record.get("meta", {}).get("slack", {})
                self.writes.append(("save", record["state"], pending, slack.get("asked_ts"), posts))
            else:
                self.writes.append((name, posts))
            return found(*args, **kwargs)
        return write


@pytest.fixture
def counted(tmp_path, shipped_desk):
    store = CountedWrites(Store(tmp_path / "cmbot.json"))
    driver = ListenerDriver(shipped_desk.over(store), RecordingClient(store))  # type: ignore[arg-type]
    store.client = driver.client
    yield driver, store
    store.engine.close()


def test_an_answer_is_saved_pending_once_before_its_question_and_noted_once_after(counted):
    door, store = counted
    door.message(USER, DM, "start")
    question = door.client.question("org_size")
    session_id = door.desk.session_at(DM)
    posts = len(door.client.posted())
    store.writes.clear()
    door.click(USER, question, "org_size", "medium")
    shown = door.client.question("departments")
    # Saved with the answered question retired (no message live), then the post, then its note.
    assert store.writes == [("save", "departments", True, None, posts),
                            ("save", "departments", False, shown.ts, posts + 1)]
    assert door.client.saved_when_posted[-1] == "departments"
    assert door.desk.pending_sessions() == [] and door.desk.session_at(DM) == session_id


def test_a_start_is_one_save_before_its_messages_and_one_after(counted):
    door, store = counted
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    assert [asked(p) for p in door.client.posted()] == [None, "org_size"]
    assert store.writes == [("save", "org_size", True, None, 0),  # the intro and question 1
                            ("save", "org_size", False, first.ts, 2)]


def test_a_channel_start_also_saves_its_thread_as_soon_as_it_exists(counted):
    """The root message's ts is saved the moment it is known (still pending), so a reply in
    the new thread finds the interview; then the question, then its note."""
    door, store = counted
    door.conductor.start(USER, Where.in_channel("C1"), Start())
    root, question = door.client.posted()
    assert asked(question) == "org_size" and question.params["thread_ts"] == root.ts
    assert store.writes == [("save", "org_size", True, None, 0),
                            ("save", "org_size", None, None, 1),
                            ("save", "org_size", False, question.ts, 2)]
    assert door.desk.session_at("C1", root.ts) is not None


def test_a_refused_question_is_saved_once_and_stays_pending(counted):
    door, store = counted
    door.message(USER, DM, "start")
    question = door.client.question("org_size")
    posts = len(door.client.posted())
    store.writes.clear()
    door.client.refuse_next("chat.postMessage", "fatal_error")
    door.click(USER, question, "org_size", "medium")
    assert store.writes == [("save", "departments", True, None, posts)]
    assert door.desk.pending_sessions() == [door.desk.session_at(DM)]


def test_a_cancel_is_one_delete_before_its_message(counted):
    """Left before it is said: no crash between a save and a delete can leave a cancelled
    interview behind."""
    door, store = counted
    door.message(USER, DM, "start")
    question = door.client.question("org_size")
    posts = len(door.client.posted())
    store.writes.clear()
    door.nav(USER, question, "cmbot_cancel")
    assert store.writes == [("delete_session", posts)]
    assert door.client.posted()[-1].params["text"] == t("slack.cancelled", "en")
    assert door.desk.session_at(DM) is None


def test_a_cancelled_session_left_by_an_older_cmbot_is_over_and_a_new_start_begins(counted):
    door, store = counted
    door.message(USER, DM, "start")
    first = door.client.question("org_size")
    session_id = door.desk.session_at(DM)
    record = store.engine.get_session(session_id)
    store.engine.save_session({**record, "state": "cancelled"})  # saved, then the process died
    mark = door.client.mark()
    door.message(USER, DM, "start")
    assert door.client.question("org_size", mark).ts != first.ts  # a new interview begins
    assert door.desk.session_at(DM) != session_id
    assert store.engine.get_session(session_id) is None
