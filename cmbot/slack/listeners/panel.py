"""The panel's root-message buttons: the starter closes the panel early, or cancels it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from .. import panel
from ..conversation import Conductor


def register(app: App, conductor: Conductor) -> None:
    @app.action("cmbot_panel_close")
    def on_close(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        panel.close(conductor, body["user"]["id"], str(action.get("value") or ""),
                    (body.get("channel") or {}).get("id", ""), cancel=False)

    @app.action("cmbot_panel_cancel")
    def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        panel.close(conductor, body["user"]["id"], str(action.get("value") or ""),
                    (body.get("channel") or {}).get("id", ""), cancel=True)
