"""An interview started and saved in one call, as a front door's first step leaves it: what a
storage, transfer or replica test needs before it answers, moves or counts sessions."""

from __future__ import annotations

from typing import Any

from cmbot.interview import DEFAULT_FLOW, Session
from cmbot.service import Desk


def begun(desk: Desk, flow_id: str = DEFAULT_FLOW, **fields: Any) -> Session:
    session = desk.start(flow_id, **fields)
    desk.keep(session)
    return session
