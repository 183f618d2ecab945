"""Panels in Slack: `/cmbot panel @a @b @c` in a channel.

A root message in the channel lists the members and who has answered (never what). Each member
answers in a DM, in their own language: the starter first, with the organisation facts and
their own view; then every other member, asked only for their opinions (the facts are filled in
from the starter's). When everyone has answered — or when the starter closes the panel early,
once at least two have — the merged advice is posted in the root message's thread, in the
starter's language, with the `cmbot_panel_result` metadata.

Each change to the panel is a step of its own (`_step`): load the hub under its lock, decide a
`Plan`, and let the courier carry it out — the hub saved before the root's progress or the
result shows it, exactly as an interview's step is saved before its question is posted.

Lock order: a member's session, then the hub; closing or cancelling releases the hub before
touching the sessions it ends, so the two never wait on each other. The one session lock taken
under the hub's is a member's new interview (`Begin`), which nobody else can know of yet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from .. import panel_hub
from ..i18n import join, t
from ..interview import Session
from ..panel_hub import Hub
from ..report import Report
from . import access
from . import blocks as bk
from .conversation import Conductor
from .courier import Failure, slack_error
from .effects import Begin, Direct, Plan, Post, Update, told
from .state import SlackState
from .where import Where, is_dm

log = logging.getLogger("cmbot.slack")
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAX_MEMBERS = 12
MIN_TO_CLOSE = 2


def parse_members(args: list[str]) -> list[str] | None:
    """The user ids mentioned; None if a word is not a mention."""
    found = [MENTION.match(word) for word in args]
    return [m.group(1) for m in found if m] if all(found) else None


# --- the root message ------------------------------------------------------------------------


def _status_line(hub: Hub, member: str, lang: str, outside: bool) -> str:
    if member in hub.answers:
        key = "answered"
    elif member in hub.left:
        key = "left"
    elif not hub.live:
        key = "absent"
    elif member in hub.sessions:
        key = "answering"
    else:
        key = "waiting"
    line = t(f"panel.slack.status.{key}", lang, member=f"<@{member}>", starter=f"<@{hub.starter}>")
    return line + (t("panel.slack.status.outside", lang) if outside else "")


def root_blocks(hub: Hub, in_channel: set[str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """The root message. `in_channel`: the channel's members, when known, so a member who is not
    (or no longer) in it is said: they would not see the thread."""
    lang = hub.lang
    members = join([f"<@{m}>" for m in hub.members], lang)
    head = t(f"panel.slack.root.{hub.status}", lang, starter=f"<@{hub.starter}>", members=members,
             count=len(hub.answered), total=len(hub.members))
    progress = "\n".join(_status_line(hub, m, lang, bool(in_channel) and m not in in_channel)
                         for m in hub.members)
    blocks = [bk.section(head), bk.section(progress)]
    if hub.live:
        blocks.append({"type": "actions", "block_id": "cmbot_panel", "elements": [
            bk.button(t("panel.slack.close", lang), "cmbot_panel_close", hub.id, "primary"),
            bk.button(t("panel.slack.cancel", lang), "cmbot_panel_cancel", hub.id, "danger")]})
    return blocks, head


def _root(conductor: Conductor, hub: Hub) -> Update:
    """The root message rewritten to show the panel as it is saved with the same step."""
    blocks, text = root_blocks(hub, access.channel_members(conductor.client, hub.where.channel))
    return Update(hub.where.thread_ts, blocks, text, to=hub.where)


def _step(conductor: Conductor, hub_id: str, decide: Callable[[Hub | None], Plan]) -> bool:
    """Load, decide, carry out — a panel's step, under its lock, as `Conductor.step` is an
    interview's: the courier saves the hub before the root or the result shows it. False when
    the storage refused the save (nothing was said)."""
    with conductor.desk.lock(f"panel:{hub_id}"):
        return conductor.courier.carry(decide(panel_hub.load(conductor.desk, hub_id)))


# --- the result -----------------------------------------------------------------------------


def panel_blocks(report: Report) -> list[dict[str, Any]]:
    """The members' table and the disagreements, as a facilitator shows them first."""
    lang, panel = report.lang, report.panel
    assert panel is not None
    members = [f"<@{m}>" if re.fullmatch(r"[UW][A-Z0-9]+", m) else bk.esc(m)
               for m in panel.members]
    shown = dict(zip(panel.members, members, strict=True))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": bk.plain(t("panel.heading", lang), bk.HEADER_MAX)},
        bk.section(t("panel.members_line", lang, members=join(members, lang),
                     starter=shown.get(panel.starter, bk.esc(panel.starter)))),
        bk.context("\n".join(f"• {line}" for line in panel.rule)),
    ]
    rows = []
    for row in panel.table:
        mark = f" _({t('panel.differs', lang)})_" if row.divergent else ""
        answers = " · ".join(f"{shown[m]}: {bk.esc(row.answers[m])}" for m in panel.members)
        rows.append(f"*{bk.esc(row.question)}*{mark}\n{answers}\n"
                    f"→ *{t('panel.col_panel', lang)}*: {bk.esc(row.merged)}")
    alone = " · ".join(f"{shown[m]}: {panel.alone[m].label}" for m in panel.members)
    rows.append(f"*{t('panel.alone_row', lang)}*\n{alone}")
    blocks.append(bk.section(f"*{t('panel.table_heading', lang)}*"))
    blocks += [bk.section(row) for row in rows]
    found = [f":warning: *{d.title}*\n{d.explanation}" for d in panel.disagreements]
    blocks.append(bk.section(f"*{t('panel.disagreements_heading', lang)}*\n"
                             + ("\n\n".join(found) or t("panel.no_disagreement", lang))))
    return blocks


def result_metadata(report: Report) -> dict[str, Any]:
    advice, panel = report.advice, report.panel
    assert panel is not None
    return {
        "event_type": "cmbot_panel_result",
        "event_payload": {
            "consultation_id": report.consultation_id,
            "members": list(panel.members),
            "placement": advice.placement.place,
            "runner_up": advice.runner_up.place,
            "budget_owner": advice.funding.owner if advice.funding
            else report.answers.get("budget_owner"),
            "divergences": list(panel.divergences),
            "risks": report.risk_ids,
            "reframed": [{"from": r.objective, "to": r.to} for r in advice.reframed],
        },
    }


def _merged_result(conductor: Conductor, hub: Hub, finisher: str | None = None) -> Plan:
    """Merged (archived, then the hub saved as done), then said in the root's thread, on the
    root, and to every member who answered — but the one whose answer completed the panel
    (`finisher`), whose thanks say it."""
    consultation = panel_hub.conclude(conductor.desk, hub)
    report = conductor.desk.report(consultation, hub.lang)
    blocks = panel_blocks(report) + bk.recommendation_blocks(report, full=True)
    plan = Plan(consultation=consultation, panel=hub).then(
        Post(blocks[:50], bk.summary_text(report), metadata=result_metadata(report), to=hub.where),
        _root(conductor, hub))
    for member in hub.answered:
        if member != finisher:
            lang = hub.langs.get(member, hub.lang)
            plan.then(Direct(member, t("panel.slack.result_posted", lang,
                                       channel=f"<#{hub.where.channel}>", id=consultation.id)))
    return plan


# --- members' interviews --------------------------------------------------------------------


def _begin_member(conductor: Conductor, hub: Hub, member: str) -> Begin:
    """The member's DM interview (noted in the hub); anyone but the starter starts past the
    facts."""
    desk = conductor.desk
    lang = conductor.lang_for(member)
    hub.langs[member] = lang
    dm = hub.dms.get(member) or conductor.courier.open_dm(member)  # older hubs: no DMs noted
    session = desk.start(hub.flow_id, lang=lang, started_by=member, where=Where.dm(dm))
    key = "intro_starter" if member == hub.starter else "intro_member"
    intro = t(f"panel.slack.{key}", lang, starter=f"<@{hub.starter}>",
              channel=f"<#{hub.where.channel}>", count=len(hub.members) - 1)
    if member != hub.starter:
        desk.interview(hub.flow_id).prefill(session, hub.organisation, by=hub.starter)
    hub.sessions[member] = session.id
    return Begin(session, Plan(save=True).then(Post([bk.section(intro)], intro),
                                               conductor.ask(session)), SlackState(panel=hub.id))


def _skip_facts(conductor: Conductor, hub_id: str, session: Session) -> None:
    """A member other than the starter is never asked an organisation fact: when the next
    question is one, the starter's answer is filled in, and the interview moves on to the next
    opinion. (The facts the flow asks first were filled in when the interview began.)"""
    desk = conductor.desk
    interview = desk.interview(session.flow_id)
    known = panel_hub.facts(desk, session.flow_id)
    question = interview.question(session)
    if question is None or question.id not in known:
        return  # an opinion next: nothing to read
    hub = panel_hub.load(desk, hub_id)
    if hub is None or session.started_by == hub.starter:
        return
    while (question := interview.question(session)) is not None and question.id in known \
            and question.id in hub.organisation:
        if not interview.answer(session, hub.organisation[question.id], by=hub.starter).ok:
            return


def after_answer(conductor: Conductor, session: Session, tidy: list[Update]) -> Plan | None:
    """After each answer of a panel member's interview: None to let the interview ask its next
    question (past the facts the starter gave), or, once the member finished, the plan that
    thanks them — once their answers are in the hub (its own step, saved first: the member's
    session is forgotten only then)."""
    hub_id = SlackState.of(session).panel
    if not hub_id:
        return None
    if not session.finished:
        _skip_facts(conductor, hub_id, session)
        return None
    member, lang = session.started_by, session.lang
    outcome: Hub | None = None  # the panel with the member's answers in it; None: too late

    def decide(hub: Hub | None) -> Plan:
        nonlocal outcome
        if hub is None or not hub.live or member not in hub.members:
            return Plan()
        outcome = hub
        panel_hub.record_answers(conductor.desk, hub, member, session.values())
        plan = Plan(panel=hub)
        if member == hub.starter:  # the facts are known: everyone else may answer now
            plan.then(*(_begin_member(conductor, hub, m) for m in hub.pending))
        if hub.waiting_for:
            return plan.then(_root(conductor, hub))
        return _merged_result(conductor, hub, finisher=member)
    if not _step(conductor, hub_id, decide):
        return told(member, t("door.not_saved", lang))
    text = _thanks(outcome, lang)
    return Plan(forget=True).then(Post([bk.section(text)], text), *tidy)


def _thanks(hub: Hub | None, lang: str) -> str:
    """What a member who finished is told: too late (the panel was over), the result (their
    answer completed it), or that it will come."""
    if hub is None:
        return t("panel.slack.too_late", lang)
    channel = f"<#{hub.where.channel}>"
    if hub.consultation_id:
        return t("panel.slack.thanks_last", lang, channel=channel, id=hub.consultation_id)
    return t("panel.slack.thanks", lang, channel=channel)


def after_leave(conductor: Conductor, session: Session) -> None:
    """A member's interview ended without answers (they cancelled it, or it was idle too long).
    The root says so, and the panel goes on without them; it ends when the starter leaves
    before describing the organisation, or when nobody is left to wait for — with the result
    if at least two have answered."""
    hub_id = SlackState.of(session).panel
    if not hub_id:
        return
    member = session.started_by

    def decide(hub: Hub | None) -> Plan:
        if hub is None or not hub.live or hub.sessions.get(member) != session.id:
            return Plan()
        hub.sessions.pop(member)
        hub.left.append(member)
        if hub.waiting_for and member != hub.starter:
            return Plan(panel=hub).then(_root(conductor, hub))
        if hub.status == panel_hub.OPEN and len(hub.answered) >= MIN_TO_CLOSE:
            return _merged_result(conductor, hub)
        hub.end()
        return Plan(panel=hub).then(_root(conductor, hub))
    _step(conductor, hub_id, decide)


# --- the starter's commands -----------------------------------------------------------------


def refusal(channel: str | None, members: list[str] | None, lang: str) -> str | None:
    """Why a panel cannot start there with those members (the starter first), or None."""
    if not channel or is_dm(channel):
        return t("panel.slack.channel_only", lang)
    if members is None or len(members) < 2:
        return t("panel.slack.usage", lang)
    if len(members) > MAX_MEMBERS:
        return t("panel.slack.too_many", lang, max=MAX_MEMBERS)
    return None


def with_starter(starter: str, picked: list[str]) -> list[str]:
    """The starter, then everyone picked once, in order."""
    return [starter] + [m for i, m in enumerate(picked) if m != starter and m not in picked[:i]]


def command(conductor: Conductor, starter: str, channel: str, args: list[str]) -> str | None:
    """`/cmbot panel @a @b …`: a panel of the people mentioned. An error text, or None."""
    mentioned = parse_members(args)
    return start(conductor, starter, channel,
                 None if mentioned is None else with_starter(starter, mentioned))


def start(conductor: Conductor, starter: str, channel: str, members: list[str] | None
          ) -> str | None:
    """The root message in `channel`, then the starter's DM. An error text, or None."""
    lang = conductor.lang_for(starter)
    problem = refusal(channel, members, lang)
    if problem is not None or members is None:
        return problem
    dms: dict[str, str] = {}
    for member in members:  # each member's DM, known before anything is posted or saved
        try:
            dms[member] = conductor.courier.open_dm(member)
        except Failure as exc:
            log.warning("panel: cannot open a DM with %s: %s", member, slack_error(exc))
            return t("panel.slack.unreachable", lang, member=f"<@{member}>",
                     error=slack_error(exc))
    hub = Hub(starter=starter, members=members, lang=lang, where=Where.in_channel(channel),
              id=conductor.desk.fresh_id(), dms=dms)  # the id: see `panel_hub.conclude`
    try:
        root_ts = conductor.courier.post_outside(hub.where, Post(*root_blocks(hub)))
    except Failure as exc:
        error = slack_error(exc)
        log.warning("panel: cannot post in %s: %s", channel, error)
        return t("door.archived" if error == "is_archived" else "slack.cannot_post", lang,
                 channel=channel)
    hub.where = hub.where.in_thread(root_ts)
    with conductor.desk.lock(f"panel:{hub.id}"):
        plan = Plan(panel=hub).then(_begin_member(conductor, hub, starter), _root(conductor, hub))
        if not conductor.courier.carry(plan):
            return t("door.not_saved", lang)
    return None


def _end_sessions(conductor: Conductor, session_ids: list[str], note_key: str,
                  starter: str) -> None:
    """Stop the interviews of members who had not finished, and tell each of them why."""
    for session_id in session_ids:
        def decide(session: Session | None, state: SlackState | None) -> Plan:
            if session is None or state is None:
                return Plan()
            conductor.desk.interview(session.flow_id).cancel(session)
            note = t(note_key, session.lang, starter=f"<@{starter}>")
            return Plan(forget=True).then(*conductor.retire(session, state, f"_{note}_"),
                                          Post([bk.section(note)], note))
        conductor.step(session_id, starter, decide)


def close(conductor: Conductor, user: str, hub_id: str, channel: str, cancel: bool) -> None:
    """The starter closes the panel early (at least two answers) or cancels it; then the
    interviews of those who had not finished are stopped, each told why."""
    lang = conductor.lang_for(user)
    unfinished: list[str] = []

    def decide(hub: Hub | None) -> Plan:
        if hub is None or not hub.live:
            return told(user, t("panel.slack.over", lang), channel)
        if user != hub.starter:
            problem = t("panel.slack.not_starter", lang, starter=f"<@{hub.starter}>")
            return told(user, problem, channel, hub.where.thread_ts)
        if not cancel and len(hub.answered) < MIN_TO_CLOSE:
            problem = t("panel.slack.too_few_to_close", lang, count=len(hub.answered),
                        min=MIN_TO_CLOSE)
            return told(user, problem, channel, hub.where.thread_ts)
        unfinished.extend(hub.sessions.values())
        if not cancel:
            return _merged_result(conductor, hub)
        hub.cancel()
        return Plan(panel=hub).then(_root(conductor, hub))
    if not _step(conductor, hub_id, decide):
        conductor.tell(user, t("door.not_saved", lang), channel)
        return
    _end_sessions(conductor, unfinished,
                  "panel.slack.cancelled_note" if cancel else "panel.slack.closed_note", user)
