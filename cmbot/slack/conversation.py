"""The interview in Slack: what the listeners call once they have parsed a payload.

Each step loads the session under its lock, moves the shared machine, saves, and only then
talks to Slack (nothing is rolled back if Slack fails). Every message posted for a session is
remembered in `session.meta`, so a click on any message, even one posted before a restart,
finds its interview, and a click on a question that is no longer current changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..consultation import Consultation
from ..i18n import normalise_lang, t
from ..interview import Session
from ..interview.wording import describe, say_problem
from ..service import Desk
from . import blocks as bk

log = logging.getLogger("cmbot.slack")
HANDLED_KEEP = 50  # message ts remembered per session, so a re-delivered reply is ignored


class Seen:
    """A bounded set of keys already handled (event ids), safe across threads."""

    def __init__(self, size: int = 10_000):
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


@dataclass(frozen=True)
class Place:
    """Where an interview runs: a DM, or a thread under a root message in a channel."""

    channel: str
    is_dm: bool


class Conductor:
    def __init__(self, desk: Desk, client: WebClient, default_lang: str):
        self.desk, self.client, self.default_lang = desk, client, default_lang
        self.seen = Seen()
        self._locales: dict[str, str] = {}

    # --- language ---------------------------------------------------------------------------

    def lang_for(self, user: str) -> str:
        """The user's saved choice, else their Slack locale, else `CMBOT_LANG`."""
        chosen = self.desk.store.get_pref(user, "lang")
        if chosen:
            return chosen
        if user not in self._locales:
            try:
                info = self.client.users_info(user=user, include_locale=True)
                locale = normalise_lang(info["user"].get("locale"))
            except (SlackApiError, KeyError, TypeError):
                locale = None
            self._locales[user] = locale or self.default_lang
        return self._locales[user]

    def set_lang(self, user: str, lang: str) -> None:
        self.desk.store.set_pref(user, "lang", lang)

    # --- talking to Slack -------------------------------------------------------------------

    def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                           thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))

    def post(self, session: Session, blocks: list[dict], text: str) -> None:
        """A message in the interview's DM or thread (reminders)."""
        self._post(session, blocks, text)

    def _post(self, session: Session, blocks: list[dict], text: str,
              state: str | None = None, **extra: Any) -> str | None:
        where = session.where
        try:
            reply = self.client.chat_postMessage(channel=where["channel"], blocks=blocks,
                                                 text=text, thread_ts=where.get("thread_ts"),
                                                 **extra)
        except SlackApiError as exc:
            log.warning("chat.postMessage failed: %s", exc.response.get("error"))
            return None
        ts = reply["ts"]
        if state:
            session.meta.setdefault("messages", {})[ts] = state
            session.meta["question_ts"] = ts
        return ts

    def _update(self, channel: str, ts: str, blocks: list[dict], text: str) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
        except SlackApiError as exc:
            log.warning("chat.update failed: %s", exc.response.get("error"))

    # --- finding an interview ---------------------------------------------------------------

    def find(self, channel: str, message_ts: str | None = None,
             thread_ts: str | None = None) -> str | None:
        """The session a message, thread or DM belongs to (None when there is none)."""
        def belongs(record: dict[str, Any]) -> bool:
            where, meta = record.get("where", {}), record.get("meta", {})
            if where.get("channel") != channel:
                return False
            if message_ts and message_ts in meta.get("messages", {}):
                return True
            if where.get("thread_ts"):
                return thread_ts is not None and thread_ts == where["thread_ts"]
            return message_ts is None or where.get("kind") == "dm"
        found = self.desk.store.sessions(belongs)
        return found[0]["id"] if found else None

    def may_answer(self, session: Session, user: str) -> bool:
        return session.team or session.started_by == user

    # --- starting ---------------------------------------------------------------------------

    def open_dm(self, user: str) -> str:
        return self.client.conversations_open(users=user)["channel"]["id"]

    def start(self, user: str, place: Place, team: bool = False,
              flow_id: str = "community_manager", origin: str | None = None,
              parent: Consultation | None = None) -> str | None:
        """Begin an interview (pre-filled from `parent` when re-running one); returns an error
        text for the starter, or None when started."""
        lang = self.lang_for(user)
        flow_id = parent.flow_id if parent else flow_id
        if flow_id not in self.desk.flows:
            return t("slack.unknown_flow", lang, flow=bk.esc(flow_id),
                     known=", ".join(f"`{f}`" for f in sorted(self.desk.flows)))
        if origin and self.desk.store.sessions(lambda r: r.get("meta", {}).get("origin") == origin):
            return None  # Slack delivered the same start twice
        if place.is_dm:
            running = self.desk.store.sessions(
                lambda r: r.get("where", {}).get("channel") == place.channel
                and r.get("started_by") == user)
            if running:
                with self.desk.session(running[0]["id"]) as session:
                    if session is not None:
                        self._post(session, [bk.section(t("slack.already_running_dm", session.lang))],
                                   t("slack.already_running_dm", session.lang))
                        self._ask(session)
                        self.desk.save(session)
                return None
        flow = self.desk.flow(flow_id)
        where: dict[str, Any] = {"kind": "dm" if place.is_dm else "channel", "channel": place.channel}
        interview = self.desk.interview(flow_id)
        session = interview.start(lang=lang, started_by=user, where=where,
                                  team=team and not place.is_dm)
        if parent:
            session.parent_id = parent.id
            interview.prefill(session, parent.answers, by=user)
        session.meta["origin"] = origin
        if place.is_dm:
            intro = t("slack.intro", lang, title=flow.title[lang], description=flow.description[lang])
            self._post(session, [bk.section(intro)], flow.title[lang])
        else:
            key = "slack.root_started_team" if session.team else "slack.root_started"
            text = t(key, lang, user=user, title=flow.title[lang])
            try:
                root = self.client.chat_postMessage(channel=place.channel, text=text,
                                                    blocks=[bk.section(text)])
            except SlackApiError as exc:
                log.warning("cannot start in %s: %s", place.channel, exc.response.get("error"))
                return t("slack.cannot_post", lang, channel=place.channel)
            where["thread_ts"] = root["ts"]
            session.meta["root_ts"] = root["ts"]
        with self.desk.lock(session.id):
            self._ask(session)
            self.desk.save(session)
        return None

    def resume(self, user: str, session_id: str, channel: str | None = None) -> None:
        """Re-post the current question of an interview (App Home or reminder "Resume")."""
        with self.desk.session(session_id) as session:
            if session is None:
                if channel:
                    self.ephemeral(channel, user, t("slack.over", self.lang_for(user)))
                return
            if not self.may_answer(session, user):
                if channel:
                    self.ephemeral(channel, user, t("slack.not_yours", self.lang_for(user),
                                                    user=session.started_by))
                return
            self._ask(session)
            self.desk.save(session)

    # --- asking -----------------------------------------------------------------------------

    def _ask(self, session: Session) -> None:
        interview = self.desk.interview(session.flow_id)
        question = interview.question(session)
        if question is None:
            return
        blocks = bk.question_blocks(interview, session,
                                    in_thread=bool(session.where.get("thread_ts")))
        self._post(session, blocks, question.prompt[session.lang], state=session.state)

    def _retire(self, session: Session, note: str) -> None:
        """The current question message loses its buttons and says what happened to it."""
        ts = session.meta.get("question_ts")
        if not ts:
            return
        state = session.meta.get("messages", {}).get(ts)
        flow = self.desk.flow(session.flow_id)
        prompt = flow.states[state].prompt[session.lang] if state in flow.states else ""
        self._update(session.where["channel"], ts,
                     [bk.section(f"*{prompt}*"), bk.context(note)], prompt or note)
        session.meta["question_ts"] = None

    # --- answering --------------------------------------------------------------------------

    def _gate(self, session: Session | None, user: str, channel: str,
              thread_ts: str | None) -> bool:
        """May this person act on this interview? Tell them privately when not. An interview
        whose flow changed since it started is shown again first, on the new flow."""
        lang = self.lang_for(user)
        if session is None:
            self.ephemeral(channel, user, t("slack.over", lang), thread_ts)
            return False
        if not self.may_answer(session, user):
            self.ephemeral(channel, user, t("slack.not_yours", lang, user=session.started_by),
                           thread_ts)
            return False
        if session.meta.pop("migrated_from", None) is not None:
            self._retire(session, f"_{t('slack.flow_updated_short', session.lang)}_")
            self._post(session, [bk.section(t("slack.flow_updated", session.lang))],
                       t("slack.flow_updated", session.lang))
            self._ask(session)
            self.desk.save(session)
            return False
        return True

    def click(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
              block_id: str, raw: Any, session_id: str | None = None) -> None:
        """An option button, menu choice or `cmbot_submit` on a question message."""
        session_id = session_id or self.find(channel, message_ts, thread_ts)
        if session_id is None:
            self.ephemeral(channel, user, t("slack.over", self.lang_for(user)), thread_ts)
            return
        with self.desk.session(session_id) as session:
            if not self._gate(session, user, channel, thread_ts):
                return
            assert session is not None
            if message_ts != session.meta.get("question_ts") or block_id != session.state:
                self.ephemeral(channel, user, t("slack.stale", session.lang), thread_ts)
                return
            self._answer(session, raw, user, by_click=True)

    def remember_ticks(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
                       state: str, picked: list[str]) -> None:
        """Checkbox changes on the current multi question, kept until `cmbot_submit`."""
        session_id = self.find(channel, message_ts, thread_ts)
        if session_id is None:
            return
        with self.desk.session(session_id) as session:
            if (session is None or not self.may_answer(session, user) or state != session.state
                    or message_ts != session.meta.get("question_ts")):
                return  # the click on the submit button will say what is wrong
            session.meta["ticks"] = {state: picked}
            self.desk.save(session)

    def reply(self, user: str, channel: str, text: str, ts: str, thread_ts: str | None) -> bool:
        """A plain message in a DM or an interview thread; True when it was for an interview."""
        session_id = self.find(channel, None, thread_ts)
        if session_id is None:
            return False
        with self.desk.session(session_id) as session:
            if session is None:
                return False
            handled = session.meta.setdefault("handled", [])
            if ts in handled:
                return True  # the same message delivered twice
            if not self._gate(session, user, channel, thread_ts):
                return True
            session.meta["handled"] = [*handled, ts][-HANDLED_KEEP:]
            question = self.desk.interview(session.flow_id).question(session)
            if question is None or question.kind not in ("text", "number"):
                self._post(session, [bk.context(t("slack.use_buttons", session.lang))],
                           t("slack.use_buttons", session.lang))
                self.desk.save(session)
                return True
            self._answer(session, text, user, by_click=False)
        return True

    def _answer(self, session: Session, raw: Any, user: str, by_click: bool) -> None:
        interview = self.desk.interview(session.flow_id)
        flow = interview.flow
        state = session.state
        if flow.states[state].kind == "confirm" and raw == "edit":
            self._retire(session, t("slack.answered_by", session.lang,
                                    answer=flow.label(state, "edit", session.lang), user=user))
            self._post(session, bk.edit_picker(interview, session), t("nav.edit_which", session.lang),
                       state=state)
            self.desk.save(session)
            return
        step = interview.answer(session, raw, by=user)
        if not step.ok:
            problem = t("slack.problem", session.lang,
                        problem=bk.esc(say_problem(step.problem, session.lang, flow, state)))
            if by_click:
                self.ephemeral(session.where["channel"], user, problem, session.where.get("thread_ts"))
            else:
                self._post(session, [bk.section(problem)], problem)
                self._ask(session)
                self.desk.save(session)
            return
        session.meta.pop("ticks", None)
        ts = session.meta.get("question_ts")
        if ts:
            value = session.answers[state].value if state in session.answers else raw
            self._update(session.where["channel"], ts,
                         bk.answered_blocks(flow, session, state, value, user),
                         bk.esc(describe(flow, state, value, session.lang)))
            session.meta["question_ts"] = None
        self._continue(session)

    def _continue(self, session: Session) -> None:
        """After a step: ask the next question, or post the recommendation."""
        if session.meta.get("panel"):
            from .panel import on_step  # panels build on this module, not the other way

            if on_step(self, session):
                return
        consultation = self.desk.save(session)
        if consultation is None:
            self._ask(session)
            self.desk.save(session)
            return
        report = self.desk.report(consultation)
        flow = self.desk.flow(consultation.flow_id)
        self._post(session, bk.recommendation_blocks(report, flow.outcome == "full"),
                   t("slack.recommendation_fallback", report["lang"],
                     placement=report["placement_label"], runner_up=report["runner_up_label"]),
                   metadata=bk.recommendation_metadata(report))
        root = session.meta.get("root_ts")
        if root:
            text = t("slack.root_done", report["lang"], id=consultation.id,
                     user=consultation.started_by, summary=bk.summary_text(report))
            self._update(session.where["channel"], root, [bk.section(text)], text)

    # --- navigation -------------------------------------------------------------------------

    def expire(self, session: Session) -> None:
        """Close an interview left idle too long, and say so where it ran."""
        lang = session.lang
        self.desk.interview(session.flow_id).cancel(session)
        self.desk.save(session)
        self._retire(session, f"_{t('slack.expired_short', lang)}_")
        self._post(session, [bk.section(t("slack.expired", lang))], t("slack.expired", lang))
        self._close_root(session, t("slack.root_expired", lang, user=session.started_by))

    def _close_root(self, session: Session, text: str) -> None:
        root = session.meta.get("root_ts")
        if root:
            self._update(session.where["channel"], root, [bk.section(text)], text)

    def navigate(self, user: str, channel: str, session_id: str, action: str,
                 thread_ts: str | None) -> None:
        """`cmbot_back`, `cmbot_restart` or `cmbot_cancel` on a question message."""
        with self.desk.session(session_id) as session:
            if not self._gate(session, user, channel, thread_ts):
                return
            assert session is not None
            interview = self.desk.interview(session.flow_id)
            lang = session.lang
            step = getattr(interview, action)(session)
            if not step.ok:
                self.ephemeral(channel, user, say_problem(step.problem, lang), thread_ts)
                return
            label = t(f"nav.{action}", lang)
            self._retire(session, f"_{label}_ — <@{user}>")
            if action == "cancel":
                self.desk.save(session)
                self._post(session, [bk.section(t("slack.cancelled", lang))], t("slack.cancelled", lang))
                self._close_root(session, t("slack.root_cancelled", lang, user=user))
                return
            if action == "restart":
                self._post(session, [bk.context(t("slack.restarted", lang))], t("slack.restarted", lang))
            self._ask(session)
            self.desk.save(session)

    def edit(self, user: str, channel: str, session_id: str, message_ts: str, state_id: str,
             thread_ts: str | None) -> None:
        """The question picked from the confirm step's "change an answer" menu."""
        with self.desk.session(session_id) as session:
            if not self._gate(session, user, channel, thread_ts):
                return
            assert session is not None
            if message_ts != session.meta.get("question_ts"):
                self.ephemeral(channel, user, t("slack.stale", session.lang), thread_ts)
                return
            step = self.desk.interview(session.flow_id).edit(session, state_id)
            if not step.ok:
                self.ephemeral(channel, user, say_problem(step.problem, session.lang), thread_ts)
                return
            self._retire(session, f"_{t('nav.edit_which', session.lang)}_ — <@{user}>")
            self._ask(session)
            self.desk.save(session)
