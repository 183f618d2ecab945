"""Clicks: answers (buttons, menus, checkboxes + `cmbot_submit`), navigation, results."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from ...i18n import t
from .. import access
from ..conversation import Conductor, Place
from .commands import history_blocks

log = logging.getLogger("cmbot.slack")


def _where(body: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """(user, channel, message ts, thread ts) of a click on a message."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    ts = container.get("message_ts") or message.get("ts", "")
    thread = container.get("thread_ts") or message.get("thread_ts")
    return body["user"]["id"], channel, ts, thread


def _selected(body: dict[str, Any], block_id: str) -> list[str] | None:
    """The options ticked in a multi question, read from the message's `state.values`."""
    for element in ((body.get("state") or {}).get("values") or {}).get(block_id, {}).values():
        if "selected_options" in element:
            return [o["value"] for o in element["selected_options"] or []]
    return None


def register(app: App, conductor: Conductor) -> None:
    desk = conductor.desk

    @app.action(re.compile(r"^cmbot_choice(_\d+)?$"))
    def on_choice(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, thread = _where(body)
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        conductor.click(user, channel, ts, thread, action.get("block_id", ""), value)

    @app.action("cmbot_multi")
    def on_multi_change(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Ticks are remembered too, for a submit whose payload carries no `state.values`."""
        ack()
        user, channel, ts, thread = _where(body)
        picked = [o["value"] for o in action.get("selected_options") or []]
        conductor.remember_ticks(user, channel, ts, thread, action.get("block_id", ""), picked)

    @app.action("cmbot_submit")
    def on_submit(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, thread = _where(body)
        session_id = action.get("value") or conductor.find(channel, ts, thread)
        saved = desk.store.get_session(session_id) if session_id else None
        state = saved["state"] if saved else ""
        picked = _selected(body, state)
        if picked is None and saved:
            picked = saved.get("meta", {}).get("ticks", {}).get(state)
        conductor.click(user, channel, ts, thread, state, picked if picked is not None else [],
                        session_id=session_id)

    @app.action(re.compile(r"^cmbot_(back|restart|cancel)$"))
    def on_nav(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, thread = _where(body)
        session_id = action.get("value") or conductor.find(channel, ts, thread)
        if not session_id:
            conductor.ephemeral(channel, user, t("slack.over", conductor.lang_for(user)), thread)
            return
        conductor.navigate(user, channel, session_id, action["action_id"][len("cmbot_"):], thread)

    @app.action("cmbot_edit")
    def on_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, ts, thread = _where(body)
        session_id = conductor.find(channel, ts, thread)
        if not session_id:
            conductor.ephemeral(channel, user, t("slack.over", conductor.lang_for(user)), thread)
            return
        state = (action.get("selected_option") or {}).get("value", "")
        conductor.edit(user, channel, session_id, ts, state, thread)

    @app.action(re.compile(r"^cmbot_export_(md|json)$"))
    def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel, _, thread = _where(body)
        lang = conductor.lang_for(user)
        consultation = access.visible(desk, client, user, action.get("value", ""))
        if consultation is None:
            conductor.ephemeral(channel, user, t("slack.not_found", lang, id=action.get("value")),
                                thread)
            return
        error = access.upload_export(desk, client, consultation, action["action_id"].rsplit("_", 1)[1],
                                     consultation.lang)
        if error:
            conductor.ephemeral(channel, user, error, thread)

    @app.action("cmbot_rerun")
    def on_rerun(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel, _, thread = _where(body)
        consultation = access.visible(desk, client, user, action.get("value", ""))
        if consultation is None:
            conductor.ephemeral(channel, user, t("slack.not_found", conductor.lang_for(user),
                                                 id=action.get("value")), thread)
            return
        problem = conductor.start(user, Place(channel, channel.startswith("D")), parent=consultation,
                                  origin=f"rerun:{action.get('action_ts')}:{user}")
        if problem:
            conductor.ephemeral(channel, user, problem)

    @app.action("cmbot_new")
    def on_new(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, channel, _, _ = _where(body)
        problem = conductor.start(user, Place(channel, channel.startswith("D")),
                                  origin=f"new:{action.get('action_ts')}:{user}")
        if problem:
            conductor.ephemeral(channel, user, problem)

    @app.action("cmbot_delete_confirm")
    def on_delete_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                          respond: Respond, client: WebClient) -> None:
        ack()
        user, cid = body["user"]["id"], action.get("value", "")
        lang = conductor.lang_for(user)
        consultation = access.visible(desk, client, user, cid)
        if consultation is None or consultation.started_by != user:
            respond(text=t("slack.not_found", lang, id=cid), replace_original=True)
            return
        desk.store.delete_consultation(cid)
        respond(text=t("slack.deleted", lang, id=cid), replace_original=True)

    @app.action("cmbot_delete_keep")
    def on_delete_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        lang = conductor.lang_for(body["user"]["id"])
        respond(text=t("slack.delete_kept", lang, id=action.get("value", "")), replace_original=True)

    @app.action("cmbot_history_more")
    def on_history_more(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        value = action.get("value") or "0"
        offset = int(value) if value.isdigit() else 0
        respond(blocks=history_blocks(conductor, client, user, offset), replace_original=True,
                text=t("slack.history_title", conductor.lang_for(user)))


def register_fallback(app: App) -> None:
    """Registered last: a click cmbot does not know (an old message, a newer client) is
    acknowledged and ignored rather than shown to the person as an error."""

    @app.action(re.compile(".*"))
    def on_unknown(ack: Ack, action: dict[str, Any]) -> None:
        ack()
        log.info("ignored an unknown action %r", action.get("action_id"))
