"""`cmbot flows`: the interview definitions — list them, check them, draw them.

Apart from `cli.py` because authoring needs no database and no Slack: these commands only read
flow files (the built-in ones and those in `CMBOT_FLOWS`), so they work before anything is set up.
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at each
# start, and string annotations would be compiled then.

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .help import PlainFlags
from .interview import Flow, FlowError, load_flow
from .interview.check import BUILT_IN, NAMED, USER, FlowFile, check_files, known_files
from .interview.machine import mermaid

flows_app = typer.Typer(cls=PlainFlags, help="The interview definitions (flows): list, check, draw.",
                        no_args_is_help=True)


def _user_dir() -> str | None:
    folder = os.environ.get("CMBOT_FLOWS") or None
    if folder and not Path(folder).is_dir():
        sys.stderr.write(f"CMBOT_FLOWS={folder} is not a folder; only the built-in flows are known.\n")
    return folder


def _load_all() -> tuple[list[tuple[FlowFile, Flow]], list[FlowError]]:
    """Every known flow file that loads, and the errors of those that do not."""
    loaded, broken = [], []
    for file in known_files(_user_dir()):
        try:
            loaded.append((file, load_flow(file.path)))
        except FlowError as exc:
            broken.append(exc)
    return loaded, broken


def _builtin_paths() -> dict[str, Path]:
    """Built-in flow id -> its file, as the loader sees them: which named files override one."""
    found = {}
    for file in known_files(None):
        with contextlib.suppress(FlowError):
            found[load_flow(file.path).id] = file.path.resolve()
    return found


def _origins(loaded: list[tuple[FlowFile, Flow]]) -> dict[Path, str]:
    """built-in / user, and which user flow replaces which built-in one (same id)."""
    builtin = {flow.id for file, flow in loaded if file.origin == BUILT_IN}
    user = {flow.id for file, flow in loaded if file.origin == USER}
    origins = {}
    for file, flow in loaded:
        origin = file.origin
        if origin == USER and flow.id in builtin:
            origin = "user, overrides built-in"
        elif origin == BUILT_IN and flow.id in user:
            origin = "built-in, overridden by user"
        origins[file.path] = origin
    return origins


@flows_app.command("list")
def list_flows() -> None:
    """List the flows cmbot knows: built-in ones and those in CMBOT_FLOWS (which win by id)."""
    loaded, broken = _load_all()
    origins = _origins(loaded)
    for file, flow in loaded:
        typer.echo("\t".join([flow.id, f"v{flow.version}", origins[file.path], ",".join(flow.languages),
                              flow.title.get("en", ""), str(file.path)]))
    for error in broken:
        sys.stderr.write(f"{error}\n")
    if broken:
        sys.stderr.write("Some flow files do not load; `cmbot flows check` lists every problem.\n")
        raise typer.Exit(2)


@flows_app.command("check")
def check(
    files: Annotated[list[Path] | None,
                     typer.Argument(metavar="FILE", help="Flow files (default: all known).")] = None,
) -> None:
    """Check flow files against flows/schema.json and the flow rules; list every problem."""
    targets = [FlowFile(p, NAMED) for p in files] if files else known_files(_user_dir())
    results = check_files(targets)
    builtin = _builtin_paths()
    problems = 0
    for result in results:
        for error in result.errors:
            typer.echo(str(error))
        problems += len(result.errors)
        flow = result.flow
        if flow is not None and not result.errors:
            note = result.file.origin
            if builtin.get(flow.id, result.file.path.resolve()) != result.file.path.resolve():
                note += f", overrides the built-in '{flow.id}'"
            typer.echo(f"{result.file.path}: OK ({flow.id} v{flow.version}, {question_count(flow)}, "
                       f"{'/'.join(flow.languages)}, {note})")
    if problems:
        bad = sum(1 for r in results if r.errors)
        sys.stderr.write(f"{problems} problem{'s' * (problems != 1)} in {bad} file{'s' * (bad != 1)}\n")
        raise typer.Exit(1)


def question_count(flow: Flow) -> str:
    """"12 questions, 10 to 12 asked": how many the file holds and how many one person answers
    (the count a person sees in "question 4 of 11" is the one on their own path)."""
    shortest, longest = path_lengths(flow)
    asked = f"{shortest} to {longest}" if shortest != longest else str(longest)
    return f"{len(flow.questions)} questions, {asked} asked"


def path_lengths(flow: Flow) -> tuple[int, int]:
    """The fewest and most questions on a way from the start to the confirm step."""
    memo: dict[str, tuple[int, int]] = {}

    def walk(state: str, seen: frozenset[str]) -> tuple[int, int]:
        question = flow.states.get(state)
        if question is None or question.kind == "confirm" or state in seen:
            return 0, 0
        if state not in memo:
            ends = [walk(rule.goto, seen | {state}) for rule in question.next] or [(0, 0)]
            memo[state] = (1 + min(e[0] for e in ends), 1 + max(e[1] for e in ends))
        return memo[state]

    return walk(flow.start, frozenset())


@flows_app.command("graph")
def graph(flow_id: Annotated[str, typer.Argument(metavar="ID", help="A flow id, or a flow file.")]) -> None:
    """Print a flow's state machine as Mermaid (paste it in Markdown between ```mermaid fences)."""
    if flow_id.endswith((".yaml", ".yml")) and Path(flow_id).is_file():
        try:
            flow = load_flow(flow_id)
        except FlowError as exc:
            sys.stderr.write(f"{exc}\n")
            raise typer.Exit(2) from exc
    else:
        loaded, broken = _load_all()
        found = {f.id: f for _, f in loaded}  # later files (CMBOT_FLOWS) win, as at run time
        if flow_id not in found:
            more = "; some flow files do not load (see `cmbot flows check`)" if broken else ""
            sys.stderr.write(f"Unknown flow '{flow_id}' (known: {', '.join(sorted(found))}){more}\n")
            raise typer.Exit(2)
        flow = found[flow_id]
    typer.echo(mermaid(flow), nl=False)
