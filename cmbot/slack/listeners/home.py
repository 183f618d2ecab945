"""The App Home tab: a start button, interviews in progress (Resume) and recent consultations."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ...i18n import t
from ...interview import Session
from .. import blocks as bk
from ..conversation import Conductor, Place

RECENT = 5


def home_view(conductor: Conductor, user: str) -> dict[str, Any]:
    desk, lang = conductor.desk, conductor.lang_for(user)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": bk.plain(t("slack.home_title", lang))},
        bk.section(t("slack.home_intro", lang)),
        {"type": "actions", "block_id": "cmbot_home", "elements": [
            bk.button(t("slack.home_start", lang), "cmbot_home_start", "start", "primary")]},
        {"type": "divider"},
        bk.section(f"*{t('slack.home_in_progress', lang)}*"),
    ]
    running = desk.store.sessions(
        lambda r: r.get("started_by") == user and r.get("flow_id") in desk.flows)[:RECENT]
    for record in running:
        session = Session.from_dict(record)
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
    recent = desk.store.consultations_for(user)[:RECENT]
    for row in recent:
        blocks.append(bk.section(
            f"`{row['id']}` · {row['finished_at'][:10]} · "
            f"*{t('place.' + row['recommendation']['placement'], lang)}*"))
    if not recent:
        blocks.append(bk.context(t("slack.home_none", lang)))
    return {"type": "home", "blocks": blocks}


def publish(conductor: Conductor, client: WebClient, user: str) -> None:
    client.views_publish(user_id=user, view=home_view(conductor, user))


def register(app: App, conductor: Conductor) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(conductor, client, event["user"])

    @app.action("cmbot_home_start")
    def on_home_start(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        conductor.start(user, Place(conductor.open_dm(user), is_dm=True))
        publish(conductor, client, user)

    @app.action("cmbot_resume")
    def on_resume(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id")
        conductor.resume(body["user"]["id"], action.get("value", ""), channel)
