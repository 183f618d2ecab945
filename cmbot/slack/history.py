"""`/cmbot history` as Block Kit: the consultations a person may see, a page at a time."""

from __future__ import annotations

from slack_sdk import WebClient

from ..i18n import t
from . import access
from . import blocks as bk
from .conversation import Conductor

PAGE = 10
PAGE_MAX = 1_000_000  # a page offset beyond any history (a forged value is clamped, not parsed)


def history_blocks(conductor: Conductor, client: WebClient, user: str, offset: int) -> list[dict]:
    lang = conductor.lang_for(user)
    rows = access.history(conductor.desk, client, user)
    if not rows:
        return [bk.section(t("slack.history_empty", lang))]
    offset = max(0, min(offset, (len(rows) - 1) // PAGE * PAGE))
    lines = []
    for row in rows[offset:offset + PAGE]:
        lines.append(t("slack.history_line", lang, id=row.id, date=row.finished_at[:10],
                       user=row.started_by, where=bk.where_label(row.where, lang),
                       flow=row.flow_id, placement=t(f"place.{row.placement}", lang)))
    result = [bk.section(f"*{t('slack.history_title', lang)}*"), *bk.sections("\n".join(lines))]
    if offset + PAGE < len(rows):
        result.append({"type": "actions", "block_id": "cmbot_history", "elements": [
            bk.button(t("slack.history_more", lang), "cmbot_history_more", str(offset + PAGE))]})
    return result
