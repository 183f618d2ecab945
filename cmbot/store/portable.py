"""`cmbot db export`, `db import` and `db check` on an engine other than the TinyDB files
(PostgreSQL), through the storage interface only.

The export is the same format, line for line, as the TinyDB engine's, so `db export` from one
engine and `db import` into the other move a database between them. Records are read through
`records`, streamed. An import is checked whole first (`read_export`: bad lines, and ids the
database holds for other content, refuse it), then written by `import_new` in batches, every
table in one transaction on PostgreSQL; ids already there with the same content are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from .protocol import Batch, Record, Storage, workspace_of
from .transfer import (
    LINE_TYPES,
    ImportRefused,
    Plan,
    Problem,
    Summary,
    _check_export,
    _dumps,
    _lines,
    header,
)

BATCH = 1000  # records per insert: a batch is sent as one round trip
TABLE_OF = {line_type: table for line_type, (table, _) in LINE_TYPES.items()}


def _export_lines(store: Storage, label: Path, sessions: bool,
                  workspace: str | None) -> Iterator[tuple[str, str]]:
    for line_type in ("consultation", "session") if sessions else ("consultation",):
        for record in store.records(TABLE_OF[line_type]):
            if workspace is None or workspace_of(record) == workspace:
                yield line_type, _check_export(label, record, line_type)


def export_storage(store: Storage, label: str, out: TextIO, sessions: bool = False,
                   workspace: str | None = None) -> dict[str, int]:
    """Write the export of `store` (of one workspace's records, with `workspace`) to `out`;
    returns how many lines of each type were written. `label` names the database in error
    messages (`ExportError.path`)."""
    out.write(_dumps(header()))
    counts = dict.fromkeys(LINE_TYPES, 0)
    for line_type, line in _export_lines(store, Path(label), sessions, workspace):
        out.write(line)
        counts[line_type] += 1
    return counts


def import_storage(store: Storage, path: Path, plan: Plan,
                   progress: Callable[[int], None] | None = None) -> Summary:
    """Write the records `read_export` checked (`plan`), all or nothing (`import_new`: one
    transaction on PostgreSQL), reading the file again in batches rather than holding it."""
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != plan.stamp:
        raise ImportRefused(path, [Problem(1, "changed")])
    given = dict.fromkeys(plan.new, 0)

    def batches() -> Iterator[Batch]:
        pending: dict[str, list[Record]] = {table: [] for table in plan.new}
        for _, line in _lines(path, [], progress, validate=False, into=plan.into):
            if line is None or line[2]["id"] not in plan.new[line[1]]:
                continue
            pending[line[1]].append(line[2])
            given[line[1]] += 1
            if len(pending[line[1]]) >= BATCH:
                yield line[1], pending[line[1]]
                pending[line[1]] = []
        yield from ((table, records) for table, records in pending.items() if records)

    imported = store.import_new(batches(), str(path))
    # a record another replica added since the check is skipped too
    skipped = {table: plan.skipped[table] + given[table] - imported[table] for table in plan.new}
    return Summary(plan.version, imported, skipped)


@dataclass
class TableHealth:
    table: str
    count: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)  # (id, why)


def check_storage(store: Storage) -> list[TableHealth]:
    """Read every record of every table: each must be a JSON object with an id."""
    found = []
    for table in dict.fromkeys(TABLE_OF.values()):
        health = TableHealth(table)
        for record in store.records(table):
            health.count += 1
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                health.bad.append((str(record.get("id") if isinstance(record, dict) else "?"),
                                   "not a record with an id"))
        found.append(health)
    return found


def describe(url: str) -> str:
    """The database a URL names, without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or (dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
                              .get("host", "localhost"))
    return f"{parts.scheme}://{host}{parts.path}"

