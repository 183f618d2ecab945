"""Where an interview runs (and where its consultation ran), as one typed value.

The terminal, a DM with the bot, or a thread in a channel (no thread yet while its root message
is not posted); a panel consultation also names its members. The core carries it without acting
on it; the front doors, the access rules and the rendering read it. In storage it is the small
JSON object `to_dict` gives (`{"kind": "dm", "channel": "D1"}`), which `from_dict` reads back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL, DM, CHANNEL = "terminal", "dm", "channel"
_KNOWN = ("kind", "channel", "thread_ts", "panel")


@dataclass(frozen=True)
class Where:
    kind: str | None = None  # terminal | dm | channel (None: a record that never said)
    channel: str | None = None
    thread_ts: str | None = None
    panel: tuple[str, ...] = ()  # a panel consultation's members
    # Keys cmbot does not know (a record written by another program), kept as they came.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def terminal(cls) -> Where:
        return cls(TERMINAL)

    @classmethod
    def dm(cls, channel: str) -> Where:
        return cls(DM, channel)

    @classmethod
    def in_channel(cls, channel: str, thread_ts: str | None = None) -> Where:
        return cls(CHANNEL, channel, thread_ts)

    @property
    def is_dm(self) -> bool:
        return self.kind == DM

    @property
    def in_slack(self) -> bool:
        return self.kind in (DM, CHANNEL)

    def in_thread(self, thread_ts: str) -> Where:
        return dataclasses.replace(self, thread_ts=thread_ts)

    def with_panel(self, members: tuple[str, ...] | list[str]) -> Where:
        return dataclasses.replace(self, panel=tuple(members))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.kind is not None:
            data["kind"] = self.kind
        if self.channel is not None:
            data["channel"] = self.channel
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.panel:
            data["panel"] = list(self.panel)
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Where:
        data = data or {}
        channel, thread_ts = data.get("channel"), data.get("thread_ts")
        return cls(data.get("kind"), None if channel is None else str(channel),
                   str(thread_ts) if thread_ts else None, tuple(data.get("panel") or ()),
                   {k: v for k, v in data.items() if k not in _KNOWN})
