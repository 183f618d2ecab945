"""cmbot advises a manager on where a community manager belongs, who should pay for the role and
what it should aim for: an interview in this terminal (`cmbot chat`) or in Slack (`cmbot serve`).

Exit codes: 0 done, 1 not found or refused, 2 bad input, 130 interrupted (Ctrl-C).
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at each
# start, and string annotations would be compiled then.

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .db_cli import db_app
from .export import FORMATS, render
from .flows_cli import flows_app
from .help import PlainFlags
from .i18n import LANGUAGES, default_lang, env_lang_problem, normalise_lang, t
from .interview import DEFAULT_FLOW, FlowError
from .output import OutputError, write_text
from .report import Report
from .service import Desk, UnknownFlow
from .store import CorruptDatabase, DatabaseBusy
from .store.engines import EngineError, open_storage
from .store.ids import IdTaken
from .store.workspace import valid_workspace

app = typer.Typer(help=__doc__, cls=PlainFlags, no_args_is_help=True, add_completion=False,
                  epilog="Start with `cmbot chat`. More: `cmbot COMMAND --help`.")
app.add_typer(flows_app, name="flows")
app.add_typer(db_app, name="db")
out = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(message + "\n")
    return typer.Exit(code)


@app.callback()
def root() -> None:
    """A `CMBOT_LANG` that cmbot does not speak is an error, as `--lang de` is."""
    problem = env_lang_problem()
    if problem:
        raise fail(problem)


def pick_lang(lang: str | None) -> str:
    if lang is None:
        return default_lang()
    chosen = normalise_lang(lang)
    if chosen is None:
        raise fail(t("cli.lang_unknown", default_lang(), lang=lang))
    return chosen


def open_desk(exclusive: bool = False, strict: bool = True, database_url: str | None = None) -> Desk:
    """The desk on the configured database (`database_url`, else `CMBOT_DATABASE_URL`, else the
    TinyDB files at `CMBOT_DB`); `serve` holds a TinyDB file exclusively (one bot per file).

    `strict=False` is for commands that only read what was saved (history, show, export,
    delete): a broken file in `CMBOT_FLOWS` is then a one-line warning, not a wall between
    the person and their own consultations, and only the built-in flows are loaded.
    """
    flows_dir = os.environ.get("CMBOT_FLOWS") or None
    try:
        store = open_storage(database_url, exclusive=exclusive)
    except (CorruptDatabase, DatabaseBusy, EngineError) as exc:
        raise fail(str(exc)) from exc
    try:
        return Desk(store, flows_dir)
    except FlowError as exc:
        if strict:
            raise fail(str(exc)) from exc
        sys.stderr.write(t("cli.flows_ignored", default_lang(), error=exc) + "\n")
        return Desk(store, None)


LangOption = Annotated[str | None, typer.Option("--lang", metavar="LANG",
                                                help=f"Language: {' or '.join(LANGUAGES)}.")]


@app.command()
def chat(
    flow: Annotated[str | None, typer.Option(
        metavar="ID", help="Which interview to run (default: community_manager).")] = None,
    lang: LangOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interview you quit.")] = False,
    answers: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Answer from a YAML file (state id: answer) instead of asking.")] = None,
    rerun: Annotated[str | None, typer.Option(
        metavar="ID", help="Start from a saved consultation's answers.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --answers: print the consultation "
                                                          "as JSON.")] = False,
) -> None:
    """Run the interview in this terminal and save the consultation."""
    from .terminal.chat import AnswersError, run_answers
    from .terminal.render import show_report
    from .terminal.start import Start, run_chat

    chosen = pick_lang(lang)
    desk = open_desk(exclusive=True)  # one writer at a time: not beside a running bot
    flow_id = flow or DEFAULT_FLOW
    if flow_id not in desk.flows:
        raise fail(t("cli.flow_unknown", chosen, flow=flow_id, known=", ".join(sorted(desk.flows))))
    if answers is None:
        start = Start(flow=flow, lang=chosen if lang else None, default_lang=chosen, resume=resume,
                      rerun=rerun)
        raise typer.Exit(run_chat(desk, start, out))
    try:
        report = run_answers(desk, flow_id, chosen, answers)
    except AnswersError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    show_report(out, report, full=desk.flow(flow_id).full_advice)
    out.print(t("terminal.saved", chosen, id=report.consultation_id), highlight=False)


@app.command()
def panel(
    files: Annotated[list[Path], typer.Argument(help="One answers file per member; the first "
                                                 "also gives the organisation facts.")],
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the consultation as JSON.")] = False,
) -> None:
    """A panel consultation: each member's answers merged into one advice, disagreements shown."""
    from .terminal.chat import AnswersError
    from .terminal.panel import run_panel
    from .terminal.render import show_report

    chosen = pick_lang(lang)
    desk = open_desk()
    try:
        report = run_panel(desk, DEFAULT_FLOW, chosen, files)
    except AnswersError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    show_report(out, report)
    out.print(t("panel.saved", chosen, id=report.consultation_id,
                count=len(report.panel.members) if report.panel else 0), highlight=False)


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    lang: LangOption = None,
    team: Annotated[str | None, typer.Option(
        "--team", metavar="T…", help="Only this Slack workspace's (team id, or organisation id E…).")] = None,
) -> None:
    """List saved consultations, newest first (of every workspace, unless --team)."""
    from .terminal.render import show_history

    chosen = pick_lang(lang)
    if team is not None and not valid_workspace(team):
        raise fail(t("db.team_invalid", chosen, team=team))
    desk = open_desk(strict=False)
    rows = (desk.scoped(team) if team else desk).consultations()
    if as_json:
        out.print_json(json.dumps([row.to_dict() for row in rows], ensure_ascii=False))
        return
    show_history(out, rows, chosen)


def _report(consultation_id: str, lang: str | None) -> tuple[Desk, Report]:
    chosen = pick_lang(lang)
    desk = open_desk(strict=False)
    consultation = desk.consultation(consultation_id)
    if consultation is None:
        raise fail(t("terminal.not_found", chosen, id=consultation_id), code=1)
    if consultation.flow_id not in desk.flows:
        raise fail(t("cli.flow_gone", chosen, id=consultation_id, flow=consultation.flow_id),
                   code=1)
    return desk, desk.report(consultation, chosen if lang else None)


IdArgument = Annotated[str, typer.Argument(metavar="ID", help="A consultation id, as `cmbot "
                                                                "history` lists them.")]


@app.command()
def show(consultation_id: IdArgument, lang: LangOption = None) -> None:
    """Show a saved consultation's recommendation."""
    from .terminal.render import show_report

    desk, report = _report(consultation_id, lang)
    show_report(out, report, full=desk.flow(report.flow).full_advice)


@app.command()
def export(
    consultation_id: IdArgument,
    fmt: Annotated[str, typer.Option("--format", metavar="md|json",
                                     help="A Markdown memo or JSON.")] = "md",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write to this file (its folder is created if needed), not stdout.")] = None,
    lang: LangOption = None,
) -> None:
    """Export a consultation as a Markdown memo or JSON."""
    if fmt not in FORMATS:
        raise fail(t("cli.format_unknown", default_lang(), format=fmt, known=", ".join(FORMATS)))
    desk, report = _report(consultation_id, lang)
    text = render(report, desk.flow(report.flow), report.lang, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_text(output, text, default_lang(), f"{consultation_id}.{fmt}")
    except OutputError as exc:
        raise fail(str(exc)) from exc
    sys.stderr.write(t("cli.exported", default_lang(), id=consultation_id, file=output) + "\n")


@app.command()
def delete(
    consultation_id: IdArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation "
                                                           "(for scripts).")] = False,
    lang: LangOption = None,
) -> None:
    """Delete a saved consultation, after asking (it cannot be undone)."""
    from .terminal.delete import confirm_and_delete

    chosen = pick_lang(lang)
    desk = open_desk(strict=False)
    raise typer.Exit(confirm_and_delete(desk, consultation_id, chosen, yes, out))


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="HTTP even if SLACK_APP_TOKEN is set.")] = False,
    port: Annotated[int | None, typer.Option(
        metavar="PORT", help="HTTP port (default $PORT or 3000; 0 picks a free one).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", metavar="URL", help="postgresql://… for several replicas on one database "
        "(default $CMBOT_DATABASE_URL, else the TinyDB files at $CMBOT_DB).")] = None,
) -> None:
    """Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events."""
    from .slack.app import serve as run
    from .slack.app import setup_logging
    from .slack.config import ConfigError, load_settings

    try:
        settings = load_settings(port, force_http=http)
    except ConfigError as exc:
        raise fail(f"cmbot serve: {exc}") from exc
    setup_logging()
    try:
        run(settings, open_desk(exclusive=True, database_url=database_url))
    except ConfigError as exc:  # Slack unreachable, or the token refused
        raise fail(f"cmbot serve: {exc}") from exc


def main() -> None:
    try:
        app()
    except UnknownFlow as exc:
        sys.stderr.write(t("cli.flow_unknown_short", default_lang(), flow=exc.args[0]) + "\n")
        sys.exit(2)
    except (CorruptDatabase, DatabaseBusy, IdTaken) as exc:  # met after opening: one line too
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
    except OSError as exc:  # a full disk, a read-only or missing folder
        where = exc.filename or os.environ.get("CMBOT_DB") or "?"
        sys.stderr.write(t("db.unwritable", default_lang(), path=where,
                           reason=exc.strerror or str(exc)) + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
