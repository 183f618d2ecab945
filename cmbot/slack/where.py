"""Where an interview runs, and the few facts about Slack places every listener needs, written once.

A session's `where` is plain data in storage (the core does not know Slack); `Where` is the typed
view the Slack door reads and writes it through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_FLOW = "community_manager"
MENTION = re.compile(r"<@[A-Z0-9]+>")
START = re.compile(r"^\s*start\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Where:
    """A DM with the bot, or a thread under a root message in a channel (no thread yet while
    the root message is not posted)."""

    channel: str
    is_dm: bool
    thread_ts: str | None = None

    @classmethod
    def of(cls, where: dict[str, Any]) -> Where:
        return cls(str(where.get("channel", "")), where.get("kind") == "dm", where.get("thread_ts"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": "dm" if self.is_dm else "channel", "channel": self.channel}
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        return data

    def in_thread(self, thread_ts: str) -> Where:
        return Where(self.channel, self.is_dm, thread_ts)


def is_dm(channel: str, channel_type: str | None = None) -> bool:
    """A direct message: Slack says so (`im`), or its id starts with D."""
    return channel_type == "im" or channel.startswith("D")


@dataclass(frozen=True)
class Start:
    """What `start`, `start team` or `start objectives_review` asks for."""

    team: bool = False
    flow_id: str = DEFAULT_FLOW


def parse_start(text: str) -> Start | None:
    """The start request in a command, a mention or a DM (mentions removed); None if the text
    is not a start."""
    match = START.match(MENTION.sub("", text or ""))
    if not match:
        return None
    words = match.group("rest").split()
    flows = [w for w in words if w.lower() != "team"]
    return Start(team=len(flows) < len(words), flow_id=flows[0] if flows else DEFAULT_FLOW)
