"""Who may see which consultation, and the slash-command features built on it.

A DM consultation belongs to the person who ran it; a channel consultation is visible to that
channel's members. A consultation someone may not see is answered exactly like one that does
not exist, so ids cannot be probed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..consultation import Consultation
from ..export import render
from ..i18n import t
from ..interview.where import CHANNEL
from ..service import Desk
from ..summary import Summary

log = logging.getLogger("cmbot.slack")


def channel_members(client: WebClient, channel: str) -> set[str]:
    members: set[str] = set()
    cursor = None
    try:
        while True:
            page = client.conversations_members(channel=channel, cursor=cursor, limit=1000)
            members.update(page.get("members", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members
    except SlackApiError as exc:
        log.warning("conversations.members failed for %s: %s", channel, exc.response.get("error"))
        return members


def can_see(client: WebClient, user: str, consultation: Consultation) -> bool:
    if consultation.started_by == user:
        return True
    where = consultation.where
    if user in where.panel:
        return True  # a panel's members see its result wherever they are
    return (where.kind == CHANNEL and where.channel is not None
            and user in channel_members(client, where.channel))


def may_delete(user: str, consultation: Consultation) -> bool:
    """Only whoever started a consultation erases it: the others who see it (a channel's
    members, a panel's) may not take it from everyone."""
    return consultation.started_by == user


def visible(desk: Desk, client: WebClient, user: str, consultation_id: str) -> Consultation | None:
    found = desk.consultation(consultation_id)
    return found if found is not None and can_see(client, user, found) else None


def history(desk: Desk, client: WebClient, user: str) -> Sequence[Summary]:
    """Consultations the user may see, newest first (membership looked up once per channel),
    served from the archive's indexes; summaries are built only for the rows read."""
    return desk.consultations_for(user, lambda channel: user in channel_members(client, channel))


def upload_export(desk: Desk, client: WebClient, consultation: Consultation, fmt: str,
                  lang: str) -> str | None:
    """Upload the export where the consultation ran (its DM or thread); error text or None."""
    report = desk.report(consultation, lang)
    content = render(report, desk.flow(consultation.flow_id), lang, fmt)
    where = consultation.where
    try:
        client.files_upload_v2(
            channel=where.channel, thread_ts=where.thread_ts, content=content,
            filename=f"cmbot-{consultation.id}.{fmt}", title=f"cmbot {consultation.id}",
            initial_comment=t("slack.export_comment", lang, id=consultation.id, format=fmt.upper()),
        )
    except SlackApiError as exc:
        return t("slack.export_failed", lang, error=exc.response.get("error", "?"))
    return None
