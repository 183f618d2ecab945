"""`/cmbot start|panel|history|show|export|delete|lang|help`.

The command is acknowledged at once; the answer follows privately through the command's
response URL, so looking people's language or channel membership up never delays the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from ...i18n import LANGUAGES, t
from ...interview.where import CHANNEL
from .. import access, panel
from .. import blocks as bk
from ..context import conductor_of, later, place_key
from ..conversation import Conductor
from ..courier import Failure
from ..history import history_blocks
from ..where import Start, Where, parse_start, place


def cmbot_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond,
                  context: BoltContext) -> None:
    ack()
    user, channel = command["user_id"], command["channel_id"]
    conductor = conductor_of(context)
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else "help"

    def work() -> None:
        if sub == "start":
            start_command(conductor, user, channel, words[1:], command, respond)
            return
        if sub == "panel":
            problem = panel.command(conductor, user, channel, words[1:])
            respond(text=problem or t("panel.slack.started", conductor.lang_for(user), channel=channel),
                    response_type="ephemeral", replace_original=False)
            return
        answer = answer_command(conductor, client, user, sub, words[1:])
        respond(**answer, response_type="ephemeral", replace_original=False)
    later(context, place_key(channel), work)


def start_command(conductor: Conductor, user: str, channel: str, args: list[str],
                  command: dict[str, Any], respond: Respond) -> None:
    """`/cmbot start [team] [flow]`. In a DM that is not the person's DM with the bot (a DM
    between two people, where the bot cannot post), the interview runs in the bot's DM."""
    start = parse_start(" ".join(["start", *args])) or Start()
    where = place(channel)
    lang = conductor.lang_for(user)
    if where.is_dm:
        try:
            own = conductor.courier.open_dm(user)
        except Failure:  # said by the start itself, if the bot cannot post here either
            own = channel
        if own != channel:
            where = Where.dm(own)
            respond(text=t("door.moved_to_dm", lang), response_type="ephemeral")
    started = conductor.start(user, where, start, origin=command.get("trigger_id"), respond=respond)
    if started and not where.is_dm:
        respond(text=t("slack.started_in_channel", lang, channel=channel), response_type="ephemeral")


def answer_command(conductor: Conductor, client: WebClient, user: str, sub: str,
                   args: list[str]) -> dict[str, Any]:
    lang = conductor.lang_for(user)
    if sub == "history":
        return {"blocks": history_blocks(conductor, client, user, 0),
                "text": t("slack.history_title", lang)}
    if sub in ("show", "export", "delete"):
        return consultation_command(conductor, client, user, sub, args, lang)
    if sub == "lang":
        chosen = args[0].lower() if args else ""
        if chosen not in LANGUAGES:
            return {"text": t("slack.lang_usage", lang)}
        conductor.set_lang(user, chosen)
        return {"text": t("slack.lang_set", chosen)}
    if sub == "help":
        return {"text": t("slack.usage", lang)}
    return {"text": t("slack.unknown_command", lang, command=bk.esc(sub[:40])) + "\n\n"
            + t("slack.usage", lang)}


def consultation_command(conductor: Conductor, client: WebClient, user: str, sub: str,
                         args: list[str], lang: str) -> dict[str, Any]:
    """`show`, `export` and `delete` of one consultation."""
    if not args:
        return {"text": t("slack.need_id", lang, command=sub)}
    cid = args[0][:40]
    consultation = access.visible(conductor.desk, client, user, cid)
    if consultation is None:
        return {"text": t("slack.not_found", lang, id=bk.esc(cid))}
    desk = conductor.desk
    if sub == "show":
        report = desk.report(consultation, lang)
        full = desk.flow(consultation.flow_id).full_advice
        blocks = bk.recommendation_blocks(report, full)
        if report.panel is not None:
            blocks = panel.panel_blocks(report) + blocks
        return {"blocks": blocks, "text": bk.summary_text(report)}
    if sub == "export":
        fmt = args[1].lower() if len(args) > 1 and args[1].lower() in ("md", "json") else "md"
        error = access.upload_export(desk, client, consultation, fmt, lang)
        return {"text": error or t("slack.export_comment", lang, id=cid, format=fmt.upper())}
    if not access.may_delete(user, consultation):
        return {"text": t("slack.delete_not_owner", lang, user=consultation.started_by, id=cid)}
    if consultation.where.kind == CHANNEL:
        # A channel's shared record: ask before it disappears for everyone.
        question = t("slack.delete_confirm", lang, id=cid, channel=consultation.where.channel)
        return {"text": question, "blocks": [bk.section(question), {
            "type": "actions", "block_id": "cmbot_delete", "elements": [
                bk.button(t("slack.delete_yes", lang), "cmbot_delete_confirm", cid, "danger"),
                bk.button(t("slack.delete_no", lang), "cmbot_delete_keep", cid)]}]}
    desk.delete(cid)
    return {"text": t("slack.deleted", lang, id=cid)}


def register(app: App) -> None:
    app.command("/cmbot")(cmbot_command)
