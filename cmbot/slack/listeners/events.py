"""Events: `@cmbot start` in a channel, `start` and answers in a DM, replies in threads.

Slack sends an @mention in a channel twice (as `app_mention` and as `message`): interviews are
started only from `app_mention` in channels and only from `message` in DMs, and replies are
answers only from `message`, so each arrives once whatever Slack duplicates.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from ...i18n import t
from ..context import conductor_of, later, place_key
from ..where import Where, is_dm, parse_start

REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")  # a reply, also sent to the channel or with a file


def on_mention(event: dict[str, Any], context: BoltContext) -> None:
    user, channel, thread = event.get("user"), event["channel"], event.get("thread_ts")
    if not isinstance(user, str):
        return
    conductor = conductor_of(context)

    def work() -> None:
        if thread and conductor.find(channel, thread):
            return  # a reply inside an interview thread: the `message` event answers it
        start = parse_start(event.get("text", ""))
        if start is None:
            conductor.tell(user, t("slack.usage", conductor.lang_for(user)), channel, thread)
            return
        conductor.start(user, Where.in_channel(channel), start, origin=f"{channel}:{event['ts']}")
    later(context, place_key(channel, thread), work)


def on_message(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("subtype") not in REPLY_SUBTYPES or event.get("bot_id") or "user" not in event:
        return  # edits, joins, and our own messages
    user, channel, text = event["user"], event["channel"], event.get("text") or ""
    thread, dm = event.get("thread_ts"), is_dm(channel, event.get("channel_type"))
    conductor = conductor_of(context)

    def work() -> None:
        start = parse_start(text) if dm else None
        if start is None and conductor.reply(user, channel, text, event["ts"], thread):
            return
        if not dm:
            return  # channel chatter is none of our business
        if start is None:
            conductor.tell(user, t("slack.dm_hello", conductor.lang_for(user)), channel)
            return
        conductor.start(user, Where.dm(channel), start, origin=f"{channel}:{event['ts']}")
    later(context, place_key(channel, thread), work)


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
