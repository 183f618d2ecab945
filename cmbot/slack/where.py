"""The few facts about Slack places every listener needs, written once: is a channel a DM, what a
start asks for. Where an interview runs is the core's `Where` (a DM, or a thread in a channel),
and the flow a start without a flow id runs is the core's `DEFAULT_FLOW`: both re-exported here
for the listeners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..interview import DEFAULT_FLOW, Where

__all__ = ["DEFAULT_FLOW", "Start", "Where", "is_dm", "parse_start", "place"]
MENTION = re.compile(r"<@[A-Z0-9]+>")
START = re.compile(r"^\s*start\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


def is_dm(channel: str, channel_type: str | None = None) -> bool:
    """A direct message: Slack says so (`im`), or its id starts with D."""
    return channel_type == "im" or channel.startswith("D")


def place(channel: str) -> Where:
    """A DM with the bot, or a channel (no thread yet), as the channel's id says."""
    return Where.dm(channel) if is_dm(channel) else Where.in_channel(channel)


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
