"""Which interview `cmbot chat` runs: a new one, one waiting to be resumed, or a re-run.

An interview quit halfway must never be shadowed without a word. On a terminal, `cmbot chat`
offers to resume what is waiting; with piped input it says on stderr what is waiting and how to
resume it, then starts afresh. `--resume` continues the interview saved last (any flow, unless
`--flow` is given), or lets the person choose when several are waiting.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console

from ..i18n import t
from ..interview import DEFAULT_FLOW, Session, Where
from ..interview.where import TERMINAL
from ..service import Desk
from .chat import local_user, resume_command, run_interactive
from .prompts import QUIT, ArrowPrompts, PlainPrompts, Prompts

NEW = "<new>"


@dataclass(frozen=True)
class Start:
    """What the person asked for on the command line."""

    flow: str | None  # None: not given (the default flow for a new interview, any for --resume)
    lang: str | None  # None: not given (a resumed interview keeps its own language)
    default_lang: str
    resume: bool = False
    rerun: str | None = None


def waiting(desk: Desk, flow_id: str | None) -> list[Session]:
    """This person's terminal interviews in progress, saved last first (of flows still known)."""
    user = local_user()
    return desk.sessions(lambda s: s.where.kind == TERMINAL
                         and s.started_by == user and s.flow_id in desk.flows
                         and (flow_id is None or s.flow_id == flow_id))


def _saved_at(session: Session) -> str:
    try:
        return datetime.fromisoformat(session.updated_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return session.updated_at


def waiting_line(desk: Desk, session: Session, lang: str) -> str:
    interview = desk.interview(session.flow_id)
    n, total = interview.progress(session)
    return t("terminal.waiting_line", lang, flow=session.flow_id, n=n, total=total,
             saved=_saved_at(session))


def _tell_waiting(desk: Desk, sessions: list[Session], lang: str, key: str) -> None:
    """Piped input cannot answer a menu: say what is waiting on stderr, where scripts see it."""
    lines = [t(key, lang, count=len(sessions), command=resume_command(sessions[0].flow_id))]
    lines += [f"  • {waiting_line(desk, s, lang)}" for s in sessions]
    sys.stderr.write("\n".join(lines) + "\n")


def _choose(desk: Desk, sessions: list[Session], lang: str, prompts: Prompts,
            offer_new: bool) -> Session | str:
    """The interview the person picks, NEW, or QUIT."""
    options = [(s.id, t("terminal.resume_choice", lang, line=waiting_line(desk, s, lang)))
               for s in sessions]
    if offer_new:
        options.append((NEW, t("terminal.new_choice", lang)))
    question = t("terminal.waiting_question", lang, count=len(sessions))
    picked = prompts.choice(question, options, sessions[0].id, nav=False)
    return next((s for s in sessions if s.id == picked), picked)


def _reopen(desk: Desk, session: Session) -> Session | None:
    """The saved interview as the desk hands it out (moved to its flow's current version)."""
    with desk.session(session.id) as current:
        return current


def _pick(desk: Desk, start: Start, prompts: Prompts, tty: bool) -> Session | str | None:
    """The interview to run, NEW for a fresh one, or QUIT."""
    lang = start.lang or start.default_lang
    if start.rerun:
        parent = desk.consultation(start.rerun)
        if parent is None:
            sys.stderr.write(t("terminal.not_found", lang, id=start.rerun) + "\n")
            return None
        return desk.rerun(parent, lang=lang, started_by=local_user(), where=Where.terminal())
    sessions = waiting(desk, start.flow if start.resume else None)
    if start.resume and not sessions:
        print(t("terminal.nothing_to_resume", lang))
        return NEW
    if not sessions:
        return NEW
    if not tty:
        key = "terminal.resuming_last" if start.resume else "terminal.waiting_notice"
        if not start.resume or len(sessions) > 1:
            _tell_waiting(desk, sessions, lang, key)
        return sessions[0] if start.resume else NEW
    if start.resume and len(sessions) == 1:
        return sessions[0]
    return _choose(desk, sessions, lang, prompts, offer_new=not start.resume)


def run_chat(desk: Desk, start: Start, console: Console) -> int:
    """Pick the interview, then run it; returns the exit code."""
    tty = sys.stdin.isatty()
    lang = start.lang or start.default_lang
    prompts: Prompts = ArrowPrompts(lang, console) if tty else PlainPrompts(lang, console)
    try:
        picked = _pick(desk, start, prompts, tty)
    except KeyboardInterrupt:
        return 130
    if picked is None:
        return 1
    if picked == QUIT:
        return 0
    if picked == NEW:
        session = desk.interview(start.flow or DEFAULT_FLOW).start(
            lang=lang, started_by=local_user(), where=Where.terminal())
    else:
        assert isinstance(picked, Session)
        session = _reopen(desk, picked) if not start.rerun else picked
        if session is None:
            return 1
    if start.lang and session.lang != start.lang:
        session.lang = start.lang  # `--resume --lang fr`: the rest of the interview in French
    if session.lang != lang:
        prompts = ArrowPrompts(session.lang, console) if tty else PlainPrompts(session.lang, console)
    return run_interactive(desk, session, prompts, console)
