"""`cmbot db export` / `cmbot db import`: the database as JSON Lines, a stable, versioned format.

Format version 2 (what `export` writes):

- line 1, the header: `{"format": "cmbot-export", "format_version": 2, "cmbot_version": …,
  "exported_at": …}`;
- then one object per line: `{"type": "consultation", …}` for every finished consultation,
  shard by shard of the archive (shard files in name order, each in the order its
  consultations were archived; a consultation's shard depends only on its id, so an export
  imported into an empty database exports again line for line the same), then
  `{"type": "session", …}` for interviews in progress (only with `--sessions`). Their fields
  are `CONSULTATION` and `SESSION` below, always all of them, in that order; a field is never
  added or removed without a new format version.

Format version 1: the same without `workspace` (every record in the default workspace, `""`).
Format version 0 (an earlier draft): no header, one bare consultation object per line, `team`
and `parent_id` possibly absent. `MIGRATIONS` upgrades each line to the current version.

Import checks every line before it writes anything, so a file is imported whole or not at all;
ids already in the database are skipped, so importing a file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from jsonschema import Draft202012Validator

from .. import __version__
from ..interview.session import now_iso
from .archive import SHARDS, archive_path, export_records, shard_index, shard_name
from .atomic import gc_paused
from .errors import CorruptDatabase
from .journal import journalled
from .protocol import Storage, with_workspace, workspace_of
from .sessions import iter_sessions
from .store import Record, Store
from .stream import iter_documents

FORMAT = "cmbot-export"
FORMAT_VERSION = 2


# What each kind of field must hold, as JSON Schema; its name is the catalogue key
# `db.type.<name>` that says it in words.
KINDS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "id": {"type": "string", "minLength": 1},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "optional_string": {"type": ["string", "null"]},
    "strings": {"type": "array", "items": {"type": "string"}},
    "string_map": {"type": "object", "additionalProperties": {"type": "string"}},
    "recommendation": {"type": "object", "required": ["placement"],
                       "properties": {"placement": {"type": "string"}}},
    "answers": {"type": "object", "additionalProperties": {
        "type": "object", "required": ["value", "by", "at"], "additionalProperties": False,
        "properties": {"value": {}, "by": {"type": "string"}, "at": {"type": "string"}}}},
}
CONSULTATION: dict[str, str] = {
    "id": "id", "flow_id": "id", "flow_version": "integer", "lang": "string",
    "started_by": "string", "where": "object", "team": "boolean", "parent_id": "optional_string",
    "created_at": "string", "finished_at": "string",
    "answers": "object", "answered_by": "string_map", "recommendation": "recommendation",
    "workspace": "string",
}
SESSION: dict[str, str] = {
    "id": "id", "flow_id": "id", "flow_version": "integer", "state": "id", "lang": "string",
    "started_by": "string", "where": "object", "team": "boolean", "parent_id": "optional_string",
    "created_at": "string", "updated_at": "string",
    "answers": "answers", "history": "strings", "editing": "boolean", "meta": "object",
    "workspace": "string",
}


def line_validator(fields: dict[str, str]) -> Draft202012Validator:
    """The JSON Schema of one line type: every field, of its kind, and nothing else."""
    return Draft202012Validator({
        "type": "object", "required": list(fields), "additionalProperties": False,
        "properties": {"type": {}, **{name: {"title": kind, **KINDS[kind]} for name, kind in fields.items()}},
    })


LINE_TYPES: dict[str, tuple[str, dict[str, str]]] = {  # line type -> (store table, fields)
    "consultation": ("consultations", CONSULTATION),
    "session": ("sessions", SESSION),
}
TABLE_FIELDS = {table: fields for table, fields in LINE_TYPES.values()}
VALIDATORS = {line_type: line_validator(fields) for line_type, (_, fields) in LINE_TYPES.items()}


def _v0_to_v1(line: dict[str, Any]) -> dict[str, Any]:
    """v0 lines are bare consultations that may predate team interviews and re-runs."""
    return {"type": "consultation", **line, "team": line.get("team", False),
            "parent_id": line.get("parent_id")}


def _v1_to_v2(line: dict[str, Any]) -> dict[str, Any]:
    """v1 lines predate workspaces: they belong to the default one."""
    return {**line, "workspace": line.get("workspace", "")}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2}


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


def check_fields(line_no: int, line: dict[str, Any], line_type: str) -> list[Problem]:
    """What is wrong with a line of this type, in words the catalogue has: missing fields (in
    the format's order), unknown fields, then fields of the wrong kind (one problem each)."""
    fields = LINE_TYPES[line_type][1]
    missing, unknown, wrong = [], [], {}
    for error in VALIDATORS[line_type].iter_errors(line):
        if error.validator == "required" and not error.path:
            missing += [f for f in error.validator_value if f not in line]
        elif error.validator == "additionalProperties" and not error.path:
            unknown += [f for f in line if f not in fields and f != "type"]
        elif error.path:
            field_name = str(error.path[0])
            wrong.setdefault(field_name, Problem(line_no, "wrong_type",
                                                 {"field": field_name, "expected": fields[field_name]}))
    return ([Problem(line_no, "missing_field", {"field": f}) for f in fields if f in missing]
            + [Problem(line_no, "unknown_field", {"field": f}) for f in line if f in unknown]
            + [wrong[f] for f in fields if f in wrong])


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- export -----------------------------------------------------------------------------------


def header(exported_at: str | None = None) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "cmbot_version": __version__,
            "exported_at": exported_at or now_iso()}


def _check_export(path: Path, record: Record, line_type: str) -> str:
    fields = LINE_TYPES[line_type][1]
    record = {**record, "workspace": workspace_of(record)}
    problems = check_fields(0, record, line_type)
    if problems:
        raise ExportError(path, str(record.get("id")), problems[0])
    return _dumps({"type": line_type, **{f: record[f] for f in fields}})


@dataclass
class Exported:
    """What an export wrote, per line type, and the shards it could not read (left out)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINE_TYPES, 0))
    unreadable: list[CorruptDatabase] = field(default_factory=list)


def export(db_path: Path, out: TextIO, sessions: bool = False, workspace: str | None = None) -> Exported:
    """Write the export to `out`, read straight from the files (no lock needed: a write replaces
    a file, so an open one stays the snapshot being read); memory is one shard at a time.
    Consultations shard by shard, then sessions; an unreadable shard is left out and named.
    With `workspace`, only that workspace's records."""
    done = Exported()
    out.write(_dumps(header()))
    for path, record in export_records(db_path, done.unreadable):
        if workspace is None or workspace_of(record) == workspace:
            out.write(_check_export(path, record, "consultation"))
            done.counts["consultation"] += 1
    if sessions:
        for record in iter_sessions(db_path):
            if workspace is None or workspace_of(record) == workspace:
                out.write(_check_export(db_path, record, "session"))
                done.counts["session"] += 1
    return done


# --- import -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What checking a file found: its format version, the ids to import per store table, how
    many lines the database already has (skipped), and the file as it was checked (size and
    modification time: the writing pass refuses a file that changed in between)."""

    version: int
    into: str | None = None  # the workspace the default workspace's records are imported into
    new: dict[str, set[str]] = field(default_factory=lambda: {"consultations": set(), "sessions": set()})
    skipped: dict[str, int] = field(default_factory=lambda: {"consultations": 0, "sessions": 0})
    stamp: tuple[int, int] = (0, 0)


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
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
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


def _check(line_no: int, line: dict[str, Any], validate: bool = True) -> tuple[str, Record] | list[Problem]:
    """A current-version line as (store table, record), or what is wrong with it (`validate`
    False: a line checked before, read again)."""
    if "type" not in line:
        return [Problem(line_no, "missing_field", {"field": "type"})]
    if line["type"] not in LINE_TYPES:
        return [Problem(line_no, "unknown_type", {"type": json.dumps(line["type"])})]
    table, fields = LINE_TYPES[line["type"]]
    problems = check_fields(line_no, line, line["type"]) if validate else []
    if problems:
        return problems
    return table, with_workspace({f: line[f] for f in fields if f != "workspace"}, line["workspace"])


Line = tuple[int, str, Record]  # line number, store table, record


def _lines(path: Path, problems: list[Problem], progress: Callable[[int], None] | None = None,
           validate: bool = True, into: str | None = None) -> Iterator[tuple[int, Line | None]]:
    """The file's format version with each good line (migrated to the current version), in file
    order; bad lines go to `problems`. `(version, None)` comes first. Memory: one line."""
    version: int | None = None
    done = 0
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            done += len(raw)
            if progress and line_no % 1000 == 0:
                progress(done)
            line = _parse(line_no, raw)
            if line is None:
                continue
            if version is None:  # the first line says how to read the others
                version, fatal = (None, line) if isinstance(line, Problem) else _version(line_no, line)
                if version is None:
                    raise ImportRefused(path, [fatal or Problem(line_no, "header_missing")])
                yield version, None
                if version > 0:
                    continue
            if isinstance(line, Problem):
                problems.append(line)
                continue
            for from_version in range(version, FORMAT_VERSION):
                line = MIGRATIONS[from_version](line)
            checked = _check(line_no, line, validate)
            if isinstance(checked, list):
                problems += checked
                continue
            table, record = checked
            if into and not workspace_of(record):  # `--as-team`: the default workspace's go there
                record = with_workspace(record, into)
            yield version, (line_no, table, record)
    if progress:
        progress(done)
    if version is None:
        raise ImportRefused(path, [Problem(1, "empty_file")])


def fingerprint(record: Record, fields: Mapping[str, Any]) -> bytes:
    """What identifies a record's content, field by field (to tell a re-import from a clash)."""
    text = json.dumps({f: record.get(f) for f in fields}, ensure_ascii=False, sort_keys=True)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def read_export(path: Path, progress: Callable[[int], None] | None = None,
                store: Storage | None = None, limit: int = 50, workspace: str | None = None,
                into: str | None = None) -> Plan:
    """Check every line of an export (one pass, the memory of one line plus the ids), upgrading
    older versions on the way; raise `ImportRefused` (the first `limit` problems and a count of
    the others) if any line is bad, or if `store` holds one of its ids for a different record
    (a clash is reported, never merged). Records `store` already has, the same, are skipped, so
    importing a file twice changes nothing. `progress` gets the number of bytes read so far."""
    with gc_paused():  # parsed lines are many containers, none of them cyclic
        stat = path.stat()
        present = {table: store.ids(table) for table, _ in LINE_TYPES.values()} if store else {}
        problems: list[Problem] = []
        first_seen: dict[tuple[str, str], int] = {}
        there: dict[str, dict[str, tuple[int, bytes]]] = {"consultations": {}, "sessions": {}}
        plan: Plan | None = None
        for version, line in _lines(path, problems, progress, into=into):
            if line is None:
                plan = Plan(version, into, stamp=(stat.st_size, stat.st_mtime_ns))
                continue
            line_no, table, record = line
            if workspace is not None and workspace_of(record) != workspace:
                continue  # another workspace's: left out (`--team`)
            first = first_seen.setdefault((table, record["id"]), line_no)
            if first != line_no:
                problems.append(Problem(line_no, "duplicate", {"id": record["id"], "first": first}))
            elif record["id"] in present.get(table, ()):
                there[table][record["id"]] = (line_no, fingerprint(record, TABLE_FIELDS[table]))
            else:
                assert plan is not None
                plan.new[table].add(record["id"])
        assert plan is not None
        if store is not None:
            problems += _clashes(store, there)
        if problems:
            problems.sort(key=lambda p: p.line)
            raise ImportRefused(path, problems[:limit], max(0, len(problems) - limit))
        plan.skipped = {table: len(ids) for table, ids in there.items()}
        return plan


def _clashes(store: Storage, there: dict[str, dict[str, tuple[int, bytes]]]) -> list[Problem]:
    """Lines whose id the database has for a different record (each one a problem naming the
    id), read one stored record at a time (re-importing a large file holds no record)."""
    problems = []
    for table, doc in _stored(store, there):
        line_no, print_ = there[table].get(doc.get("id"), (0, b""))
        if line_no and fingerprint(doc, TABLE_FIELDS[table]) != print_:
            key = "id_clash" if table == "consultations" else "id_clash_session"
            problems.append(Problem(line_no, key, {"id": doc["id"]}))
    return problems


def _stored(store: Storage, there: dict[str, dict[str, Any]]) -> Iterator[tuple[str, Record]]:
    """The stored records that may hold the ids of `there`: on the TinyDB files, each shard
    holding one of them, read once; on another engine, its tables streamed (`records`)."""
    if not isinstance(store, Store):
        for table, ids in there.items():
            if ids:
                yield from ((table, doc) for doc in store.records(table))
        return
    for name in sorted({shard_name(cid) for cid in there["consultations"]}):
        for table, _, doc in iter_documents(archive_path(store.path) / name):
            if table == "consultations":
                yield table, doc
    if there["sessions"]:
        yield from (("sessions", doc) for doc in iter_sessions(store.path))


def import_records(store: Store, path: Path, plan: Plan,
                   progress: Callable[[int], None] | None = None) -> Summary:
    """Write what `read_export` planned, all or nothing even under `kill -9`: the ids to add are
    journalled first (see `journal`), so an import cut short is undone by the next process
    that opens the database to write. The file is read a second time rather than held: its new
    consultations are spooled to a few staging files by range of shards, then each range is
    written (one write per touched shard, one index append): memory stays one range's worth."""
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != plan.stamp:
        raise ImportRefused(path, [Problem(1, "changed")])
    imported = {"consultations": 0, "sessions": 0}
    with journalled(store.path, path, plan.new) as staging:
        sessions: list[Record] = []
        buckets = Buckets(staging, max(1, -(-stat.st_size // BUCKET_BYTES)))
        with gc_paused():
            for _, line in _lines(path, [], progress, validate=False, into=plan.into):  # checked before
                if line is None or line[2]["id"] not in plan.new[line[1]]:
                    continue
                if line[1] == "sessions":
                    sessions.append(line[2])
                else:
                    buckets.add(line[2])
            for records in buckets.drain():
                imported["consultations"] += store.insert_new("consultations", records)
            imported["sessions"] = store.insert_new("sessions", sessions)
    return Summary(plan.version, imported, plan.skipped)


BUCKET_BYTES = 8 << 20  # export text per staging file: ~50 MB once parsed


class Buckets:
    """Consultations spooled to staging files by range of shards, read back one range at a time."""

    def __init__(self, folder: Path, count: int):
        self.paths = [folder / f"{n:04d}.jsonl" for n in range(count)]
        self.handles = [p.open("w", encoding="utf-8") for p in self.paths]

    def add(self, record: Record) -> None:
        bucket = shard_index(record["id"]) * len(self.paths) // SHARDS
        self.handles[bucket].write(json.dumps(record, ensure_ascii=False) + "\n")

    def drain(self) -> Iterator[list[Record]]:
        for handle in self.handles:
            handle.close()
        for path in self.paths:
            with path.open(encoding="utf-8") as handle:
                records = [json.loads(line) for line in handle]
            path.unlink()
            if records:
                yield records
