"""Events: `@cmbot start` in a channel, `start` and answers in a DM, replies in threads.

Slack sends an @mention in a channel twice (as `app_mention` and as `message`): interviews are
started only from `app_mention` in channels and only from `message` in DMs, and replies are
answers only from `message`, so each arrives once whatever Slack duplicates.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from ...i18n import t
from ..conversation import Conductor, Place

MENTION = re.compile(r"<@[A-Z0-9]+>")
START = re.compile(r"^\s*start\b(?P<rest>.*)$", re.IGNORECASE)


def start_words(text: str) -> tuple[bool, list[str]] | None:
    """`start`, `start team`, `start objectives_review` -> (team, flows); None if not a start."""
    match = START.match(MENTION.sub("", text or ""))
    if not match:
        return None
    words = match.group("rest").split()
    return "team" in [w.lower() for w in words], [w for w in words if w.lower() != "team"]


def register(app: App, conductor: Conductor) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any]) -> None:
        if event.get("thread_ts") and conductor.find(event["channel"], None, event["thread_ts"]):
            return  # a reply inside an interview thread: the `message` event answers it
        parsed = start_words(event.get("text", ""))
        user, channel = event["user"], event["channel"]
        if parsed is None:
            conductor.ephemeral(channel, user, t("slack.usage", conductor.lang_for(user)))
            return
        team, flows = parsed
        problem = conductor.start(user, Place(channel, is_dm=False), team=team,
                                  flow_id=flows[0] if flows else "community_manager",
                                  origin=f"{channel}:{event['ts']}")
        if problem:
            conductor.ephemeral(channel, user, problem)

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        if event.get("subtype") or event.get("bot_id") or "user" not in event:
            return  # edits, joins, and our own messages
        user, channel, text = event["user"], event["channel"], event.get("text", "")
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        parsed = start_words(text) if is_dm else None
        if parsed is None and conductor.reply(user, channel, text, event["ts"], event.get("thread_ts")):
            return
        if not is_dm:
            return  # channel chatter is none of our business
        if parsed is None:
            conductor.ephemeral(channel, user, t("slack.dm_hello", conductor.lang_for(user)))
            return
        _, flows = parsed  # (team mode means nothing in a DM)
        problem = conductor.start(user, Place(channel, is_dm=True),
                                  flow_id=flows[0] if flows else "community_manager",
                                  origin=f"{channel}:{event['ts']}")
        if problem:
            conductor.ephemeral(channel, user, problem)
