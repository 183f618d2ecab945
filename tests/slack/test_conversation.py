"""The Slack use cases in-process, in milliseconds: a real desk on real TinyDB files, and a
stand-in for Slack's `WebClient` that records calls and can refuse them. What is checked is
what a person would see (which messages, in which order) and what is on disk when it happens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from cmbot.service import Desk
from cmbot.slack.conversation import Conductor
from cmbot.slack.where import Start, Where
from cmbot.store import Store

USER, DM = "U1", "D1"


def refusal(method: str, error: str) -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url=method, req_args={},
                             data={"ok": False, "error": error}, headers={}, status_code=200)
    return SlackApiError(error, response)


class Slack:
    """Records every call; `refuse[method]` makes the next call fail with that error."""

    def __init__(self, store: Store):
        self.store = store
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse: dict[str, str] = {}
        self.saved_when_posted: list[str | None] = []
        self.n = 0

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls.append((method, params))
        if method in self.refuse:
            raise refusal(method, self.refuse.pop(method))
        self.n += 1
        return {"ok": True, "ts": f"1800000000.{self.n:06d}", "channel": {"id": DM},
                "user": {"locale": "en-US"}, "members": [USER], "messages": []}

    def chat_postMessage(self, **params: Any) -> dict[str, Any]:
        session_id = self.store.session_at(params["channel"], params.get("thread_ts"))
        saved = self.store.get_session(session_id) if session_id else None
        self.saved_when_posted.append(saved["state"] if saved else None)
        return self._call("chat.postMessage", **params)

    def __getattr__(self, name: str) -> Any:
        method = {"chat_update": "chat.update", "chat_postEphemeral": "chat.postEphemeral",
                  "users_info": "users.info", "conversations_open": "conversations.open",
                  "conversations_members": "conversations.members",
                  "conversations_history": "conversations.history",
                  "conversations_replies": "conversations.replies"}[name]
        return lambda **params: self._call(method, **params)

    def posted(self) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == "chat.postMessage"]

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls if m != "users.info"]


@pytest.fixture
def door(tmp_path: Path):
    store = Store(tmp_path / "cmbot.json")
    slack = Slack(store)
    conductor = Conductor(Desk(store), slack, "en")  # type: ignore[arg-type]
    yield conductor, slack, store
    store.close()


def asked(post: dict[str, Any]) -> str | None:
    return next((b["block_id"] for b in post.get("blocks") or []
                 if b.get("block_id") and not b["block_id"].startswith("cmbot_")), None)


def test_a_start_is_saved_before_its_question_is_posted(door):
    conductor, slack, _store = door
    assert conductor.start(USER, Where.dm(DM), Start())
    assert [asked(p) for p in slack.posted()] == [None, "org_size"]  # the intro, then question 1
    assert slack.saved_when_posted == ["org_size", "org_size"]


def test_an_answer_posts_the_next_question_before_tidying_the_old_one(door):
    conductor, slack, _store = door
    conductor.start(USER, Where.dm(DM), Start())
    question = slack.posted()[-1]
    ts = f"1800000000.{slack.n:06d}"
    del slack.calls[:]
    conductor.click(USER, DM, ts, None, "org_size", "medium")
    assert slack.methods() == ["chat.postMessage", "chat.update"]
    assert asked(slack.posted()[0]) == "departments" and slack.calls[1][1]["ts"] == ts
    assert slack.saved_when_posted[-1] == "departments"  # saved before it was shown
    assert question["channel"] == DM


def test_a_click_on_an_old_question_is_told_privately_and_changes_nothing(door):
    conductor, slack, store = door
    conductor.start(USER, Where.dm(DM), Start())
    del slack.calls[:]
    conductor.click(USER, DM, "1.000001", None, "org_size", "medium")
    assert slack.methods() == ["chat.postEphemeral"]
    assert "no longer current" in slack.calls[-1][1]["text"]
    assert store.get_session(store.session_at(DM))["state"] == "org_size"


def test_a_refused_question_stays_pending_and_is_posted_once_on_recovery(door):
    conductor, slack, store = door
    conductor.start(USER, Where.dm(DM), Start())
    ts = f"1800000000.{slack.n:06d}"
    slack.refuse["chat.postMessage"] = "fatal_error"
    conductor.click(USER, DM, ts, None, "org_size", "medium")
    told = [p for m, p in slack.calls if m == "chat.postEphemeral"]
    assert told and "fatal_error" in told[-1]["text"]
    session_id = store.session_at(DM)
    assert store.pending_sessions() == [session_id]
    del slack.calls[:]
    assert conductor.recover(session_id) is True
    assert [asked(p) for p in slack.posted()] == ["departments"]
    assert store.pending_sessions() == []
    assert conductor.recover(session_id) is False  # posted once


def test_a_team_interview_refuses_people_outside_the_channel(door):
    conductor, slack, _store = door
    conductor.start(USER, Where.in_channel("C1"), Start(team=True))
    root, question = slack.posted()[-2:]
    thread = root.get("thread_ts") or question["thread_ts"]
    del slack.calls[:]
    conductor.click("U9", "C1", f"1800000000.{slack.n:06d}", thread, "org_size", "small")
    assert slack.methods() == ["conversations.members", "chat.postEphemeral"]
    assert "<@U1>" in slack.calls[-1][1]["text"]
