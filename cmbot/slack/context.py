"""How listeners reach the conductor and hand their work over, through Bolt's context.

A middleware puts the `Conductor` and the `Lanes` in each request's context; listeners
acknowledge Slack and pass their work to `later`, keyed by the interview's place, so the HTTP
answer never waits for the Web API and one interview's steps run in the order they came.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext

from .conversation import Conductor
from .lanes import Lanes
from .where import is_dm

CONDUCTOR, LANES, EVENT, HANDED = "cmbot_conductor", "cmbot_lanes", "cmbot_event", "cmbot_handed"


def conductor_of(context: BoltContext) -> Conductor:
    return context[CONDUCTOR]


def place_key(channel: str, thread_ts: str | None = None) -> str:
    """The lane of an interview: its DM, or its channel thread (a channel's top level for
    starts)."""
    return channel if is_dm(channel) else f"{channel}:{thread_ts or ''}"


def later(context: BoltContext, key: str, job: Callable[[], Any]) -> None:
    """Run `job` after the acknowledgement, in `key`'s lane. The event it answers is marked
    handled once the job succeeded, and released for Slack's retry if it failed."""
    lanes: Lanes = context[LANES]
    event_id = context.get(EVENT)
    desk = conductor_of(context).desk
    context[HANDED] = True

    def run() -> None:
        try:
            job()
        except BaseException:
            if event_id:
                desk.release(event_id)
            raise
        if event_id:
            desk.done(event_id)
    lanes.submit(key, run)
