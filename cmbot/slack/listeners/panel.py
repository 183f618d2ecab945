"""The panel's root-message buttons: the starter closes the panel early, or cancels it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from .. import panel
from ..context import conductor_of, later


def _close(body: dict[str, Any], action: dict[str, Any], context: BoltContext, cancel: bool) -> None:
    user, hub_id = body["user"]["id"], str(action.get("value") or "")
    channel = (body.get("channel") or {}).get("id", "")
    later(context, f"panel:{hub_id}", lambda: panel.close(conductor_of(context), user, hub_id,
                                                          channel, cancel=cancel))


def on_close(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    _close(body, action, context, cancel=False)


def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    _close(body, action, context, cancel=True)


def register(app: App) -> None:
    app.action("cmbot_panel_close")(on_close)
    app.action("cmbot_panel_cancel")(on_cancel)
