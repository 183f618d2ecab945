"""`cmbot db`: export, import, check and restore the database (CMBOT_DB and its archive), or
export, import and check the PostgreSQL database `CMBOT_DATABASE_URL` names.

The logic lives in `cmbot.store` (transfer, recovery, lock); this module only reads options,
prints messages from the catalogues (`db.*` keys) and picks exit codes: 0 done, 1 refused or
something unreadable, 2 bad usage.
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at each
# start, and string annotations would be compiled then.

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from .help import PlainFlags
from .i18n import default_lang, t
from .output import OutputError, written_atomically
from .store import CorruptDatabase, DatabaseBusy, Store, default_db_path
from .store.engines import EngineError, database_url, engine_name, open_storage
from .store.errors import StorageFailed
from .store.journal import interrupted
from .store.portable import check_storage, describe, export_storage, import_storage
from .store.protocol import Storage
from .store.recovery import Health, check, copies_mentioning, restore
from .store.transfer import (
    FORMAT_VERSION,
    Exported,
    ExportError,
    ImportRefused,
    Problem,
    Summary,
    export,
    import_records,
    read_export,
)
from .store.workspace import valid_workspace

db_app = typer.Typer(cls=PlainFlags, no_args_is_help=True,
                     help="Back up, move and repair the database: export, import, check, restore.")


def say(key: str, **params: Any) -> str:
    return t(f"db.{key}", default_lang(), **params)


def problem_text(problem: Problem) -> str:
    params = dict(problem.params)
    if "expected" in params:
        params["expected"] = say(f"type.{params['expected']}")
    return say(f"problem.{problem.key}", **params)


def problem_lines(file: Path, problems: list[Problem]) -> list[str]:
    """One line per bad line of the file, however many things are wrong with it: a line that is
    not a record at all would otherwise drown the others under a dozen "missing field" lines."""
    by_line: dict[int, list[Problem]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem)
    lines = []
    for number, found in by_line.items():
        reason = problem_text(found[0])
        if len(found) > 1:
            reason += say("line_more", count=len(found) - 1)
        lines.append(say("line", file=file, line=number, reason=reason))
    return lines


def stop(message: str, code: int = 1) -> typer.Exit:
    sys.stderr.write(message + "\n")
    return typer.Exit(code)


def _other_engine() -> str | None:
    """The database URL when it names an engine other than the TinyDB files (PostgreSQL)."""
    url = database_url()
    return url if url and engine_name(url) != "tinydb" else None


def _open(url: str) -> Storage:
    try:
        return open_storage(url)
    except EngineError as exc:
        raise stop(str(exc)) from exc


def _export(out: Any, sessions: bool, team: str | None) -> Exported:
    url = _other_engine()
    if url is None:
        return export(default_db_path(), out, sessions=sessions, workspace=team)
    store = _open(url)
    try:
        return Exported(export_storage(store, describe(url), out, sessions=sessions, workspace=team))
    finally:
        store.close()


def team_id(team: str | None) -> str | None:
    """`--team`: a Slack team id (T…) or Enterprise Grid organisation id (E…)."""
    if team is not None and not valid_workspace(team):
        raise stop(say("team_invalid", team=team), code=2)
    return team


TeamOption = Annotated[str | None, typer.Option(
    "--team", metavar="T…", help="Only this Slack workspace (team id, or organisation id E…).")]


@db_app.command("export")
def export_cmd(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write to this file (its folder is created if needed), not stdout.")] = None,
    sessions: Annotated[bool, typer.Option("--sessions", help="Include interviews in progress.")] = False,
    team: TeamOption = None,
) -> None:
    """Write every consultation as JSON Lines (with --sessions, interviews in progress too)."""
    team = team_id(team)
    try:
        target = (written_atomically(output, default_lang(), "cmbot-export.jsonl") if output
                  else contextlib.nullcontext(sys.stdout))
        with target as out:
            done = _export(out, sessions, team)
    except BrokenPipeError:  # `cmbot db export | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except OutputError as exc:
        raise stop(str(exc), code=2) from exc
    except CorruptDatabase as exc:
        raise stop(str(exc)) from exc
    except ExportError as exc:
        raise stop(say("export.bad_record", file=exc.path, id=exc.record_id,
                       reason=problem_text(exc.problem))) from exc
    if output:
        sys.stderr.write(say("export.done", file=output, consultations=done.counts["consultation"],
                             sessions=done.counts["session"]) + "\n")
    for exc in done.unreadable:
        sys.stderr.write(say("export.unreadable", file=exc.path, reason=exc.reason) + "\n")
    if done.unreadable:
        raise typer.Exit(1)


@db_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="A file written by `cmbot db export`.")],
    team: TeamOption = None,
    as_team: Annotated[str | None, typer.Option(
        "--as-team", metavar="T…", help="Import the records of no workspace (a single-token bot's, "
        "the terminal's) into this Slack workspace.")] = None,
) -> None:
    """Add an export's records; every line is checked first (all or nothing), known ids are skipped."""
    which = Which(team_id(team), team_id(as_team))
    url = _other_engine()
    summary = _import_into(_open(url), url, file, which) if url else _import(file, which)
    if summary.version < FORMAT_VERSION:
        print(say("import.migrated", file=file, version=summary.version, current=FORMAT_VERSION))
    for table, key in (("consultations", "import.consultations"), ("sessions", "import.sessions")):
        print(say(key, imported=summary.imported[table], skipped=summary.skipped[table]))


def _refused(file: Path, exc: ImportRefused) -> typer.Exit:
    lines = problem_lines(file, exc.problems)
    if exc.more:
        lines.append(say("import.more", count=exc.more))
    return stop("\n".join([*lines, say("import.refused")]))


@dataclass(frozen=True)
class Which:
    """Which records of an export to import (`--team`), and where default ones go (`--as-team`)."""

    team: str | None = None
    into: str | None = None


def _import_into(store: Storage, url: str, file: Path, which: Which) -> Summary:
    """Into PostgreSQL: checked whole (against what the database holds), then written
    through the storage interface in one transaction."""
    try:
        size = file.stat().st_size
        with _progress(say("import.checking", file=file.name), size) as advance:
            plan = read_export(file, advance, store, workspace=which.team, into=which.into)
        with _progress(say("import.writing", file=describe(url)), size) as advance:
            return import_storage(store, file, plan, advance)
    except ImportRefused as exc:
        raise _refused(file, exc) from exc
    except StorageFailed as exc:
        raise stop(say("import.failed", db=describe(url), reason=exc.reason)) from exc
    finally:
        store.close()


def _import(file: Path, which: Which) -> Summary:
    try:
        store = Store(default_db_path(), exclusive=True)
    except (DatabaseBusy, CorruptDatabase) as exc:
        raise stop(str(exc)) from exc
    try:
        size = file.stat().st_size
        with _progress(say("import.checking", file=file.name), size) as advance:
            plan = read_export(file, advance, store, workspace=which.team, into=which.into)
        with _progress(say("import.writing", file=store.path.name), size) as advance:
            return import_records(store, file, plan, advance)
    except ImportRefused as exc:
        raise _refused(file, exc) from exc
    except CorruptDatabase as exc:
        raise stop(str(exc)) from exc
    finally:
        store.close()


@contextlib.contextmanager
def _progress(label: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal; nothing in pipes, logs and tests."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


@db_app.command("check")
def check_cmd() -> None:
    """Read every database file and its backup; exit 1 if one is unreadable or lost.

    The files are CMBOT_DB and each shard of the consultations archive beside it; on
    PostgreSQL, every record of every table."""
    url = _other_engine()
    if url is not None:
        _check_database(url)
    report = check(default_db_path())
    for health in report:
        state, backup = health.file, health.backup
        if health.aside:
            print(say("check.set_aside", file=state.path, reason=state.error or "?"))
        elif state.readable:
            print(say("check.ok", file=state.path, count=state.records))
        elif state.exists:
            print(say("check.unreadable", file=state.path, reason=state.error))
        else:
            print(say("check.lost" if backup.exists else "check.missing", file=state.path))
        if backup.readable:
            print(say("check.backup_ok", file=backup.path))
        elif backup.exists:
            print(say("check.backup_bad", file=backup.path, reason=backup.error))
        elif state.exists:
            print(say("check.no_backup"))
    cut_short = interrupted(default_db_path())
    if cut_short is not None:
        print(say("check.interrupted", file=cut_short.source, started=cut_short.started_at,
                  count=len(cut_short.ids["consultations"]) + len(cut_short.ids["sessions"])))
    good = all(h.good for h in report) and cut_short is None
    print(say("check.good" if good else "check.bad"))
    raise typer.Exit(0 if good else 1)


def _check_database(url: str) -> None:
    store = _open(url)
    try:
        tables = check_storage(store)
    finally:
        store.close()
    for health in tables:
        print(say("check.table_ok", table=f"{describe(url)} {health.table}", count=health.count))
        for record_id, why in health.bad:
            print(say("check.record_bad", table=health.table, id=record_id, reason=why))
    good = not any(h.bad for h in tables)
    print(say("check.database_good" if good else "check.database_bad"))
    raise typer.Exit(0 if good else 1)


@db_app.command("restore")
def restore_cmd() -> None:
    """Put back the readable backup of every unreadable file.

    The unreadable file is kept aside as <name>.corrupt-<UTC time>."""
    try:
        restored, refused, undone = restore(default_db_path())
    except (DatabaseBusy, CorruptDatabase) as exc:
        raise stop(str(exc)) from exc
    if undone is not None:
        print(say("restore.import_undone", file=undone.source, started=undone.started_at))
    for done in restored:
        file, backup = done.health.file.path, done.health.backup.path
        if done.merged is not None:
            print(say("restore.merged", file=file, count=done.merged, source=done.source,
                      aside=done.aside))
        else:
            print(say("restore.restored", file=file, backup=backup, aside=done.aside) if done.aside
                  else say("restore.recovered", file=file, backup=backup))
    for health in refused:
        sys.stderr.write(_refusal(health) + "\n")
    if not restored and not refused and undone is None:
        print(say("restore.nothing"))
    raise typer.Exit(1 if refused else 0)


def _refusal(health: Health) -> str:
    """Why a file could not be restored."""
    file, backup = health.file.path, health.backup
    if health.aside:
        return say("restore.aside_lost", file=file)
    if backup.exists:
        return say("restore.backup_bad", file=file, backup=backup.path, reason=backup.error)
    return say("restore.no_backup", file=file)


@db_app.command("delete-workspace")
def delete_workspace_cmd(
    team: Annotated[str, typer.Argument(metavar="T…", help="The Slack team id (or Enterprise Grid "
                                                          "organisation id E…) of the workspace.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation "
                                                           "(for scripts).")] = False,
) -> None:
    """Delete everything of one Slack workspace: consultations, interviews in progress,
    preferences, handled event ids and its installation (tokens). It cannot be undone."""
    team_id(team)
    if not yes and not _confirm_workspace(team):
        print(say("workspace.kept", team=team))
        return
    url = _other_engine()
    try:
        store = _open(url) if url else Store(default_db_path(), exclusive=True)
    except (DatabaseBusy, CorruptDatabase) as exc:
        raise stop(str(exc)) from exc
    try:
        counts = store.delete_workspace(team)
    finally:
        store.close()
    print(say("workspace.deleted", team=team, consultations=counts.get("consultations", 0),
              sessions=counts.get("sessions", 0), preferences=counts.get("preferences", 0),
              installations=counts.get("installations", 0)))
    left = [] if url else copies_mentioning(default_db_path(), f'"{team}"')
    for path in left:
        sys.stderr.write(say("workspace.aside_left", file=path, team=team) + "\n")
    raise typer.Exit(1 if left else 0)


def _confirm_workspace(team: str) -> bool:
    if not sys.stdin.isatty():
        raise stop(say("workspace.needs_yes", team=team), code=2)
    try:
        reply = input(say("workspace.question", team=team) + " ")
    except (EOFError, KeyboardInterrupt):
        print()
        return False
    return reply.strip().lower() in t("terminal.yes_words", default_lang())
