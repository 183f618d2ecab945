"""Clicks: answers (buttons, menus, checkboxes + `cmbot_submit`), navigation, results."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from ...consultation import Consultation
from ...i18n import t
from .. import access
from ..context import conductor_of, later, place_key
from ..conversation import Conductor
from ..history import PAGE_MAX, history_blocks
from ..where import Start, place

log = logging.getLogger("cmbot.slack")


def _clicked(body: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """(user, channel, message ts, thread ts) of a click on a message."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    ts = container.get("message_ts") or message.get("ts", "")
    thread = container.get("thread_ts") or message.get("thread_ts")
    return body["user"]["id"], channel, ts, thread


def _ticked(body: dict[str, Any]) -> dict[str, list[str] | None]:
    """The options ticked per block, read from the message's `state.values`."""
    ticked: dict[str, list[str] | None] = {}
    for block_id, elements in ((body.get("state") or {}).get("values") or {}).items():
        for element in (elements or {}).values():
            if isinstance(element, dict) and "selected_options" in element:
                ticked[block_id] = [o["value"] for o in element["selected_options"] or []]
    return ticked


def on_choice(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, channel, ts, thread = _clicked(body)
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    later(context, place_key(channel, thread), lambda: conductor_of(context).click(
        user, channel, ts, thread, action.get("block_id", ""), value))


def on_multi_change(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                    context: BoltContext) -> None:
    """Ticks are remembered too, for a submit whose payload carries no `state.values`."""
    ack()
    user, channel, ts, thread = _clicked(body)
    picked = [o["value"] for o in action.get("selected_options") or []]
    later(context, place_key(channel, thread), lambda: conductor_of(context).remember_ticks(
        user, channel, ts, thread, action.get("block_id", ""), picked))


def on_submit(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, channel, ts, thread = _clicked(body)
    ticked = _ticked(body)
    later(context, place_key(channel, thread), lambda: conductor_of(context).submit(
        user, channel, ts, thread, ticked, session_id=action.get("value") or None))


def on_nav(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, channel, _, thread = _clicked(body)
    later(context, place_key(channel, thread), lambda: conductor_of(context).navigate(
        user, channel, action.get("value") or None, action["action_id"][len("cmbot_"):], thread))


def on_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, channel, ts, thread = _clicked(body)
    state = (action.get("selected_option") or {}).get("value", "")
    later(context, place_key(channel, thread), lambda: conductor_of(context).edit(
        user, channel, ts, state, thread))


def _visible(conductor: Conductor, client: WebClient, user: str, consultation_id: str,
             channel: str, thread: str | None) -> Consultation | None:
    """The consultation a button names if this person may see it; otherwise they are told, in
    their language, that it is not found (the same words whether it is gone or not theirs)."""
    consultation = access.visible(conductor.desk, client, user, consultation_id)
    if consultation is None:
        conductor.tell(user, t("slack.not_found", conductor.lang_for(user), id=consultation_id),
                       channel, thread)
    return consultation


def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              context: BoltContext) -> None:
    ack()
    user, channel, _, thread = _clicked(body)
    conductor = conductor_of(context)

    def work() -> None:
        consultation = _visible(conductor, client, user, action.get("value", ""), channel, thread)
        if consultation is None:
            return
        error = access.upload_export(conductor.desk, client, consultation,
                                     action["action_id"].rsplit("_", 1)[1], consultation.lang)
        if error:
            conductor.tell(user, error, channel, thread)
    later(context, place_key(channel, thread), work)


def on_rerun(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             context: BoltContext) -> None:
    ack()
    user, channel, _, thread = _clicked(body)
    conductor = conductor_of(context)

    def work() -> None:
        consultation = _visible(conductor, client, user, action.get("value", ""), channel, thread)
        if consultation is None:
            return
        conductor.start(user, place(channel), Start(), parent=consultation,
                        origin=f"rerun:{action.get('action_ts')}:{user}")
    later(context, place_key(channel), work)


def on_new(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, channel, _, _ = _clicked(body)
    later(context, place_key(channel), lambda: conductor_of(context).start(
        user, place(channel), Start(), origin=f"new:{action.get('action_ts')}:{user}"))


def on_delete_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                      client: WebClient, context: BoltContext) -> None:
    ack()
    user, cid = body["user"]["id"], action.get("value", "")
    conductor = conductor_of(context)

    def work() -> None:
        lang = conductor.lang_for(user)
        consultation = access.visible(conductor.desk, client, user, cid)
        if consultation is None or not access.may_delete(user, consultation):
            respond(text=t("slack.not_found", lang, id=cid), replace_original=True)
            return
        conductor.desk.delete(cid)
        respond(text=t("slack.deleted", lang, id=cid), replace_original=True)
    later(context, user, work)


def on_delete_keep(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                   context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    later(context, user, lambda: respond(
        text=t("slack.delete_kept", conductor_of(context).lang_for(user), id=action.get("value", "")),
        replace_original=True))


def on_history_more(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient, context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    value = str(action.get("value") or "0")
    offset = int(value) if value.isdigit() and len(value) <= 7 else PAGE_MAX
    conductor = conductor_of(context)
    later(context, user, lambda: respond(
        blocks=history_blocks(conductor, client, user, offset), replace_original=True,
        text=t("slack.history_title", conductor.lang_for(user))))


def on_unknown(ack: Ack, action: dict[str, Any]) -> None:
    """A click cmbot does not know (an old message, a newer client): acknowledged and ignored
    rather than shown to the person as an error."""
    ack()
    log.info("ignored an unknown action %r", str(action.get("action_id"))[:80])


def register(app: App) -> None:
    app.action(re.compile(r"^cmbot_choice(_\d+)?$"))(on_choice)
    app.action("cmbot_multi")(on_multi_change)
    app.action("cmbot_submit")(on_submit)
    app.action(re.compile(r"^cmbot_(back|restart|cancel)$"))(on_nav)
    app.action("cmbot_edit")(on_edit)
    app.action(re.compile(r"^cmbot_export_(md|json)$"))(on_export)
    app.action("cmbot_rerun")(on_rerun)
    app.action("cmbot_new")(on_new)
    app.action("cmbot_delete_confirm")(on_delete_confirm)
    app.action("cmbot_delete_keep")(on_delete_keep)
    app.action("cmbot_history_more")(on_history_more)


def register_fallback(app: App) -> None:
    """Registered last, so it only catches what no other listener took."""
    app.action(re.compile(".*"))(on_unknown)
