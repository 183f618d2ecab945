"""The one adapter between the use cases' plans and Slack: save, then talk, and survive failures.

Order per step, one storage write on each side of the posts: the session is saved before
anything is posted for it, marked pending when the step shows its question or result (a crash
after the save leaves an interview whose question was not shown, which the next interaction or
the start-up sweep shows); a consultation is archived before its recommendation is posted; and
once posted, the message the question went out as is noted and the mark cleared, with one save.
Every Web API call a plan makes is caught here: the WebClient's retry handlers have already
waited out rate limits and retried server and connection errors, so what is left is told to the
person privately, with what they can do, and the interview stays where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .. import panel_hub
from ..i18n import t
from ..interview import Session
from ..service import Desk
from . import blocks as bk
from .effects import Begin, Direct, Effect, Plan, Post, Tell, Update
from .state import SlackState
from .where import Where

log = logging.getLogger("cmbot.slack")
Failure = (SlackClientError, OSError)


def slack_error(exc: BaseException) -> str:
    """What went wrong, in Slack's words (`not_in_channel`), or the kind of failure."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return "unreachable" if isinstance(exc, OSError) else type(exc).__name__


def _here(effect: Effect) -> bool:
    """Whether an effect is said in the step's own interview (not a panel's, nor a DM aside)."""
    return isinstance(effect, Post | Update) and effect.to is None


def _mark(plan: Plan, shows: bool) -> bool | None:
    """The pending mark a step's save carries: set when the step shows its question or result,
    cleared when what the session waits for was found already shown (adopted), else kept."""
    if shows:
        return True
    return False if plan.adopted else None


Defer = Callable[[str, Callable[[], None]], None]


class Courier:
    def __init__(self, desk: Desk, client: WebClient, defer: Defer | None = None):
        self.desk, self.client = desk, client
        self.defer = defer  # where earlier messages are tidied: see `_tidy`

    # --- plans ------------------------------------------------------------------------------

    def carry(self, plan: Plan, session: Session | None = None, state: SlackState | None = None,
              actor: str | None = None, respond: Callable[..., Any] | None = None) -> bool:
        """Carry out a plan; False when nothing was saved (the interview is where it was).

        A post that fails leaves the step pending, to be shown again — but an interview the
        person left (`plan.left`: cancelled, expired) is over whether or not Slack took the
        message that says so; there is nothing to show again. What a step says elsewhere (a
        panel's thread and root, someone's DM, another interview begun) is said whatever
        happened to its own posts: each is independent of the others."""
        shows = session is not None and any(isinstance(e, Post) and e.to is None
                                            and (e.asks or e.metadata) for e in plan.effects)
        if not self._save(plan, session, state, shows):
            if actor and session is not None:  # nothing is shown as accepted: it was not saved
                self.tell(Tell(actor, t("door.not_saved", session.lang)), session, respond)
            return False
        noted, failed = False, False
        updates: list[Update] = []
        for effect in plan.effects:
            if isinstance(effect, Tell):
                self.tell(effect, session, respond)
            elif not _here(effect):
                self._elsewhere(effect)
            elif failed or session is None or state is None:
                continue  # nothing more is posted once a post failed: the step stays pending
            elif isinstance(effect, Update):
                updates.append(effect)
            elif isinstance(effect, Post):
                result = self._post(session, state, effect, actor, respond)
                failed, noted = result is None, noted or bool(result)
        if session is not None and not plan.left:  # a left one is gone already (`_save`)
            if plan.forget and not failed:
                self.desk.forget(session.id)
            elif state is not None and (noted or (shows and not failed)):
                state.store(session)
                if failed:  # what was posted is noted; the rest is still to be shown
                    self.desk.keep(session)
                else:
                    self.desk.shown(session)
        if session is not None and updates:
            self._tidy(session, updates)
        return True

    def _save(self, plan: Plan, session: Session | None, state: SlackState | None,
              shows: bool) -> bool:
        """Save the step (and archive its consultation, and save the panel it changed) before
        anything is posted for it, marked pending when it shows its question or result (a crash
        before it is shown: the restart shows it) — or forget it, when the person left it; False
        when the storage refused (a full disk, a read-only folder): the caller then posts
        nothing, and the interview is where it was before this step."""
        try:
            if session is not None and plan.left:  # over before it is said: one delete, and
                self.desk.forget(session.id)        # no crash can leave it half-left
            elif session is not None and state is not None and plan.save:
                state.store(session)
                self.desk.keep(session, pending=_mark(plan, shows))
            if plan.consultation is not None:
                self.desk.archive(plan.consultation)
            if plan.panel is not None:  # after the consultation its result names
                panel_hub.save(self.desk, plan.panel)
        except OSError as exc:
            log.error("could not save %s: %s", session.id if session else "a step", exc)
            return False
        return True

    def _elsewhere(self, effect: Effect) -> None:
        """What a step says outside its own interview. A new interview is begun under its own
        lock — one nobody else can hold yet, as nobody knows its id before it is saved."""
        if isinstance(effect, Begin):
            with self.desk.lock(effect.session.id):
                self.carry(effect.plan, effect.session, effect.state,
                           actor=effect.session.started_by)
        elif isinstance(effect, Direct):
            self.direct(effect.user, effect.text)
        elif isinstance(effect, Update) and effect.to is not None:
            self.update(effect.to.channel, effect)
        elif isinstance(effect, Post) and effect.to is not None:
            try:
                self.post_outside(effect.to, effect)
            except Failure as exc:
                log.warning("chat.postMessage failed in %s: %s", effect.to.channel,
                            slack_error(exc))

    def _tidy(self, session: Session, updates: list[Update]) -> None:
        """Earlier messages rewritten once the step is done and noted: through `defer` (a lane
        of their own, so the interview's next step need not wait for them), else at once."""
        channel = session.where.channel

        def run() -> None:
            for update in updates:
                self.update(channel, update)
        if self.defer is not None:
            self.defer(f"tidy:{session.id}", run)
        else:
            run()

    def _post(self, session: Session, state: SlackState, post: Post, actor: str | None,
              respond: Callable[..., Any] | None) -> bool | None:
        """Post; True when the session's Slack state changed, None when the post failed."""
        where = session.where
        try:
            reply = self.client.chat_postMessage(
                channel=where.channel, blocks=post.blocks, text=post.text,
                thread_ts=None if post.root else where.thread_ts, metadata=post.metadata)
        except Failure as exc:
            error = slack_error(exc)
            log.warning("chat.postMessage failed in %s: %s", where.channel, error)
            if actor:
                self.tell(Tell(actor, self._failure_text(session, post, error)), session, respond)
            return None
        ts = str(reply["ts"])
        if post.root:  # saved at once (still pending): a reply in the new thread must find it
            session.where = where.in_thread(ts)
            state.root_ts = ts
            state.store(session)
            self.desk.keep(session)
            return False
        if post.asks:
            state.shown(post.asks, ts)
            return True
        return False

    @staticmethod
    def _failure_text(session: Session, post: Post, error: str) -> str:
        lang = session.lang
        if post.root:
            key = {"not_in_channel": "slack.cannot_post", "is_archived": "door.archived",
                   "channel_not_found": "door.not_member"}  # a private channel or group DM
            return t(key.get(error, "door.root_failed"), lang,
                     channel=session.where.channel, error=error)
        if post.metadata:
            return t("door.result_failed", lang, id=session.id, error=error)
        return t("door.post_failed", lang, error=error)

    # --- single calls -----------------------------------------------------------------------

    def post_outside(self, where: Where, post: Post) -> str:
        """A message outside any interview (a panel's root, its result); its ts. Raises what
        the WebClient raises: the caller says what failed to whom."""
        reply = self.client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts,
                                             blocks=post.blocks, text=post.text,
                                             metadata=post.metadata)
        return str(reply["ts"])

    def update(self, channel: str, update: Update) -> None:
        """An earlier message rewritten; a failure is only logged: the message stays as it was,
        and nothing the person can do depends on it."""
        try:
            self.client.chat_update(channel=channel, ts=update.ts, blocks=update.blocks,
                                    text=update.text)
        except Failure as exc:
            log.warning("chat.update failed in %s: %s", channel, slack_error(exc))

    def tell(self, tell: Tell, session: Session | None = None,
             respond: Callable[..., Any] | None = None) -> None:
        """Privately: through the slash command's response URL when there is one, else an
        ephemeral message where it happened, else the person's DM with the bot."""
        where = session.where if session else None
        channel = tell.channel or (where.channel if where else None)
        thread = tell.thread_ts or (where.thread_ts if where and not tell.channel else None)
        if respond is not None:
            try:
                respond(text=tell.text, response_type="ephemeral", replace_original=False)
                return
            except Exception as exc:  # a response URL expires after 30 minutes
                log.warning("response_url failed: %s", type(exc).__name__)
        if channel:
            try:
                self.client.chat_postEphemeral(channel=channel, user=tell.user, text=tell.text,
                                               thread_ts=thread)
                return
            except Failure as exc:
                log.warning("chat.postEphemeral failed in %s: %s", channel, slack_error(exc))
        self.direct(tell.user, tell.text)

    def direct(self, user: str, text: str) -> None:
        """A message in the person's DM with the bot (the last way to reach them)."""
        try:
            self.post_outside(Where.dm(self.open_dm(user)), Post([bk.section(text)], text))
        except Failure as exc:
            log.warning("could not reach %s privately: %s", user, slack_error(exc))

    def open_dm(self, user: str) -> str:
        return str(self.client.conversations_open(users=user)["channel"]["id"])
