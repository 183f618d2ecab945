"""The interview in Slack: use cases that decide what a step does and return it as a `Plan`.

Each entry point finds its session through the store's indexes (by DM, by channel thread, by
person), loads it under its lock, decides (moving the shared machine) and hands the plan to the
courier, which saves the step before it talks to Slack (and notes what was posted after). The
listeners call these from the per-interview lanes, after Slack was acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from ..advisor.explain import inline
from ..consultation import Consultation
from ..i18n import t
from ..interview import DONE, Session
from ..interview.wording import describe, say_problem
from ..service import Desk
from . import access
from . import blocks as bk
from .courier import Courier, Defer, Failure, slack_error
from .effects import Plan, Post, Tell, Update, told
from .locales import Locales
from .state import SlackState
from .where import Start, Where

log = logging.getLogger("cmbot.slack")
# Called after each accepted answer with the session and the updates tidying the answered
# question; returns the step's plan when it takes the session over, None to let it go on.
AfterAnswer = Callable[["Conductor", Session, list[Update]], "Plan | None"]
# Called when an interview ends unanswered (cancelled, or closed for idleness), once it is
# forgotten (`Plan.left`): a panel goes on without the member.
AfterLeave = Callable[["Conductor", Session], None]


class Conductor:
    def __init__(self, desk: Desk, client: WebClient, default_lang: str,
                 after_answer: AfterAnswer | None = None, after_leave: AfterLeave | None = None,
                 defer: Defer | None = None):
        self.desk, self.client = desk, client
        self.after_answer = after_answer  # a plan of its own for some sessions (panels)
        self.after_leave = after_leave  # a panel says who stopped answering
        self.locales = Locales(client, desk.language_of, default_lang)
        self.courier = Courier(desk, client, defer)

    # --- people -----------------------------------------------------------------------------

    def lang_for(self, user: str) -> str:
        return self.locales.of(user)

    def set_lang(self, user: str, lang: str) -> None:
        self.desk.set_language(user, lang)

    def tell(self, user: str, text: str, channel: str | None = None,
             thread_ts: str | None = None) -> None:
        self.courier.tell(Tell(user, text, channel, thread_ts))

    def may_answer(self, session: Session, user: str) -> bool:
        """The starter; in a team interview, any member of its channel."""
        if session.started_by == user:
            return True
        return session.team and user in access.channel_members(self.client, session.where.channel)

    # --- running one step -------------------------------------------------------------------

    def find(self, channel: str, thread_ts: str | None = None) -> str | None:
        """The session a message belongs to: its channel thread, or its DM."""
        return self.desk.session_at(channel, thread_ts)

    def step(self, session_id: str, user: str, decide: Any, *, respond: Any = None) -> None:
        """Load, decide, carry out: the shape of every step on an existing interview."""
        with self.desk.hold(session_id) as held:
            session = held.session
            state = SlackState.of(session, moved=held.moved_from is not None) if session else None
            plan = decide(session, state)
            carried = self.courier.carry(plan, session, state, actor=user, respond=respond)
            if carried and plan.left and session is not None:
                self._tell_panel_left(session)

    def _gate(self, session: Session | None, state: SlackState | None, user: str,
              channel: str, thread_ts: str | None) -> Plan | None:
        """A plan instead of the step when this person may not act on this interview now (told
        privately), or when the interview must first catch up (`_catch_up`)."""
        if session is None or state is None:
            return told(user, t("slack.over", self.lang_for(user)), channel, thread_ts)
        if state.pending(session) and self._adopt(session, state) and session.state == DONE:
            # its result was shown after all: this click, on an older message, is not current
            return Plan(forget=True).then(*told(user, t("slack.stale", session.lang), channel,
                                                thread_ts).effects)
        if session.state != DONE and not self.may_answer(session, user):
            return told(user, t("slack.not_yours", self.lang_for(user), user=session.started_by),
                        channel, thread_ts)
        caught_up = self._catch_up(session, state)
        if caught_up is None and state.pending(session):
            return Plan().then(self.ask(session))
        return caught_up

    def _catch_up(self, session: Session, state: SlackState) -> Plan | None:
        """What an interview must show before anything else, or None: the result of a finished
        one (never posted, or posted by a process that died before forgetting it), or the move
        onto a new version of its flow. (What a process that died had posted without noting it
        is adopted first, by the caller: `_adopt`.)"""
        if session.state == DONE:
            return self._result(session, state)
        if state.moved:
            return self._moved(session, state)
        return None

    def _moved(self, session: Session, state: SlackState) -> Plan:
        """The service moved the interview onto a new version of its flow: the question on
        screen is retired, the person told, and the current question asked."""
        lang = session.lang
        return Plan(save=True).then(
            *self.retire(session, state, f"_{t('slack.flow_updated_short', lang)}_"),
            Post([bk.section(t("slack.flow_updated", lang))], t("slack.flow_updated", lang)),
            self.ask(session))

    # --- starting ---------------------------------------------------------------------------

    def start(self, user: str, where: Where, start: Start, origin: str | None = None,
              parent: Consultation | None = None, respond: Any = None) -> bool:
        """Begin an interview (pre-filled from `parent` when re-running one); True when a new
        one runs. A start Slack delivered twice (same `origin`) begins one interview."""
        desk = self.desk
        if origin and not desk.claim(f"start:{origin}"):
            return False
        try:
            # Two starts in one DM at once (App Home's button and a typed `start`, on two
            # replicas even) begin one interview: the second finds the first and shows it.
            with desk.lock(f"dm:{where.channel}") if where.is_dm else nullcontext():
                started = self._start(user, where, start, parent, respond)
        except BaseException:
            if origin:
                desk.release(f"start:{origin}")
            raise
        if origin:
            desk.done(f"start:{origin}")
        return started

    def _start(self, user: str, where: Where, start: Start, parent: Consultation | None,
               respond: Any) -> bool:
        lang = self.lang_for(user)
        flow_id = parent.flow_id if parent else start.flow_id
        if flow_id not in self.desk.flows:
            text = t("slack.unknown_flow", lang, flow=bk.esc(flow_id[:80]),
                     known=", ".join(f"`{f}`" for f in sorted(self.desk.flows)))
            self.courier.carry(told(user, text, where.channel), respond=respond)
            return False
        if where.is_dm:
            running = self.find(where.channel)
            if running and self._show_running(running, user, respond):
                return False
        session = self.desk.start(flow_id, parent=parent, lang=lang, started_by=user, where=where,
                                  team=start.team and not where.is_dm)
        flow = self.desk.flow(flow_id)
        plan = Plan(save=True)
        if where.is_dm:
            intro = t("slack.intro", lang, title=flow.title[lang], description=flow.description[lang])
            plan.then(Post([bk.section(intro)], flow.title[lang]))
        else:
            key = "slack.root_started_team" if session.team else "slack.root_started"
            text = t(key, lang, user=user, title=flow.title[lang])
            plan.then(Post([bk.section(text)], text, root=True))
        plan.then(self.ask(session))
        state = SlackState()
        with self.desk.lock(session.id):
            self.courier.carry(plan, session, state, actor=user, respond=respond)
            if not where.is_dm and state.root_ts is None:
                self.desk.forget(session.id)  # no thread to run it in: nothing to recover
                return False
        return True

    def start_in_dm(self, user: str, origin: str | None = None) -> bool:
        """Begin an interview in the person's DM with the bot (App Home's button, the start
        modal); when Slack will not open that DM, they are told privately why."""
        try:
            dm = self.courier.open_dm(user)
        except Failure as exc:
            self.tell(user, t("door.no_dm", self.lang_for(user), error=slack_error(exc)))
            return False
        return self.start(user, Where.dm(dm), Start(), origin=origin)

    def _show_running(self, session_id: str, user: str, respond: Any) -> bool:
        """`start` in a DM that already runs an interview: show where it is. False when there
        is none after all (gone, or finished and shown just before a replica died): a new one
        may begin."""
        running = True

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            nonlocal running
            if session is None or state is None:
                running = False
                return Plan()
            if state.pending(session) and self._adopt(session, state) and session.state == DONE:
                running = False
                return Plan(forget=True)
            caught_up = self._catch_up(session, state)
            if caught_up is not None:
                return caught_up
            text = t("slack.already_running_dm", session.lang)
            return Plan().then(Post([bk.section(text)], text), self.ask(session))
        self.step(session_id, user, decide, respond=respond)
        return running

    def resume(self, user: str, session_id: str, channel: str | None = None) -> None:
        """Show the current question of an interview again (App Home or reminder "Resume")."""
        def decide(session: Session | None, state: SlackState | None) -> Plan:
            refused = self._gate(session, state, user, channel or "", None)
            if refused is not None or session is None or state is None:
                return refused if channel or refused is None else Plan()
            return Plan().then(self.ask(session))
        self.step(session_id, user, decide)

    # --- asking -----------------------------------------------------------------------------

    def ask(self, session: Session) -> Post:
        interview = self.desk.interview(session.flow_id)
        question = interview.question(session)
        assert question is not None
        in_thread = bool(session.where.thread_ts)
        return Post(bk.question_blocks(interview, session, in_thread=in_thread),
                    question.prompt[session.lang], asks=session.state)

    def retire(self, session: Session, state: SlackState, note: str) -> list[Update]:
        """The question on screen loses its buttons and says what happened to it."""
        if not state.asked_ts:
            return []
        flow = self.desk.flow(session.flow_id)
        asked = state.asked
        prompt = flow.states[asked].prompt[session.lang] if asked in flow.states else ""
        update = Update(state.asked_ts, [bk.section(f"*{prompt}*"), bk.context(note)], prompt or note)
        state.asked, state.asked_ts = None, None
        return [update]

    def _result(self, session: Session, state: SlackState) -> Plan:
        """The recommendation of a finished session, posted, then the session forgotten."""
        consultation = self.desk.consultation(session.id) or self.desk.conclude(session)
        report = self.desk.report(consultation)
        flow = self.desk.flow(consultation.flow_id)
        plan = Plan(consultation=consultation, forget=True).then(Post(
            bk.recommendation_blocks(report, flow.full_advice),
            t("slack.recommendation_fallback", report.lang,
              placement=inline(report.advice.placement.label),
              runner_up=inline(report.advice.runner_up.label)),
            metadata=bk.recommendation_metadata(report)))
        if state.root_ts:
            text = t("slack.root_done", report.lang, id=consultation.id,
                     user=consultation.started_by, summary=bk.summary_text(report))
            plan.then(Update(state.root_ts, [bk.section(text)], text))
        return plan

    # --- answering --------------------------------------------------------------------------

    def click(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
              block_id: str, value: Any) -> None:
        """An option button or menu choice (`value`) under question `block_id`."""
        self._on_question(user, channel, message_ts, thread_ts, block_id, None,
                          lambda session, state: value)

    def submit(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
               ticks: dict[str, list[str] | None], session_id: str | None = None) -> None:
        """The `cmbot_submit` of a multi question: the ticks per block the payload carried, or
        the ticks remembered from its change actions when it carried none."""
        def answer(session: Session, state: SlackState) -> Any:
            ticked = ticks.get(session.state)
            return ticked if ticked is not None else state.ticks.get(session.state, [])
        self._on_question(user, channel, message_ts, thread_ts, None, session_id, answer)

    def _on_question(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
                     block_id: str | None, session_id: str | None,
                     answer: Callable[[Session, SlackState], Any]) -> None:
        """An answer given on a question message (`block_id`: the question it was given
        under, None for a submit, whose message can only be the question's): counted only on
        the question on screen."""
        session_id = self._session_or_over(user, channel, thread_ts, session_id)
        if session_id is None:
            return

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            refused = self._gate(session, state, user, channel, thread_ts)
            if refused is not None:
                return refused
            assert session is not None and state is not None
            if message_ts != state.asked_ts or block_id not in (None, session.state):
                return told(user, t("slack.stale", session.lang), channel, thread_ts)
            return self._answer(session, state, answer(session, state), user, by_click=True)
        self.step(session_id, user, decide)

    def _session_or_over(self, user: str, channel: str, thread_ts: str | None,
                         session_id: str | None = None) -> str | None:
        """The interview a click is for (the one its button names, else the one running
        there), or None, the person told it is over."""
        found = session_id or self.find(channel, thread_ts)
        if found is None:
            self.tell(user, t("slack.over", self.lang_for(user)), channel, thread_ts)
        return found

    def remember_ticks(self, user: str, channel: str, message_ts: str, thread_ts: str | None,
                       state_id: str, picked: list[str]) -> None:
        """Checkbox changes on the current multi question, kept until `cmbot_submit`."""
        session_id = self.find(channel, thread_ts)
        if session_id is None:
            return

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            if (session is None or state is None or (session.started_by != user and not session.team)
                    or state.moved or state_id != session.state or message_ts != state.asked_ts):
                return Plan()  # the click on the submit button will say what is wrong
            state.ticks = {state_id: picked}
            return Plan(save=True)
        self.step(session_id, user, decide)

    def reply(self, user: str, channel: str, text: str, ts: str, thread_ts: str | None) -> bool:
        """A plain message in a DM or an interview thread; True when it was for an interview."""
        session_id = self.find(channel, thread_ts)
        if session_id is None:
            return False

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            if session is None or state is None:
                return Plan()
            if not state.handle(ts):
                return Plan()  # the same message delivered twice
            refused = self._gate(session, state, user, channel, thread_ts)
            if refused is not None:
                return refused
            question = self.desk.interview(session.flow_id).question(session)
            if question is None or question.kind not in ("text", "number"):
                hint = t("slack.use_buttons", session.lang)
                return Plan(save=True).then(Post([bk.context(hint)], hint))
            return self._answer(session, state, text, user, by_click=False)
        self.step(session_id, user, decide)
        return True

    def _answer(self, session: Session, state: SlackState, raw: Any, user: str,
                by_click: bool) -> Plan:
        interview = self.desk.interview(session.flow_id)
        flow = interview.flow
        asked = session.state
        if flow.states[asked].kind == "confirm" and raw == "edit":
            tidy = self.retire(session, state, t("slack.answered_by", session.lang,
                                                  answer=flow.label(asked, "edit", session.lang),
                                                  user=user))
            picker = Post(bk.edit_picker(interview, session), t("nav.edit_which", session.lang),
                          asks=asked)
            return Plan().then(picker, *tidy)
        step = interview.answer(session, raw, by=user)
        if not step.ok:
            problem = t("slack.problem", session.lang,
                        problem=bk.esc(say_problem(step.problem, session.lang, flow, asked)))
            if by_click:
                return told(user, problem)
            return Plan(save=True).then(Post([bk.section(problem)], problem), self.ask(session))
        state.ticks = {}
        tidy: list[Update] = []
        if state.asked_ts:
            value = session.answers[asked].value if asked in session.answers else raw
            tidy.append(Update(state.asked_ts, bk.answered_blocks(flow, session, asked, value, user),
                               bk.esc(describe(flow, asked, value, session.lang))))
            state.asked, state.asked_ts = None, None
        taken = self.after_answer(self, session, tidy) if self.after_answer else None
        if taken is not None:
            return taken
        if session.state == DONE:
            plan = self._result(session, state)
            plan.save = True
            return plan.then(*tidy)
        return Plan(save=True).then(self.ask(session), *tidy)  # the next question first

    # --- navigation -------------------------------------------------------------------------

    def navigate(self, user: str, channel: str, session_id: str | None, action: str,
                 thread_ts: str | None) -> None:
        """`cmbot_back`, `cmbot_restart` or `cmbot_cancel` on a question message (or a
        reminder's cancel, which names its interview)."""
        session_id = self._session_or_over(user, channel, thread_ts, session_id)
        if session_id is None:
            return

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            refused = self._gate(session, state, user, channel, thread_ts)
            if refused is not None and not (action == "cancel" and state and state.pending(session)
                                            and session and session.state != DONE):
                return refused
            assert session is not None and state is not None
            return self._navigate(session, state, user, action)
        self.step(session_id, user, decide)

    def _navigate(self, session: Session, state: SlackState, user: str, action: str) -> Plan:
        interview = self.desk.interview(session.flow_id)
        lang = session.lang
        step = {"back": interview.back, "restart": interview.restart,
                "cancel": interview.cancel}[action](session)
        if not step.ok:
            return told(user, say_problem(step.problem, lang))
        tidy = self.retire(session, state, f"_{t(f'nav.{action}', lang)}_ — <@{user}>")
        if action == "cancel":
            plan = Plan(left=True).then(
                *tidy, Post([bk.section(t("slack.cancelled", lang))], t("slack.cancelled", lang)))
            return plan.then(*self._close_root(state, t("slack.root_cancelled", lang, user=user)))
        plan = Plan(save=True)
        if action == "restart":
            plan.then(Post([bk.context(t("slack.restarted", lang))], t("slack.restarted", lang)))
        return plan.then(self.ask(session), *tidy)

    def edit(self, user: str, channel: str, message_ts: str, state_id: str,
             thread_ts: str | None) -> None:
        """The question picked from the confirm step's "change an answer" menu."""
        session_id = self._session_or_over(user, channel, thread_ts)
        if session_id is None:
            return

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            refused = self._gate(session, state, user, channel, thread_ts)
            if refused is not None:
                return refused
            assert session is not None and state is not None
            if message_ts != state.asked_ts:
                return told(user, t("slack.stale", session.lang), channel, thread_ts)
            step = self.desk.interview(session.flow_id).edit(session, state_id)
            if not step.ok:
                return told(user, say_problem(step.problem, session.lang), channel, thread_ts)
            tidy = self.retire(session, state, f"_{t('nav.edit_which', session.lang)}_ — <@{user}>")
            return Plan(save=True).then(self.ask(session), *tidy)
        self.step(session_id, user, decide)

    def _tell_panel_left(self, session: Session) -> None:
        """A member of a panel stopped their interview (cancelled, or idle too long): the
        panel goes on without them (`after_leave`)."""
        if self.after_leave is not None:
            self.after_leave(self, session)

    @staticmethod
    def _close_root(state: SlackState, text: str) -> list[Update]:
        return [Update(state.root_ts, [bk.section(text)], text)] if state.root_ts else []

    # --- housekeeping (the sweep) -----------------------------------------------------------

    def expire(self, session: Session, state: SlackState) -> Plan:
        """Close an interview left idle too long, and say so where it ran."""
        lang = session.lang
        self.desk.interview(session.flow_id).cancel(session)
        tidy = self.retire(session, state, f"_{t('slack.expired_short', lang)}_")
        return Plan(left=True).then(
            *tidy, Post([bk.section(t("slack.expired", lang))], t("slack.expired", lang)),
            *self._close_root(state, t("slack.root_expired", lang, user=session.started_by)))

    def remind(self, session: Session, state: SlackState) -> Plan:
        lang = session.lang
        text = t("slack.reminder", lang, user=session.started_by,
                 title=self.desk.flow(session.flow_id).title[lang])
        blocks = [bk.section(text), {"type": "actions", "block_id": "cmbot_reminder", "elements": [
            bk.button(t("slack.home_resume", lang), "cmbot_resume", session.id, "primary"),
            bk.button(t("nav.cancel", lang), "cmbot_cancel", session.id, "danger")]}]
        state.reminded = session.updated_at
        # A question of an older version of the flow no longer takes answers: Resume asks anew.
        tidy = self.retire(session, state, f"_{t('slack.flow_updated_short', lang)}_") \
            if state.moved else []
        return Plan(save=True).then(Post(blocks, text), *tidy)  # saved first: never a second reminder

    def recover(self, session_id: str) -> bool:
        """Post what a session is waiting for (its question, its result) if it was never
        posted; True when something was. A question posted just before a crash, whose message
        was not noted yet, is found in the conversation and adopted rather than posted twice."""
        posted = False

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            nonlocal posted
            if session is None or state is None or not state.pending(session):
                return Plan()
            if session.where.thread_ts is None and not session.where.is_dm:
                return Plan(forget=True)  # a channel interview whose root was never posted
            if self._adopt(session, state):
                return Plan(forget=True) if session.state == DONE else Plan(save=True, adopted=True)
            posted = True
            return self._result(session, state) if session.state == DONE else Plan().then(
                self.ask(session))
        self.step(session_id, "", decide)
        return posted

    def _adopt(self, session: Session, state: SlackState) -> bool:
        """Whether what a pending session waits for (its current question, its result) is in
        its conversation after all: posted by a process that died (or lost Slack's answer)
        before noting it. A question found is noted as the one on screen, so a click on it
        counts and a click on any older message is stale; nothing is posted twice."""
        shown = self._on_screen(session, session.where)
        if shown is None:
            return False
        if session.state != DONE:
            state.shown(session.state, shown)
        return True

    def _on_screen(self, session: Session, where: Where) -> str | None:
        """The ts of the latest message in the interview's place that shows its current
        question (or its result), None when there is none (or Slack cannot say)."""
        try:
            if where.thread_ts:
                messages = self.client.conversations_replies(
                    channel=where.channel, ts=where.thread_ts, limit=200)["messages"][::-1]
            else:
                messages = self.client.conversations_history(channel=where.channel,
                                                              limit=20)["messages"]
        except Failure as exc:
            log.info("could not read %s to recover %s: %s", where.channel, session.id,
                     slack_error(exc))
            return None
        began = datetime.fromisoformat(session.created_at).timestamp()
        for message in messages[:20]:
            if float(message.get("ts") or 0) < began:
                break  # older than this interview: an earlier one's messages
            for block in message.get("blocks") or []:
                if session.state == DONE and block.get("block_id") == "cmbot_result" and any(
                        e.get("value") == session.id for e in block.get("elements") or []):
                    return str(message["ts"])
                if block.get("block_id") == session.state:
                    return str(message["ts"])
        return None
