"""Panels besides the slash command: the *Start a panel* shortcut and App Home button open a
modal with a people picker and a channel; the root message's buttons close or cancel."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from ...i18n import t
from .. import blocks as bk
from .. import panel
from ..context import conductor_of, later, place_key
from ..courier import Failure, slack_error
from ..where import is_dm

MODAL = "cmbot_panel_modal"


def panel_modal(lang: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": bk.plain(t("panel.slack.modal_title", lang)[:24]),
        "submit": bk.plain(t("panel.slack.modal_submit", lang)),
        "close": bk.plain(t("slack.shortcut_cancel", lang)),
        "private_metadata": json.dumps({"lang": lang}),
        "blocks": [
            {"type": "input", "block_id": "members",
             "label": bk.plain(t("panel.slack.modal_members", lang)),
             "hint": bk.plain(t("panel.slack.modal_members_hint", lang)),
             "element": {"type": "multi_users_select", "action_id": "members",
                         "max_selected_items": panel.MAX_MEMBERS}},
            {"type": "input", "block_id": "where",
             "label": bk.plain(t("panel.slack.modal_where", lang)),
             "element": {"type": "conversations_select", "action_id": "channel",
                         "filter": {"include": ["public", "private"],
                                    "exclude_bot_users": True}}},
        ],
    }


def _open(user: str, trigger_id: str, client: WebClient, context: BoltContext) -> None:
    """The modal must open within 3 s of the click (its trigger expires): first in its lane."""
    conductor = conductor_of(context)

    def work() -> None:
        lang = conductor.lang_for(user)
        try:
            client.views_open(trigger_id=trigger_id, view=panel_modal(lang))
        except Failure as exc:
            conductor.tell(user, t("door.modal_failed", lang, error=slack_error(exc)))
    later(context, user, work)


def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient,
                context: BoltContext) -> None:
    ack()
    _open(shortcut["user"]["id"], shortcut["trigger_id"], client, context)


def on_home_button(ack: Ack, body: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    ack()
    _open(body["user"]["id"], body["trigger_id"], client, context)


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """What can be checked without Slack is said on the modal's own fields; then the panel
    starts after the acknowledgement."""
    user = body["user"]["id"]
    values = (view.get("state") or {}).get("values") or {}
    picked = ((values.get("members") or {}).get("members") or {}).get("selected_users") or []
    channel = ((values.get("where") or {}).get("channel") or {}).get("selected_conversation")
    lang = json.loads(view.get("private_metadata") or "{}").get("lang", "en")
    members = panel.with_starter(user, [str(u) for u in picked])
    problem = panel.refusal(channel, members, lang)
    if problem is not None:
        ack(response_action="errors",
            errors={"where" if not channel or is_dm(channel) else "members": problem})
        return
    ack()
    conductor = conductor_of(context)

    def work() -> None:
        problem = panel.start(conductor, user, str(channel), members)
        if problem:
            conductor.tell(user, problem)
    later(context, place_key(str(channel)), work)


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
    app.shortcut("cmbot_panel")(on_shortcut)
    app.action("cmbot_home_panel")(on_home_button)
    app.view(MODAL)(on_submit)
    app.action("cmbot_panel_close")(on_close)
    app.action("cmbot_panel_cancel")(on_cancel)
