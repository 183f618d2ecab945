"""`cmbot flows check`: every problem of every flow file at once, each with its line.

A file is checked exactly as `load_flow` reads it (`loader.inspect_flow`); across files, two of
one folder with the same flow id are an error too, since the later one would silently hide the
other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .loader import inspect_flow
from .model import Flow
from .source import FlowError, builtin_flows_dir, flow_files, parse_document, read_flow_text

BUILT_IN, USER, NAMED = "built-in", "user", "file"


@dataclass(frozen=True)
class FlowFile:
    path: Path
    origin: str  # built-in, user (CMBOT_FLOWS) or file (named on the command line)


@dataclass
class Checked:
    file: FlowFile
    flow: Flow | None  # None when the file has problems
    errors: list[FlowError] = field(default_factory=list)


def known_files(extra_dir: str | Path | None) -> list[FlowFile]:
    """Built-in flow files then the user's, in the order `load_flows` reads them."""
    files = [FlowFile(p, BUILT_IN) for p in flow_files(builtin_flows_dir())]
    return files + ([FlowFile(p, USER) for p in flow_files(extra_dir)] if extra_dir else [])


def check_files(files: Sequence[FlowFile]) -> list[Checked]:
    results: list[Checked] = []
    seen: dict[tuple[Path, str], Path] = {}
    for file in files:
        try:
            text = read_flow_text(file.path)
        except FlowError as exc:
            results.append(Checked(file, None, [exc]))
            continue
        flow, errors = inspect_flow(text, str(file.path))
        errors.sort(key=lambda e: e.line or 0)
        if flow is not None:
            key = (file.path.resolve().parent, flow.id)
            if key in seen:
                doc = parse_document(text, str(file.path))
                errors.append(doc.error(("id",), f"flow id '{flow.id}' is also the id of {seen[key]}",
                                        hint="rename one; only the later file would be used"))
                flow = None
            seen.setdefault(key, file.path)
        results.append(Checked(file, flow, errors))
    return results
