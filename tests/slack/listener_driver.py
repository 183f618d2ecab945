"""`ListenerDriver` plays Slack's side in the process: it calls cmbot's listener functions the
way Bolt does, with no HTTP, no signing and no threads, so one step takes a millisecond.

What is real: the listeners, wired by their own `register(app)` functions (read here from a
stand-in app that only records the routes), the middleware that hands each request its
conductor and handles each Slack event once (`app.provider`), the conductor the app builds
(`app.make_conductor`), and a real `Desk` on the storage engine the test picks. What stands in
for Slack: the Web API (`recording.RecordingClient`), `ack` and `respond` (recorded), and the
lanes, which run each job at once, in the caller's thread (an exception fails the test).

Payloads follow the shapes Slack sends (and `slack_requests.BotDriver` signs over HTTP), cut
to the fields cmbot reads.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from recording import Call, RecordingClient
from slack_bolt import BoltContext

from cmbot.service import Desk
from cmbot.slack.app import make_conductor, provider
from cmbot.slack.listeners import register_listeners
from cmbot.slack.workspaces import Conductors

Listener = Callable[..., Any]
_numbers = itertools.count(1)


class InlineLanes:
    """The lanes' interface, doing each job at once: a step is over when the call returns."""

    def submit(self, key: str, job: Callable[[], None]) -> None:
        job()


class Routes:
    """What `register(app)` asks a Bolt app for, kept as (kind, matcher, listener) in order."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, Any, Listener]] = []

    def _route(self, kind: str, matcher: Any) -> Callable[[Listener], Listener]:
        def add(listener: Listener) -> Listener:
            self.routes.append((kind, matcher, listener))
            return listener
        return add

    def action(self, matcher: Any) -> Callable[[Listener], Listener]:
        return self._route("action", matcher)

    def event(self, matcher: Any) -> Callable[[Listener], Listener]:
        return self._route("event", matcher)

    def command(self, matcher: Any) -> Callable[[Listener], Listener]:
        return self._route("command", matcher)

    def shortcut(self, matcher: Any) -> Callable[[Listener], Listener]:
        return self._route("shortcut", matcher)

    def view(self, matcher: Any) -> Callable[[Listener], Listener]:
        return self._route("view", matcher)

    def find(self, kind: str, name: str) -> Listener:
        """The first listener registered for `name`, as Bolt picks one."""
        for route_kind, matcher, listener in self.routes:
            if route_kind == kind and (matcher.fullmatch(name) if isinstance(matcher, re.Pattern)
                                       else matcher == name):
                return listener
        raise LookupError(f"no {kind} listener for {name!r}")


class Recorder:
    """A callable that keeps the keyword arguments of every call (`ack`, `respond`)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]

    def texts(self) -> str:
        """Everything said through it, text and blocks, as one string to search."""
        return "\n".join(f"{c.get('text', '')} {c.get('blocks', '')}" for c in self.calls)


def full_disk(*args: Any, **kwargs: Any) -> NoReturn:
    """A storage write refused as a full disk refuses it: put in place of the write a test
    makes fail (`monkeypatch.setattr`)."""
    raise OSError(28, "No space left on device")


def ts() -> str:
    return f"1700000000.{next(_numbers):06d}"


class ListenerDriver:
    def __init__(self, desk: Desk, client: RecordingClient, lang: str = "en"):
        self.desk, self.client = desk, client
        lanes = InlineLanes()
        self.conductor = make_conductor(desk, client, lang, lanes)  # type: ignore[arg-type]
        self._provide = provider(Conductors.fixed(desk, self.conductor), lanes,  # type: ignore[arg-type]
                                 many=False)
        self.routes = Routes()
        register_listeners(self.routes)  # type: ignore[arg-type]
        self.ack = Recorder()
        self.db_path: Path | None = None  # the TinyDB file, when the desk has one

    # --- delivering ---------------------------------------------------------------------------

    def _deliver(self, listener: Listener, body: dict[str, Any], **payload: Any) -> Recorder:
        """Through the middleware, then the listener with the arguments it names (as Bolt
        injects them); returns what was said through `respond`."""
        respond = Recorder()
        context = BoltContext({"bot_token": "xoxb-test"})
        offered = {"ack": self.ack, "body": body, "client": self.client, "respond": respond,
                   "context": context, **payload}

        def call() -> None:
            listener(**{name: offered[name] for name in inspect.signature(listener).parameters})
        self._provide(context=context, body=body, next=call)
        return respond

    def event(self, event: dict[str, Any], event_id: str | None = None) -> str:
        """An Events API delivery; the same `event_id` again is Slack re-sending it."""
        event_id = event_id or f"Ev{next(_numbers):08d}"
        body = {"type": "event_callback", "event_id": event_id, "event": event}
        self._deliver(self.routes.find("event", event["type"]), body, event=event)
        return event_id

    def message(self, user: str, channel: str, text: str, thread_ts: str | None = None,
                at: str | None = None, event_id: str | None = None, **fields: Any) -> str:
        """A person's message (`fields`: subtype, channel_type, files, …); returns its event id."""
        kind = fields.pop("channel_type", "im" if channel.startswith("D") else "channel")
        event = {"type": "message", "user": user, "channel": channel, "text": text,
                 "ts": at or ts(), "channel_type": kind, **fields}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, event_id)

    def mention(self, user: str, channel: str, text: str, at: str | None = None,
                thread_ts: str | None = None, event_id: str | None = None) -> str:
        event = {"type": "app_mention", "user": user, "channel": channel, "text": text,
                 "ts": at or ts()}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, event_id)

    def home_opened(self, user: str) -> None:
        self.event({"type": "app_home_opened", "user": user, "tab": "home"})

    def command(self, text: str, user: str = "U1", channel: str = "D1", **fields: Any) -> Recorder:
        """`/cmbot text`; returns what it answered privately (through `respond`)."""
        command = {"command": "/cmbot", "text": text, "user_id": user, "channel_id": channel,
                   "trigger_id": f"{next(_numbers)}.trigger", **fields}
        return self._deliver(self.routes.find("command", "/cmbot"), command, command=command)

    def action(self, user: str, action_id: str, channel: str | None = None,
               message_ts: str | None = None, thread_ts: str | None = None,
               value: str | None = None, block_id: str | None = None, select: bool = False,
               selected_options: list[str] | None = None,
               state_values: dict[str, Any] | None = None,
               action_ts: str | None = None) -> Recorder:
        """A click (`select`: a menu's choice; `selected_options`: checkbox ticks; the same
        `action_ts` again: Slack sending the same click twice)."""
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id,
                                  "action_ts": action_ts or ts()}
        if selected_options is not None:
            action["selected_options"] = [{"value": v} for v in selected_options]
        elif select:
            action["selected_option"] = {"value": value}
        else:
            action["value"] = value
        body: dict[str, Any] = {"type": "block_actions", "user": {"id": user},
                                "trigger_id": f"{next(_numbers)}.trigger", "actions": [action],
                                "state": {"values": state_values or {}}}
        if channel:
            body["channel"] = {"id": channel}
            body["container"] = {"type": "message", "channel_id": channel,
                                 "message_ts": message_ts, "thread_ts": thread_ts}
            body["message"] = {"ts": message_ts, "thread_ts": thread_ts}
        else:
            body["container"] = {"type": "view"}
        return self._deliver(self.routes.find("action", action_id), body, action=action)

    def shortcut(self, callback_id: str, user: str = "U1") -> None:
        shortcut = {"type": "shortcut", "callback_id": callback_id, "user": {"id": user},
                    "trigger_id": f"{next(_numbers)}.trigger"}
        self._deliver(self.routes.find("shortcut", callback_id), shortcut, shortcut=shortcut)

    def view_submission(self, user: str, callback_id: str, values: dict[str, Any],
                        private_metadata: str = "") -> dict[str, Any]:
        """A modal submitted; returns what the listener acknowledged it with."""
        view = {"id": f"V{next(_numbers)}", "callback_id": callback_id,
                "private_metadata": private_metadata, "state": {"values": values}}
        body = {"type": "view_submission", "user": {"id": user}, "view": view}
        self._deliver(self.routes.find("view", callback_id), body, view=view)
        return self.ack.last

    # --- a person's steps on a question message -----------------------------------------------

    def click(self, user: str, question: Call, state: str, value: str) -> Recorder:
        """Option `value` of question `state`: its button, or its menu when it has one."""
        block = answer_block(question, state)
        element = next(e for e in block["elements"]
                       if e["type"] == "static_select" or e.get("value") == value)
        return self.action(user, element["action_id"], question.params["channel"], question.ts,
                           question.params.get("thread_ts"), value, state,
                           select=element["type"] == "static_select")

    def submit(self, user: str, question: Call, state: str, values: list[str]) -> Recorder:
        """Tick `values` of a multi question and press its submit button."""
        ticks = {state: {"cmbot_multi": {"type": "checkboxes",
                                         "selected_options": [{"value": v} for v in values]}}}
        return self.action(user, "cmbot_submit", question.params["channel"], question.ts,
                           question.params.get("thread_ts"), nav_value(question, "cmbot_submit"),
                           "cmbot_nav", state_values=ticks)

    def nav(self, user: str, question: Call, action_id: str) -> Recorder:
        """Back, restart or cancel under a question."""
        return self.action(user, action_id, question.params["channel"], question.ts,
                           question.params.get("thread_ts"), nav_value(question, action_id),
                           "cmbot_nav")

    def reply(self, user: str, question: Call, text: str, **fields: Any) -> str:
        """A typed answer to `question`, in its DM or thread."""
        return self.message(user, question.params["channel"], text,
                            question.params.get("thread_ts"), **fields)

    def answer(self, user: str, question: Call, state: str, value: Any) -> None:
        """Answer `question` as a person would: ticks and submit, a reply, or a click."""
        if isinstance(value, list):
            self.submit(user, question, state, value)
        elif answer_block(question, state).get("type") == "context":
            self.reply(user, question, value)
        else:
            self.click(user, question, state, value)

    def run(self, answers: dict[str, Any], user: str = "U1", mark: int = 0,
            channel: str | None = None) -> Call:
        """Answer each question as it is asked (in `channel` when given), then confirm; returns
        the first post carrying metadata after the confirm (the recommendation)."""
        for state, value in [*answers.items(), ("confirm", "confirm")]:
            question = self.client.question(state, mark, channel)
            mark = self.client.mark()
            self.answer(user, question, state, value)
        return next(c for c in self.client.posted(mark) if c.params.get("metadata"))


def answer_block(call: Call, state: str) -> dict[str, Any]:
    found = next((b for b in call.params.get("blocks") or [] if b.get("block_id") == state), None)
    assert found is not None, f"no block {state!r} in {call.params.get('blocks')}"
    return found


def nav_value(call: Call, action_id: str) -> str:
    nav = next(b for b in call.params["blocks"] if b.get("block_id") == "cmbot_nav")
    return next(e["value"] for e in nav["elements"] if e["action_id"] == action_id)
