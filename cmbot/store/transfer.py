"""`cmbot db export` / `cmbot db import`: the database as JSON Lines, a stable, versioned format.

Format version 1 (what `export` writes):

- line 1, the header: `{"format": "cmbot-export", "format_version": 1, "cmbot_version": …,
  "exported_at": …}`;
- then one object per line: `{"type": "consultation", …}` for every finished consultation,
  shard by shard of the archive (shard files in name order, each in the order its
  consultations were archived; a consultation's shard depends only on its id, so an export
  imported into an empty database exports again line for line the same), then
  `{"type": "session", …}` for interviews in progress (only with `--sessions`). Their fields
  are `CONSULTATION` and `SESSION` below, always all of them, in that order; a field is never
  added or removed without a new format version.

Format version 0 (an earlier draft): no header, one bare consultation object per line, `team`
and `parent_id` possibly absent. `MIGRATIONS` upgrades each line to the current version.

Import checks every line before it writes anything, so a file is imported whole or not at all;
ids already in the database are skipped, so importing a file twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import __version__
from ..interview.session import now_iso
from .archive import export_records
from .atomic import gc_paused
from .sessions import iter_sessions
from .store import Record, Store

FORMAT = "cmbot-export"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Kind:
    """A JSON type a field must have: its catalogue name (`db.type.<name>`) and its test."""

    name: str
    test: Callable[[Any], bool]


def _answers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(a, dict) and set(a) == {"value", "by", "at"}
        and isinstance(a["by"], str) and isinstance(a["at"], str) for a in value.values())


STRING = Kind("string", lambda v: isinstance(v, str))
ID = Kind("id", lambda v: isinstance(v, str) and v != "")
INTEGER = Kind("integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
BOOLEAN = Kind("boolean", lambda v: isinstance(v, bool))
OBJECT = Kind("object", lambda v: isinstance(v, dict))
OPTIONAL_STRING = Kind("optional_string", lambda v: v is None or isinstance(v, str))
STRINGS = Kind("strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
STRING_MAP = Kind("string_map", lambda v: isinstance(v, dict)
                  and all(isinstance(x, str) for x in v.values()))
RECOMMENDATION = Kind("recommendation", lambda v: isinstance(v, dict)
                      and isinstance(v.get("placement"), str))
ANSWERS = Kind("answers", _answers)

CONSULTATION: dict[str, Kind] = {
    "id": ID, "flow_id": ID, "flow_version": INTEGER, "lang": STRING,
    "started_by": STRING, "where": OBJECT, "team": BOOLEAN, "parent_id": OPTIONAL_STRING,
    "created_at": STRING, "finished_at": STRING,
    "answers": OBJECT, "answered_by": STRING_MAP, "recommendation": RECOMMENDATION,
}
SESSION: dict[str, Kind] = {
    "id": ID, "flow_id": ID, "flow_version": INTEGER, "state": ID, "lang": STRING,
    "started_by": STRING, "where": OBJECT, "team": BOOLEAN, "parent_id": OPTIONAL_STRING,
    "created_at": STRING, "updated_at": STRING,
    "answers": ANSWERS, "history": STRINGS, "editing": BOOLEAN, "meta": OBJECT,
}
LINE_TYPES: dict[str, tuple[str, dict[str, Kind]]] = {  # line type -> (store table, fields)
    "consultation": ("consultations", CONSULTATION),
    "session": ("sessions", SESSION),
}


def _v0_to_v1(line: dict[str, Any]) -> dict[str, Any]:
    """v0 lines are bare consultations that may predate team interviews and re-runs."""
    return {"type": "consultation", **line, "team": line.get("team", False),
            "parent_id": line.get("parent_id")}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}


@dataclass(frozen=True)
class Problem:
    """Why one line cannot be imported: a catalogue key under `db.problem.` and its values."""

    line: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


class ExportError(ValueError):
    """A stored record that does not fit the export format (so it could not be imported back)."""

    def __init__(self, path: Path, record_id: str, problem: Problem):
        self.path, self.record_id, self.problem = path, record_id, problem
        super().__init__(f"{path}: {record_id}: {problem.key} {problem.params}")


class ImportRefused(ValueError):
    """The file has bad lines (the first `len(problems)` of them, and `more` others); nothing was
    written."""

    def __init__(self, path: Path, problems: list[Problem], more: int = 0):
        self.path, self.problems, self.more = path, problems, more
        super().__init__(f"{path}: {len(problems) + more} problem(s)")


def check_fields(line_no: int, line: dict[str, Any], fields: dict[str, Kind]) -> list[Problem]:
    problems = [Problem(line_no, "missing_field", {"field": name}) for name in fields if name not in line]
    problems += [Problem(line_no, "unknown_field", {"field": name})
                 for name in line if name not in fields and name != "type"]
    problems += [Problem(line_no, "wrong_type", {"field": name, "expected": kind.name})
                 for name, kind in fields.items() if name in line and not kind.test(line[name])]
    return problems


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- export -----------------------------------------------------------------------------------


def header(exported_at: str | None = None) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "cmbot_version": __version__,
            "exported_at": exported_at or now_iso()}


def _check_export(path: Path, record: Record, line_type: str) -> str:
    fields = LINE_TYPES[line_type][1]
    problems = check_fields(0, record, fields)
    if problems:
        raise ExportError(path, str(record.get("id")), problems[0])
    return _dumps({"type": line_type, **{f: record[f] for f in fields}})


def _lines(db_path: Path, sessions: bool) -> Iterator[tuple[str, str]]:
    """(line type, line) in export order: consultations shard by shard, then sessions."""
    for path, record in export_records(db_path):
        yield "consultation", _check_export(path, record, "consultation")
    if sessions:
        for record in iter_sessions(db_path):
            yield "session", _check_export(db_path, record, "session")


def export_lines(db_path: Path, sessions: bool = False) -> Iterator[str]:
    """The export, line by line, read straight from the files (no lock needed: a write replaces a
    file, so an open one stays the snapshot being read); memory is one shard at a time."""
    yield _dumps(header())
    for _, line in _lines(db_path, sessions):
        yield line


def export(db_path: Path, out: TextIO, sessions: bool = False) -> dict[str, int]:
    """Write the export to `out`; returns how many lines of each type were written."""
    out.write(_dumps(header()))
    counts = dict.fromkeys(LINE_TYPES, 0)
    for line_type, line in _lines(db_path, sessions):
        out.write(line)
        counts[line_type] += 1
    return counts


# --- import -----------------------------------------------------------------------------------


@dataclass
class Parsed:
    """A checked file: its format version, the records to add per store table, and how many
    were left out because the database already has their id."""

    version: int
    records: dict[str, list[Record]] = field(default_factory=lambda: {"consultations": [], "sessions": []})
    skipped: dict[str, int] = field(default_factory=lambda: {"consultations": 0, "sessions": 0})


@dataclass
class Summary:
    version: int
    imported: dict[str, int]
    skipped: dict[str, int]


def _version(line_no: int, first: dict[str, Any]) -> tuple[int | None, Problem | None]:
    """The format version the first line announces: a header, or none at all (version 0)."""
    if "format" not in first:
        if "type" in first:
            return None, Problem(line_no, "header_missing")
        return 0, None
    if first["format"] != FORMAT:
        return None, Problem(line_no, "not_export", {"format": json.dumps(first["format"])})
    version = first.get("format_version")
    if not INTEGER.test(version) or version < 1:
        return None, Problem(line_no, "bad_version", {"version": json.dumps(version)})
    if version > FORMAT_VERSION:
        return None, Problem(line_no, "newer_version", {"version": version, "supported": FORMAT_VERSION})
    return version, None


def _parse(line_no: int, raw: bytes) -> dict[str, Any] | Problem | None:
    """One line as a JSON object, a Problem, or None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(line_no, "not_utf8")
    if not text.strip():
        return None
    try:
        line = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(line_no, "not_json", {"error": f"{exc.msg}, column {exc.colno}"})
    return line if isinstance(line, dict) else Problem(line_no, "not_object")


def _check(line_no: int, line: dict[str, Any]) -> tuple[str, Record] | list[Problem]:
    """A current-version line as (store table, record), or what is wrong with it."""
    if "type" not in line:
        return [Problem(line_no, "missing_field", {"field": "type"})]
    if line["type"] not in LINE_TYPES:
        return [Problem(line_no, "unknown_type", {"type": json.dumps(line["type"])})]
    table, fields = LINE_TYPES[line["type"]]
    return check_fields(line_no, line, fields) or (table, {f: line[f] for f in fields})


def read_export(path: Path, progress: Callable[[int], None] | None = None,
                present: Mapping[str, set[str]] | None = None, limit: int = 50) -> Parsed:
    """Check every line of an export, upgrading older versions on the way; raise `ImportRefused`
    (the first `limit` problems and a count of the others) if any line is bad. Records whose id
    is in `present[table]` are checked, counted and dropped, so re-importing a large file holds
    nothing in memory. `progress` gets the number of bytes read so far."""
    with gc_paused():  # 100 000 parsed lines are millions of containers, none of them cyclic
        return _read_export(path, progress, present or {}, limit)


def _read_export(path: Path, progress: Callable[[int], None] | None,
                 present: Mapping[str, set[str]], limit: int) -> Parsed:
    problems: list[Problem] = []
    parsed: Parsed | None = None
    first_seen: dict[tuple[str, str], int] = {}
    done = 0
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            done += len(raw)
            if progress and line_no % 1000 == 0:
                progress(done)
            line = _parse(line_no, raw)
            if line is None:
                continue
            if parsed is None:  # the first line says how to read the others
                version, fatal = (None, line) if isinstance(line, Problem) else _version(line_no, line)
                if version is None:
                    raise ImportRefused(path, [fatal or Problem(line_no, "header_missing")])
                parsed = Parsed(version)
                if version > 0:
                    continue
            if isinstance(line, Problem):
                problems.append(line)
                continue
            for from_version in range(parsed.version, FORMAT_VERSION):
                line = MIGRATIONS[from_version](line)
            checked = _check(line_no, line)
            if isinstance(checked, list):
                problems += checked
                continue
            table, record = checked
            first = first_seen.setdefault((table, record["id"]), line_no)
            if first != line_no:
                problems.append(Problem(line_no, "duplicate", {"id": record["id"], "first": first}))
                continue
            if record["id"] in present.get(table, ()):
                parsed.skipped[table] += 1
            else:
                parsed.records[table].append(record)
    if progress:
        progress(done)
    if parsed is None:
        raise ImportRefused(path, [Problem(1, "empty_file")])
    if problems:
        raise ImportRefused(path, problems[:limit], max(0, len(problems) - limit))
    return parsed


def import_records(store: Store, parsed: Parsed) -> Summary:
    """Write checked records, one bulk write per file (per touched shard of the archive, plus one
    index append), skipping ids the database already has."""
    imported = {table: store.insert_new(table, records) for table, records in parsed.records.items()}
    skipped = {table: parsed.skipped[table] + len(parsed.records[table]) - n
               for table, n in imported.items()}
    return Summary(parsed.version, imported, skipped)


def present_ids(store: Store) -> dict[str, set[str]]:
    """The ids the database already has, per table, for `read_export(present=...)`."""
    return {table: store.ids(table) for table, _ in LINE_TYPES.values()}
