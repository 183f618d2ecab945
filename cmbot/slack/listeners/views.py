"""The global shortcut: a modal asking where to run the interview (a DM, or a channel)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ...i18n import t
from .. import blocks as bk
from ..conversation import Conductor, Place

MODAL = "cmbot_start_modal"


def start_modal(lang: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": bk.plain(t("slack.shortcut_title", lang)[:24]),
        "submit": bk.plain(t("slack.shortcut_submit", lang)),
        "close": bk.plain(t("slack.shortcut_cancel", lang)),
        "private_metadata": json.dumps({"lang": lang}),
        "blocks": [
            {"type": "input", "block_id": "where", "optional": True,
             "label": bk.plain(t("slack.shortcut_where", lang)),
             "hint": bk.plain(t("slack.shortcut_where_hint", lang)),
             "element": {"type": "conversations_select", "action_id": "channel",
                         "filter": {"include": ["public", "private"],
                                    "exclude_bot_users": True}}},
            {"type": "input", "block_id": "team", "optional": True,
             "label": bk.plain(t("slack.shortcut_team", lang)),
             "element": {"type": "checkboxes", "action_id": "team", "options": [
                 bk.option(t("slack.shortcut_team", lang), "team")]}},
        ],
    }


def register(app: App, conductor: Conductor) -> None:
    @app.shortcut("cmbot_start")
    def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"],
                          view=start_modal(conductor.lang_for(shortcut["user"]["id"])))

    @app.view(MODAL)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view["state"]["values"]
        channel = (values.get("where", {}).get("channel") or {}).get("selected_conversation")
        team = bool((values.get("team", {}).get("team") or {}).get("selected_options"))
        if channel:
            problem = conductor.start(user, Place(channel, is_dm=False), team=team,
                                      origin=f"modal:{view.get('id')}")
            if problem:
                ack(response_action="errors", errors={"where": problem})
                return
        else:
            conductor.start(user, Place(conductor.open_dm(user), is_dm=True),
                            origin=f"modal:{view.get('id')}")
        ack()
