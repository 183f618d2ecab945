"""The `cmbot` command. Typer gives typed options, `--help` and completion for free."""

from __future__ import annotations

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
from .i18n import LANGUAGES, default_lang, normalise_lang, t
from .interview import FlowError
from .service import Desk, UnknownFlow
from .store import CorruptDatabase, DatabaseBusy, Store

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(flows_app, name="flows")
app.add_typer(db_app, name="db")
out = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(message + "\n")
    return typer.Exit(code)


def pick_lang(lang: str | None) -> str:
    if lang is None:
        return default_lang()
    chosen = normalise_lang(lang)
    if chosen is None:
        raise fail(t("cli.lang_unknown", default_lang(), lang=lang))
    return chosen


def open_desk(exclusive: bool = False) -> Desk:
    """The desk on the configured database; `serve` holds it exclusively (one bot per file)."""
    try:
        return Desk(Store(exclusive=exclusive), os.environ.get("CMBOT_FLOWS") or None)
    except (CorruptDatabase, DatabaseBusy, FlowError) as exc:
        raise fail(str(exc)) from exc


LangOption = Annotated[str | None, typer.Option("--lang", help=f"Language: {', '.join(LANGUAGES)}.")]


@app.command()
def chat(
    flow: Annotated[str, typer.Option(help="Which interview to run.")] = "community_manager",
    lang: LangOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interview you quit.")] = False,
    answers: Annotated[Path | None, typer.Option(help="Answer from a YAML file instead.")] = None,
    rerun: Annotated[str | None, typer.Option(help="Start from a saved consultation's answers.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the consultation as JSON.")] = False,
) -> None:
    """Run the interview in this terminal and save the consultation."""
    from .terminal.chat import (
        TERMINAL,
        AnswersError,
        local_user,
        resumable,
        run_answers,
        run_interactive,
    )
    from .terminal.prompts import ArrowPrompts, PlainPrompts
    from .terminal.render import show_report

    chosen = pick_lang(lang)
    desk = open_desk()
    if flow not in desk.flows:
        raise fail(t("cli.flow_unknown", chosen, flow=flow, known=", ".join(sorted(desk.flows))))
    if answers is not None:
        try:
            report = run_answers(desk, flow, chosen, answers)
        except AnswersError as exc:
            raise fail(str(exc)) from exc
        if as_json:
            out.print_json(json.dumps(report, ensure_ascii=False))
        else:
            show_report(out, report, full=desk.flow(flow).outcome == "full")
            out.print(t("terminal.saved", chosen, id=report["consultation_id"]), highlight=False)
        return
    session = resumable(desk, flow) if resume else None
    if resume and session is None:
        out.print(t("terminal.nothing_to_resume", chosen))
    if rerun:
        parent = desk.consultation(rerun)
        if parent is None:
            raise fail(t("terminal.not_found", chosen, id=rerun), code=1)
        session = desk.rerun(parent, lang=chosen, started_by=local_user(), where=dict(TERMINAL))
    if session is None:
        session = desk.begin(flow, lang=chosen, started_by=local_user(), where=dict(TERMINAL))
    prompts = ArrowPrompts(session.lang) if sys.stdin.isatty() else PlainPrompts(session.lang, out)
    raise typer.Exit(run_interactive(desk, session, prompts, out))


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
        report = run_panel(desk, "community_manager", chosen, files)
    except AnswersError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    show_report(out, report)
    out.print(t("panel.saved", chosen, id=report["consultation_id"],
                count=len(report["panel"]["members"])), highlight=False)


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """List saved consultations, newest first."""
    from .terminal.render import show_history

    rows = open_desk().store.consultations()
    if as_json:
        out.print_json(json.dumps([
            {"consultation_id": r["id"], "flow": r["flow_id"], "lang": r["lang"],
             "started_by": r["started_by"], "where": r["where"], "finished_at": r["finished_at"],
             "placement": r["recommendation"]["placement"]} for r in rows
        ], ensure_ascii=False))
        return
    show_history(out, rows, pick_lang(lang))


def _report(consultation_id: str, lang: str | None) -> tuple[Desk, dict]:
    desk = open_desk()
    consultation = desk.consultation(consultation_id)
    if consultation is None:
        raise fail(t("terminal.not_found", pick_lang(lang), id=consultation_id), code=1)
    return desk, desk.report(consultation, pick_lang(lang) if lang else None)


@app.command()
def show(consultation_id: str, lang: LangOption = None) -> None:
    """Show a saved consultation's recommendation."""
    from .terminal.render import show_report

    desk, report = _report(consultation_id, lang)
    show_report(out, report, full=desk.flow(report["flow"]).outcome == "full")


@app.command()
def export(
    consultation_id: str,
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    output: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
    lang: LangOption = None,
) -> None:
    """Export a consultation as a Markdown memo or JSON."""
    if fmt not in FORMATS:
        raise fail(f"--format must be one of: {', '.join(FORMATS)}")
    desk, report = _report(consultation_id, lang)
    text = render(report, desk.flow(report["flow"]), report["lang"], fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="HTTP even if SLACK_APP_TOKEN is set.")] = False,
    port: Annotated[int | None, typer.Option(help="HTTP port (default $PORT or 3000).")] = None,
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
    run(settings, open_desk(exclusive=True))


def main() -> None:
    try:
        app()
    except UnknownFlow as exc:
        sys.stderr.write(f"Unknown flow {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
