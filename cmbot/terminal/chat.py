"""`cmbot chat`: the interview in a terminal, interactively or from an answers file."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape

from ..i18n import t
from ..interview import Interview, Session
from ..interview.wording import describe, say_problem
from ..service import Desk
from .prompts import BACK, QUIT, Prompts
from .render import show_report

TERMINAL = {"kind": "terminal"}


class AnswersError(ValueError):
    """A bad answers file; the message names the file and the state."""


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def resumable(desk: Desk, flow_id: str) -> Session | None:
    user = local_user()
    found = desk.store.sessions(lambda r: r.get("where", {}).get("kind") == "terminal"
                                and r.get("started_by") == user and r.get("flow_id") == flow_id)
    return Session.from_dict(found[0]) if found else None


def _ask(prompts: Prompts, interview: Interview, session: Session) -> Any:
    question = interview.question(session)
    assert question is not None
    lang, flow = session.lang, interview.flow
    options = [(o.id, o.label[lang]) for o in flow.options(question, session.values())]
    previous = session.answers.get(question.id)
    if question.kind == "multi":
        return prompts.multi(question.prompt[lang], options, previous.value if previous else [])
    if question.kind in ("choice", "confirm"):
        return prompts.choice(question.prompt[lang], options, previous.value if previous else None)
    return prompts.text(question.prompt[lang], str(previous.value) if previous else None)


def _confirm_summary(console: Console, interview: Interview, session: Session) -> None:
    lang = session.lang
    for question, value in interview.summary(session):
        console.print(f"  [bold]{escape(question.prompt[lang])}[/bold] "
                      f"{escape(describe(interview.flow, question.id, value, lang))}",
                      highlight=False)


def _pick_edit(prompts: Prompts, interview: Interview, session: Session) -> str:
    lang = session.lang
    options = [(q.id, q.prompt[lang]) for q, _ in interview.summary(session)]
    return prompts.choice(t("nav.edit_which", lang), options, None)


def run_interactive(desk: Desk, session: Session, prompts: Prompts, console: Console) -> int:
    """Ask until the interview ends or the person quits; every step is saved."""
    interview = desk.interview(session.flow_id)
    lang, user = session.lang, local_user()
    console.print(t("terminal.welcome", lang, title=interview.flow.title[lang]), highlight=False)
    while not session.finished:
        question = interview.question(session)
        assert question is not None
        n, total = interview.progress(session)
        console.print()
        if question.kind == "confirm":
            _confirm_summary(console, interview, session)
        else:
            console.print(f"[cyan]{t('terminal.progress', lang, n=n, total=total)}[/cyan] "
                          f"[dim]{escape(question.help[lang])}[/dim]", highlight=False)
        raw = _ask(prompts, interview, session)
        if raw == QUIT:
            desk.save(session)
            console.print(t("terminal.saved_for_later", lang))
            return 0
        if raw == BACK:
            step = interview.back(session)
        elif question.kind == "confirm" and raw == "edit":
            target = _pick_edit(prompts, interview, session)
            if target == QUIT:
                continue
            step = interview.edit(session, target) if target != BACK else interview.back(session)
        else:
            step = interview.answer(session, raw, by=user)
        if not step.ok and step.problem:
            problem = say_problem(step.problem, lang, interview.flow, question.id)
            console.print(f"[red]{escape(problem)}[/red]", highlight=False)
        desk.save(session)
    consultation = desk.consultation(session.id)
    assert consultation is not None
    console.print()
    show_report(console, desk.report(consultation), full=interview.flow.outcome == "full")
    console.print(t("terminal.saved", lang, id=consultation.id), highlight=False)
    return 0


def load_answers(path: Path, lang: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise AnswersError(t("cli.file_unreadable", lang, file=path, reason=reason)) from exc
    if not isinstance(data, dict):
        raise AnswersError(t("cli.file_unreadable", lang, file=path,
                             reason="expected a mapping: state id -> answer"))
    return {str(k): v for k, v in data.items()}


def fill(interview: Interview, answers: dict[str, Any], lang: str, path: Path,
         by: str) -> Session:
    """Walk the interview answering from `answers` (read from `path`); nothing is saved.

    Raises `AnswersError` naming the file and the state at the first missing or bad answer."""
    flow = interview.flow
    unknown = [k for k in answers if k not in flow.states]
    if unknown:
        raise AnswersError(t("cli.answers_unknown", lang, file=path, state=unknown[0]))
    session = interview.start(lang=lang, started_by=by, where=dict(TERMINAL))
    while not session.finished:
        question = interview.question(session)
        assert question is not None
        if question.kind == "confirm":
            raw: Any = "confirm"
        elif question.id not in answers:
            raise AnswersError(t("cli.answers_missing", lang, file=path, state=question.id))
        else:
            raw = answers[question.id]
        step = interview.answer(session, raw, by=by)
        if not step.ok and step.problem:
            problem = say_problem(step.problem, lang, flow, question.id)
            raise AnswersError(t("cli.answers_bad", lang, file=path, state=question.id,
                                 problem=problem))
    return session


def run_answers(desk: Desk, flow_id: str, lang: str, path: Path) -> dict[str, Any]:
    """Answer every question from a file; nothing is saved unless the whole file is good."""
    session = fill(desk.interview(flow_id), load_answers(path, lang), lang, path, local_user())
    desk.save(session)
    consultation = desk.consultation(session.id)
    assert consultation is not None
    return desk.report(consultation)
