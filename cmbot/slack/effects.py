"""What a use case decides, as values: the Slack door's use cases return a `Plan`, and one small
adapter (`courier`) carries it out — save, then talk to Slack, then note what was posted — so
what a step says is testable as data, and every failure of what a plan posts is handled in one
place. (To decide, a use case may read from Slack: who is in a channel, what a conversation
already shows. Those reads are made, and their failures handled, where they are needed.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..consultation import Consultation
from ..interview import Session
from ..panel_hub import Hub
from .state import SlackState
from .where import Where

Block = dict[str, Any]


@dataclass(frozen=True)
class Post:
    """A message in the interview's DM or thread. `asks` names the state a question message
    asks (its ts is then remembered: only that message's buttons are live); `root` posts the
    channel root message an interview's thread hangs from."""

    blocks: list[Block]
    text: str
    asks: str | None = None
    metadata: dict[str, Any] | None = None
    root: bool = False
    to: Where | None = None  # elsewhere: posted there, outside the interview (a panel's thread)


@dataclass(frozen=True)
class Update:
    """An earlier message rewritten (a question once answered, the channel root at the end)."""

    ts: str
    blocks: list[Block]
    text: str
    to: Where | None = None  # elsewhere: a message outside the interview (a panel's root)


@dataclass(frozen=True)
class Tell:
    """A message only `user` sees, in the interview's place (or `channel` when given)."""

    user: str
    text: str
    channel: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class Direct:
    """A message in the person's DM with the bot, outside any interview (a panel's news)."""

    user: str
    text: str


@dataclass(frozen=True)
class Begin:
    """An interview this step starts for someone else (a panel member's): its first step,
    carried once this step's own saves are done."""

    session: Session
    plan: Plan
    state: SlackState


Effect = Post | Update | Tell | Direct | Begin


@dataclass
class Plan:
    """One step: whether the session changed (saved before anything is posted), the
    consultation it produced (archived before its recommendation is posted), what to say,
    whether the session is over once said (forgotten), and whether the person left it unfinished
    (cancelled, or closed for idleness: forgotten before anything is said, so that no crash
    leaves a half-left interview behind; a panel hears of it once the step is carried out).
    `adopted`: what the session waits for was found on screen, posted by a process that died
    before noting it; the save notes it and the session is no longer pending. `panel`: the
    panel this step changed (a member answered or left, the result merged), saved with the
    step: the root message's progress and the result always show what was saved."""

    effects: list[Effect] = field(default_factory=list)
    save: bool = False
    adopted: bool = False
    consultation: Consultation | None = None
    forget: bool = False
    left: bool = False
    panel: Hub | None = None

    def then(self, *effects: Effect) -> Plan:
        self.effects.extend(effects)
        return self


def told(user: str, text: str, channel: str | None = None, thread_ts: str | None = None) -> Plan:
    """A plan that only tells someone something privately (a refusal, a stale click)."""
    return Plan([Tell(user, text, channel, thread_ts)])
