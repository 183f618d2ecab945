"""The App Home tab: a start button, interviews in progress (Resume) and recent consultations."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from ...i18n import t
from .. import blocks as bk
from ..context import conductor_of, later
from ..conversation import Conductor
from ..courier import Failure, slack_error

RECENT = 5
log = logging.getLogger("cmbot.slack")


def home_view(conductor: Conductor, user: str) -> dict[str, Any]:
    desk, lang = conductor.desk, conductor.lang_for(user)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": bk.plain(t("slack.home_title", lang), bk.HEADER_MAX)},
        bk.section(t("slack.home_intro", lang)),
        {"type": "actions", "block_id": "cmbot_home", "elements": [
            bk.button(t("slack.home_start", lang), "cmbot_home_start", "start", "primary"),
            bk.button(t("panel.slack.home_start", lang), "cmbot_home_panel", "panel")]},
        {"type": "divider"},
        bk.section(f"*{t('slack.home_in_progress', lang)}*"),
    ]
    running = sorted((s for s in desk.sessions_of(user)
                      if s.flow_id in desk.flows and s.state != "done"
                      and s.where.in_slack),
                     key=lambda s: s.updated_at, reverse=True)[:RECENT]
    for session in running:
        interview = desk.interview(session.flow_id)
        n, total = interview.progress(session)
        place = bk.where_label(session.where, lang)
        line = t("slack.home_progress_line", lang, title=interview.flow.title[lang], n=n,
                 total=total, where=place)
        blocks.append({"type": "section", "text": bk.mrkdwn(line),
                       "accessory": bk.button(t("slack.home_resume", lang), "cmbot_resume",
                                              session.id)})
    if not running:
        blocks.append(bk.context(t("slack.home_none", lang)))
    blocks += [{"type": "divider"}, bk.section(f"*{t('slack.home_recent', lang)}*")]
    recent = desk.consultations_for(user)[:RECENT]
    for row in recent:
        blocks.append(bk.section(
            f"`{row.id}` · {row.finished_at[:10]} · *{t(f'place.{row.placement}', lang)}*"))
    if not recent:
        blocks.append(bk.context(t("slack.home_none", lang)))
    return {"type": "home", "blocks": blocks}


def publish(conductor: Conductor, client: WebClient, user: str) -> None:
    """Publish the tab; a failure (a revoked scope, Slack down) is logged, the tab stays as it was."""
    try:
        client.views_publish(user_id=user, view=home_view(conductor, user))
    except Failure as exc:
        log.warning("views.publish failed for %s: %s", user, slack_error(exc))


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    user = event.get("user")
    if event.get("tab", "home") == "home" and isinstance(user, str):
        later(context, user, lambda: publish(conductor_of(context), client, user))


def on_home_start(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    conductor = conductor_of(context)

    def work() -> None:
        if conductor.start_in_dm(user):
            publish(conductor, client, user)
    later(context, user, work)


def on_resume(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    channel = (body.get("channel") or {}).get("id")
    user = body["user"]["id"]
    later(context, user, lambda: conductor_of(context).resume(user, action.get("value", ""), channel))


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action("cmbot_home_start")(on_home_start)
    app.action("cmbot_resume")(on_resume)
