"""A stand-in for Slack's `WebClient` in the process: it records every Web API call the bot
makes, answers as Slack does (a fresh message ts, a DM per person, channel members, locales,
the messages posted so far for recovery to read), and refuses the next call of a method with
the error a test names. What a person would see is read back from its calls.

It also notes, for every message posted, the state the interview's saved session was in at
that moment (`saved_when_posted`): the courier's promise is "saved before shown". `watchers`
see every call as it arrives, for tests that check what else was saved by then.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from cmbot.store.protocol import Storage


def refusal(method: str, error: str) -> SlackApiError:
    """What `WebClient` raises when Slack answers `{"ok": false, "error": error}`."""
    response = SlackResponse(client=None, http_verb="POST", api_url=method, req_args={},
                             data={"ok": False, "error": error}, headers={}, status_code=200)
    return SlackApiError(error, response)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def ts(self) -> str:
        return str(self.response.get("ts") or "")

    def blocks(self) -> str:
        """Every word of the message's blocks, for "is this said" checks."""
        return str(self.params.get("blocks") or "")


METHODS = {
    "chat_postMessage": "chat.postMessage", "chat_update": "chat.update",
    "chat_postEphemeral": "chat.postEphemeral", "users_info": "users.info",
    "conversations_open": "conversations.open", "conversations_members": "conversations.members",
    "conversations_history": "conversations.history",
    "conversations_replies": "conversations.replies", "views_publish": "views.publish",
    "views_open": "views.open", "files_upload_v2": "files.upload",
}


class RecordingClient:
    """Records calls in `calls`; `refuse_next(method, error)` fails that method's next call.
    `locales` (user → Slack locale), `members` (channel → member ids), `dms` (user → the id
    of their DM with the bot, default "D" + user) and `unreachable` (deactivated users) are what
    Slack would know."""

    def __init__(self, store: Storage | None = None):
        self.store = store
        self.calls: list[Call] = []
        self.refused: dict[str, list[str]] = {}
        self.saved_when_posted: list[str | None] = []
        self.locales: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.dms: dict[str, str] = {}
        self.unreachable: set[str] = set()  # deactivated: no DM can be opened with them
        self.messages: list[dict[str, Any]] = []  # posted, oldest first (what history reads)
        self.watchers: list[Callable[[Call], None]] = []  # each call, as Slack receives it
        self._ts = itertools.count(1)

    def refuse_next(self, method: str, error: str) -> None:
        self.refused.setdefault(method, []).append(error)

    def __getattr__(self, name: str) -> Any:
        if name not in METHODS:
            raise AttributeError(name)
        return lambda **params: self._call(METHODS[name], params)

    # --- answering ----------------------------------------------------------------------------

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        call = Call(method, params)
        self.calls.append(call)
        if method == "chat.postMessage":
            self.saved_when_posted.append(self._saved_state(params))
        for watch in self.watchers:
            watch(call)
        if self.refused.get(method):
            raise refusal(method, self.refused[method].pop(0))
        call.response = {"ok": True, **getattr(self, "_" + method.replace(".", "_"),
                                               lambda p: {})(params)}
        return call.response

    def _next_ts(self) -> str:
        return f"1800000000.{next(self._ts):06d}"

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        self.messages.append({"channel": params["channel"], "ts": ts,
                              "thread_ts": params.get("thread_ts"),
                              "blocks": params.get("blocks") or [], "text": params.get("text")})
        return {"ts": ts, "channel": params["channel"]}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message["channel"] == params["channel"] and message["ts"] == params["ts"]:
                message["blocks"] = params.get("blocks") or []
        return {"ts": params["ts"], "channel": params["channel"]}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params["user"]
        return {"user": {"id": user, "locale": self.locales.get(user, "en-US")}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params["users"]
        if user in self.unreachable:
            raise refusal("conversations.open", "user_disabled")
        return {"channel": {"id": self.dms.get(user, "D" + user)}}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"members": self.members.get(params["channel"], []),
                "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [m for m in self.messages if m["channel"] == params["channel"]
                 and m["thread_ts"] in (None, m["ts"])]
        return {"messages": found[::-1][:params.get("limit", 100)]}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        root = params["ts"]
        found = [m for m in self.messages if m["channel"] == params["channel"]
                 and (m["ts"] == root or m["thread_ts"] == root)]
        return {"messages": found[:params.get("limit", 100)]}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {**params["view"], "id": f"V{next(self._ts)}"}}

    def _saved_state(self, params: dict[str, Any]) -> str | None:
        if self.store is None:
            return None
        session_id = self.store.session_at(params["channel"], params.get("thread_ts"))
        saved = self.store.get_session(session_id) if session_id else None
        return saved["state"] if saved else None

    # --- reading ------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in `calls`: what came after it is what one step did."""
        return len(self.calls)

    def since(self, mark: int = 0, method: str | None = None) -> list[Call]:
        return [c for c in self.calls[mark:] if method is None or c.method == method]

    def methods(self, mark: int = 0) -> list[str]:
        """The Web API methods called since `mark`, looking people's language up aside."""
        return [c.method for c in self.calls[mark:] if c.method != "users.info"]

    def posted(self, mark: int = 0) -> list[Call]:
        return self.since(mark, "chat.postMessage")

    def told(self, mark: int = 0) -> list[Call]:
        """Messages only one person saw (ephemeral, or in their DM when that failed)."""
        return self.since(mark, "chat.postEphemeral")

    def question(self, state: str, mark: int = 0, channel: str | None = None) -> Call:
        """The latest message since `mark` that asks `state` (its answer block has that id),
        in `channel` when given."""
        for call in reversed(self.posted(mark)):
            if asked(call) == state and channel in (None, call.params["channel"]):
                return call
        raise AssertionError(f"no question {state!r} posted; posted: {[asked(c) for c in self.posted(mark)]}")

    def updated(self, ts: str, mark: int = 0) -> Call:
        for call in reversed(self.since(mark, "chat.update")):
            if call.params["ts"] == ts:
                return call
        raise AssertionError(f"message {ts} was not updated")


def asked(call: Call) -> str | None:
    """The state a posted message asks (the `block_id` of its answer block), if any."""
    return next((b["block_id"] for b in call.params.get("blocks") or []
                 if b.get("block_id") and not b["block_id"].startswith("cmbot_")), None)

