"""`cmbot chat`: the interview in a terminal, interactively or from an answers file."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import safe_yaml
from ..i18n import t
from ..interview import DEFAULT_FLOW, Flow, Interview, Problem, Question, Session, Where
from ..interview.wording import describe, say_problem
from ..report import Report
from ..service import Desk
from .prompts import BACK, QUIT, Prompts
from .render import show_report

INTERRUPTED = 130  # the shell's code for a program stopped by Ctrl-C (128 + SIGINT)


class AnswersError(ValueError):
    """A bad answers file; the message names the file and the state."""


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def resume_command(flow_id: str) -> str:
    return "cmbot chat --resume" + ("" if flow_id == DEFAULT_FLOW else f" --flow {flow_id}")


def _ask(prompts: Prompts, interview: Interview, session: Session) -> Any:
    question = interview.question(session)
    assert question is not None
    lang, flow = session.lang, interview.flow
    options = [(o.id, o.label[lang]) for o in flow.options(question, session.values())]
    previous = session.answers.get(question.id)
    if question.kind == "multi":
        return prompts.multi(question.prompt[lang], options, previous.value if previous else [],
                             allow_none=question.min == 0)
    if question.kind in ("choice", "confirm"):
        return prompts.choice(question.prompt[lang], options, previous.value if previous else None)
    return prompts.text(question.prompt[lang], str(previous.value) if previous else None)


def _confirm_summary(console: Console, interview: Interview, session: Session) -> None:
    """Every answer under a heading, each wrapped under its own text (a hanging indent)."""
    lang = session.lang
    console.print(Text(t("advice.answers", lang), style="bold"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for question, value in interview.summary(session):
        grid.add_row("•", Text.assemble((question.prompt[lang], "bold"), " ",
                                        (describe(interview.flow, question.id, value, lang),
                                         "cyan")))
    console.print(grid)


def _pick_edit(prompts: Prompts, interview: Interview, session: Session) -> str:
    lang = session.lang
    options = [(q.id, q.prompt[lang]) for q, _ in interview.summary(session)]
    return prompts.choice(t("nav.edit_which", lang), options, None)


def _bad_values(problem: Problem, raw: Any) -> str:
    """The values that are not options (a multi answer's good picks are left out)."""
    bad = problem.params.get("unknown") or (raw if isinstance(raw, list) else [raw])
    return ", ".join(str(v) for v in bad)


def _problem_text(problem: Problem, raw: Any, interview: Interview, session: Session,
                  question: Question) -> str:
    if problem.key in ("answer.choice_unknown", "answer.multi_unknown"):
        count = len(interview.flow.options(question, session.values()))
        return t("terminal.not_an_option", session.lang, value=_bad_values(problem, raw), count=count)
    return say_problem(problem, session.lang, interview.flow, question.id)


def _leave(desk: Desk, interview: Interview, session: Session, console: Console) -> None:
    """Keep the interview for later, or drop it when nothing was answered yet."""
    lang = session.lang
    if session.answers:
        desk.save(session)
        console.print(t("terminal.saved_for_later", lang,
                        command=resume_command(session.flow_id)), highlight=False)
        return
    interview.cancel(session)
    desk.save(session)
    console.print(t("terminal.nothing_kept", lang), highlight=False)


def _step(desk: Desk, interview: Interview, session: Session, prompts: Prompts,
          console: Console) -> bool:
    """Ask the current question and apply the answer; False when the person quits."""
    lang = session.lang
    question = interview.question(session)
    assert question is not None
    n, total = interview.progress(session)
    console.print()
    if question.kind == "confirm":
        _confirm_summary(console, interview, session)
    else:
        line = Text(t("terminal.progress", lang, n=n, total=total), style="cyan")
        if question.help[lang]:
            line.append(" · " + question.help[lang], style="dim")
        console.print(line)
    raw = _ask(prompts, interview, session)
    if raw == QUIT:
        return False
    if raw == BACK:
        step = interview.back(session)
    elif question.kind == "confirm" and raw == "edit":
        target = _pick_edit(prompts, interview, session)
        if target == QUIT:
            return False
        step = interview.edit(session, target) if target != BACK else interview.back(session)
    else:
        step = interview.answer(session, raw, by=local_user())
    if not step.ok and step.problem:
        console.print(Text(_problem_text(step.problem, raw, interview, session, question),
                           style="red"))
    desk.save(session)
    return True


def run_interactive(desk: Desk, session: Session, prompts: Prompts, console: Console) -> int:
    """Ask until the interview ends or the person quits; every step is saved.

    Returns the exit code: 0, or 130 after Ctrl-C (the interview is saved either way)."""
    interview = desk.interview(session.flow_id)
    lang = session.lang
    console.print(t("terminal.welcome", lang, title=interview.flow.title[lang]), highlight=False)
    try:
        while not session.finished:
            if not _step(desk, interview, session, prompts, console):
                _leave(desk, interview, session, console)
                return 0
    except KeyboardInterrupt:
        console.print()
        _leave(desk, interview, session, console)
        return INTERRUPTED
    consultation = desk.consultation(session.id)
    assert consultation is not None
    console.print()
    show_report(console, desk.report(consultation), full=interview.flow.full_advice)
    console.print(t("terminal.saved", lang, id=consultation.id), highlight=False)
    return 0


def load_answers(path: Path, lang: str) -> dict[str, Any]:
    try:
        data = safe_yaml.load(safe_yaml.read_text(path))
    except UnicodeDecodeError as exc:
        raise AnswersError(t("cli.file_not_utf8", lang, file=path)) from exc
    except (OSError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise AnswersError(t("cli.file_unreadable", lang, file=path, reason=reason)) from exc
    if not isinstance(data, dict):
        raise AnswersError(t("cli.file_not_mapping", lang, file=path))
    return {str(k): v for k, v in data.items()}


def _bad_answer(path: Path, problem: Problem, raw: Any, flow: Flow, session: Session,
                question: Question) -> AnswersError:
    """A file names options by id, so a wrong one is answered with the ids it may use."""
    lang = session.lang
    if problem.key in ("answer.choice_unknown", "answer.multi_unknown"):
        ids = [o.id for o in flow.options(question, session.values())]
        return AnswersError(t("cli.answers_not_option", lang, file=path, state=question.id,
                              value=_bad_values(problem, raw), options=", ".join(ids)))
    text = say_problem(problem, lang, flow, question.id)
    return AnswersError(t("cli.answers_bad", lang, file=path, state=question.id, problem=text))


def fill(interview: Interview, answers: dict[str, Any], lang: str, path: Path,
         by: str) -> Session:
    """Walk the interview answering from `answers` (read from `path`); nothing is saved.

    Raises `AnswersError` naming the file and the state at the first missing or bad answer."""
    flow = interview.flow
    unknown = [k for k in answers if k not in flow.states]
    if unknown:
        raise AnswersError(t("cli.answers_unknown", lang, file=path, state=unknown[0]))
    session = interview.start(lang=lang, started_by=by, where=Where.terminal())
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
            raise _bad_answer(path, step.problem, raw, flow, session, question)
    return session


def run_answers(desk: Desk, flow_id: str, lang: str, path: Path) -> Report:
    """Answer every question from a file; nothing is saved unless the whole file is good."""
    session = fill(desk.interview(flow_id), load_answers(path, lang), lang, path, local_user())
    session.id = desk.fresh_id()  # not saved yet: it may take any id the database does not have
    desk.save(session)
    consultation = desk.consultation(session.id)
    assert consultation is not None
    return desk.report(consultation)
