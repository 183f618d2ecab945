"""`/cmbot start|panel|history|show|export|delete|lang|help`. Answers go back privately in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ...i18n import LANGUAGES, t
from .. import access, panel
from .. import blocks as bk
from ..conversation import Conductor, Place

PAGE = 10


def history_blocks(conductor: Conductor, client: WebClient, user: str, offset: int) -> list[dict]:
    lang = conductor.lang_for(user)
    rows = access.history(conductor.desk, client, user)
    if not rows:
        return [bk.section(t("slack.history_empty", lang))]
    lines = []
    for row in rows[offset:offset + PAGE]:
        place = bk.where_label(row.get("where", {}), lang)
        lines.append(t("slack.history_line", lang, id=row["id"], date=row["finished_at"][:10],
                       user=row["started_by"], where=place, flow=row["flow_id"],
                       placement=t(f"place.{row['recommendation']['placement']}", lang)))
    result = [bk.section(f"*{t('slack.history_title', lang)}*"), bk.section("\n".join(lines))]
    if offset + PAGE < len(rows):
        result.append({"type": "actions", "block_id": "cmbot_history", "elements": [
            bk.button(t("slack.history_more", lang), "cmbot_history_more", str(offset + PAGE))]})
    return result


def register(app: App, conductor: Conductor) -> None:
    @app.command("/cmbot")
    def cmbot_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        user, channel = command["user_id"], command["channel_id"]
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        lang = conductor.lang_for(user)

        if sub == "start":
            team = "team" in args
            flows = [a for a in args if a != "team"]
            is_dm = channel.startswith("D")
            problem = conductor.start(user, Place(channel, is_dm), team=team,
                                      flow_id=flows[0] if flows else "community_manager",
                                      origin=command.get("trigger_id"))
            if problem:
                ack(text=problem)
            elif is_dm:
                ack()
            else:
                ack(text=t("slack.started_in_channel", lang, channel=channel))
        elif sub == "panel":
            problem = panel.start(conductor, user, channel, args)
            ack(text=problem or t("panel.slack.started", lang, channel=channel))
        elif sub == "history":
            ack(blocks=history_blocks(conductor, client, user, 0), text=t("slack.history_title", lang))
        elif sub in ("show", "export", "delete"):
            ack(**consultation_command(conductor, client, user, sub, args, lang))
        elif sub == "lang":
            chosen = args[0].lower() if args else ""
            if chosen not in LANGUAGES:
                ack(text=t("slack.lang_usage", lang))
                return
            conductor.set_lang(user, chosen)
            ack(text=t("slack.lang_set", chosen))
        elif sub == "help":
            ack(text=t("slack.usage", lang))
        else:
            ack(text=t("slack.unknown_command", lang, command=bk.esc(sub[:40])) + "\n\n"
                + t("slack.usage", lang))


def consultation_command(conductor: Conductor, client: WebClient, user: str, sub: str,
                         args: list[str], lang: str) -> dict[str, Any]:
    """`show`, `export` and `delete` of one consultation, as the ack's keyword arguments."""
    if not args:
        return {"text": t("slack.need_id", lang, command=sub)}
    cid = args[0]
    consultation = access.visible(conductor.desk, client, user, cid)
    if consultation is None:
        return {"text": t("slack.not_found", lang, id=bk.esc(cid))}
    desk = conductor.desk
    if sub == "show":
        report = desk.report(consultation, lang)
        full = desk.flow(consultation.flow_id).outcome == "full"
        blocks = bk.recommendation_blocks(report, full)
        if "panel" in report:
            blocks = panel.panel_blocks(report) + blocks
        return {"blocks": blocks, "text": bk.summary_text(report)}
    if sub == "export":
        fmt = args[1].lower() if len(args) > 1 and args[1].lower() in ("md", "json") else "md"
        error = access.upload_export(desk, client, consultation, fmt, lang)
        return {"text": error or t("slack.export_comment", lang, id=cid, format=fmt.upper())}
    if consultation.started_by != user:
        return {"text": t("slack.delete_not_owner", lang, user=consultation.started_by, id=cid)}
    if consultation.where.get("kind") == "channel":
        # A channel's shared record: ask before it disappears for everyone.
        question = t("slack.delete_confirm", lang, id=cid, channel=consultation.where["channel"])
        return {"text": question, "blocks": [bk.section(question), {
            "type": "actions", "block_id": "cmbot_delete", "elements": [
                bk.button(t("slack.delete_yes", lang), "cmbot_delete_confirm", cid, "danger"),
                bk.button(t("slack.delete_no", lang), "cmbot_delete_keep", cid)]}]}
    desk.store.delete_consultation(cid)
    return {"text": t("slack.deleted", lang, id=cid)}
