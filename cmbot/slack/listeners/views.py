"""The global shortcut: a modal asking where to run the interview (a DM, or a channel)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from ...i18n import t
from .. import blocks as bk
from ..context import conductor_of, later, place_key
from ..courier import Failure, slack_error
from ..where import Start, Where

MODAL = "cmbot_start_modal"


def start_modal(lang: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": bk.plain(t("slack.shortcut_title", lang), 24),
        "submit": bk.plain(t("slack.shortcut_submit", lang), 24),
        "close": bk.plain(t("slack.shortcut_cancel", lang), 24),
        "private_metadata": json.dumps({"lang": lang}),
        "blocks": [
            {"type": "input", "block_id": "where", "optional": True,
             "label": bk.plain(t("slack.shortcut_where", lang), 2000),
             "hint": bk.plain(t("slack.shortcut_where_hint", lang), 2000),
             "element": {"type": "conversations_select", "action_id": "channel",
                         "filter": {"include": ["public", "private"],
                                    "exclude_bot_users": True}}},
            {"type": "input", "block_id": "team", "optional": True,
             "label": bk.plain(t("slack.shortcut_team", lang), 2000),
             "element": {"type": "checkboxes", "action_id": "team", "options": [
                 bk.option(t("slack.shortcut_team", lang), "team")]}},
        ],
    }


def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The modal must open within 3 s of the click (its trigger expires): first in its lane."""
    ack()
    user = shortcut["user"]["id"]
    conductor = conductor_of(context)

    def work() -> None:
        lang = conductor.lang_for(user)
        try:
            client.views_open(trigger_id=shortcut["trigger_id"], view=start_modal(lang))
        except Failure as exc:
            conductor.tell(user, t("door.modal_failed", lang, error=slack_error(exc)))
    later(context, user, work)


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    values = (view.get("state") or {}).get("values") or {}
    channel = ((values.get("where") or {}).get("channel") or {}).get("selected_conversation")
    team = bool(((values.get("team") or {}).get("team") or {}).get("selected_options"))
    conductor = conductor_of(context)
    origin = f"modal:{view.get('id')}"

    def work() -> None:
        if channel:
            conductor.start(user, Where.in_channel(channel), Start(team=team), origin=origin)
        else:
            conductor.start_in_dm(user, origin=origin)
    later(context, place_key(channel) if channel else user, work)


def register(app: App) -> None:
    app.shortcut("cmbot_start")(on_shortcut)
    app.view(MODAL)(on_submit)
