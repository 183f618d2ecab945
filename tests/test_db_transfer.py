"""`cmbot db export` / `cmbot db import` on real TinyDB files: the format, the round trip, all or
nothing, idempotence, the format-version-0 migration, and the lock that keeps a running bot's
database safe from an import."""

from __future__ import annotations

import io
import json
import os
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from begun import begun
from clitools import finish
from commandline import environment, run

from cmbot import __version__
from cmbot.consultation import Consultation
from cmbot.interview import Session, Where
from cmbot.service import Desk
from cmbot.store import Store, archive_path
from cmbot.store.archive import INDEX, shard_files, shard_name
from cmbot.store.transfer import (
    CONSULTATION,
    FORMAT_VERSION,
    SESSION,
    ImportRefused,
    export,
    import_records,
    read_export,
)

ARTICLE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "examples" / "article-case.yaml").read_text("utf-8"))


def cmbot(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command, as a person runs it, on the database `db`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    return run(args, env=environment(db), cwd=db.parent, timeout=120)


def export_lines(db: Path, sessions: bool = False) -> list[str]:
    """What `cmbot db export` writes, line by line."""
    out = io.StringIO()
    assert not export(db, out, sessions=sessions).unreadable
    return out.getvalue().splitlines(keepends=True)


def fill(db: Path, consultations: int = 3, sessions: int = 1) -> None:
    """Consultations from varied answers, languages and places, and interviews in progress."""
    desk = Desk(Store(db))
    for n in range(consultations):
        answers = dict(ARTICLE, dedicated_possible=("yes", "no", "maybe")[n % 3],
                       objectives=["fans", "other"], objectives_other=f"Grow «{n}» ☕ fans")
        finish(desk, answers, lang=("en", "fr")[n % 2], started_by=f"U{n}",
               where=Where.from_dict({"kind": "channel", "channel": "C1", "thread": f"1700.{n}"})
               if n % 2 else Where(),
               team=bool(n % 2))
    for n in range(sessions):
        session = begun(desk, lang="fr", started_by=f"W{n}", where=Where.dm("D1"))
        desk.interview("community_manager").answer(session, "small", by=f"W{n}")
        desk.save(session)
    desk.store.close()


def export_file(db: Path, path: Path, sessions: bool = True) -> list[str]:
    lines = list(export_lines(db, sessions=sessions))
    path.write_text("".join(lines), encoding="utf-8")
    return lines


def import_into(db: Path, path: Path):
    store = Store(db, exclusive=True)
    try:
        return import_records(store, path, read_export(path, store=store))
    finally:
        store.close()


def files(db: Path) -> dict[str, bytes]:
    """Every file of the database (the archive's folder included), to show that a refused
    import changed nothing."""
    return {str(p.relative_to(db.parent)): p.read_bytes() for p in sorted(db.parent.rglob("*"))
            if p.is_file() and (p.name.startswith(db.stem) or p.parent == archive_path(db))
            and not p.name.endswith((".lock", ".lock.pid"))}


def body(lines: list[str]) -> list[str]:
    """An export without its header (the only line allowed to differ: `exported_at`)."""
    return lines[1:]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    db = tmp_path / "a" / "cmbot.json"
    fill(db)
    return db


# --- the format -------------------------------------------------------------------------------


def test_an_export_is_a_header_then_one_consultation_per_line(source):
    lines = list(export_lines(source))
    head = json.loads(lines[0])
    assert list(head) == ["format", "format_version", "cmbot_version", "exported_at"]
    assert head["format"] == "cmbot-export"
    assert head["format_version"] == FORMAT_VERSION == 2
    assert head["cmbot_version"] == __version__
    rows = [json.loads(line) for line in lines[1:]]
    assert [r["type"] for r in rows] == ["consultation"] * 3
    assert all(list(r) == ["type", *CONSULTATION] for r in rows)
    assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines)
    store = Store(source)
    stored = {c["id"]: store.get_consultation(c["id"]) for c in store.consultations()}
    for row in rows:
        assert row["workspace"] == ""  # the default workspace, which stored records do not name
        assert {k: v for k, v in row.items() if k not in ("type", "workspace")} == stored[row["id"]]
    assert {r["lang"] for r in rows} == {"en", "fr"}
    assert any(r["team"] and r["where"]["kind"] == "channel" for r in rows)


def test_interviews_in_progress_only_with_sessions(source):
    without = [json.loads(line)["type"] for line in list(export_lines(source))[1:]]
    assert "session" not in without
    with_sessions = [json.loads(line) for line in list(export_lines(source, sessions=True))[1:]]
    sessions = [r for r in with_sessions if r["type"] == "session"]
    assert len(sessions) == 1
    assert list(sessions[0]) == ["type", *SESSION]
    assert sessions[0]["answers"]["org_size"]["value"] == "small"
    assert with_sessions[-1]["type"] == "session"  # after every consultation


def test_the_format_carries_every_stored_field():
    """A field added to Consultation or Session must be added to the format (and its version);
    the storage adds the workspace a record belongs to."""
    assert set(CONSULTATION) == {f.name for f in fields(Consultation)} | {"workspace"}
    assert set(SESSION) == {f.name for f in fields(Session)} | {"workspace"}


def test_export_of_an_empty_database_is_just_the_header(tmp_path):
    lines = list(export_lines(tmp_path / "nothing.json", sessions=True))
    assert len(lines) == 1
    assert json.loads(lines[0])["format"] == "cmbot-export"


# --- round trip, bulk write, idempotence ------------------------------------------------------


def test_round_trip_gives_the_same_lines(source, tmp_path):
    first = export_file(source, tmp_path / "first.jsonl")
    target = tmp_path / "b" / "cmbot.json"
    summary = import_into(target, tmp_path / "first.jsonl")
    assert summary.imported == {"consultations": 3, "sessions": 1}
    assert summary.skipped == {"consultations": 0, "sessions": 0}
    assert body(list(export_lines(target, sessions=True))) == body(first)
    again = Store(target)
    assert again.consultations() == Store(source).consultations()
    assert again.sessions() == Store(source).sessions()


def test_import_writes_each_file_once(source, tmp_path):
    """TinyDB rewrites the whole file per write; the backup left by the import's only write of a
    shard is the shard as it was before the import, and the index gets one line per new record."""
    lines = export_file(source, tmp_path / "all.jsonl", sessions=False)
    (tmp_path / "one.jsonl").write_text("".join(lines[:2]), encoding="utf-8")
    target = tmp_path / "b" / "cmbot.json"
    desk = Desk(Store(target))
    finish(desk, ARTICLE)
    desk.store.close()
    assert import_into(target, tmp_path / "one.jsonl").imported["consultations"] == 1
    before = {p.name: p.read_bytes() for p in shard_files(archive_path(target))}
    summary = import_into(target, tmp_path / "all.jsonl")
    assert (summary.imported["consultations"], summary.skipped["consultations"]) == (2, 1)
    after = shard_files(archive_path(target))
    expected = set(before) | {shard_name(json.loads(line)["id"]) for line in lines[1:]}
    assert {p.name for p in after} == expected
    for shard in after:
        backup = Path(str(shard) + ".bak")
        if shard.name in before:
            assert not backup.exists() or backup.read_bytes() == before[shard.name]
        else:
            assert backup.read_bytes() == shard.read_bytes()  # written once: its backup is a copy
    index = (archive_path(target) / INDEX).read_text(encoding="utf-8").splitlines()
    assert len(index) == 4
    assert len(Store(target).consultations()) == 4


def test_importing_twice_changes_nothing(source, tmp_path):
    export_file(source, tmp_path / "all.jsonl")
    target = tmp_path / "b" / "cmbot.json"
    import_into(target, tmp_path / "all.jsonl")
    before = files(target)
    summary = import_into(target, tmp_path / "all.jsonl")
    assert summary.imported == {"consultations": 0, "sessions": 0}
    assert summary.skipped == {"consultations": 3, "sessions": 1}
    assert files(target) == before  # not even rewritten


# --- all or nothing ---------------------------------------------------------------------------


def _break(line: str, how: str) -> str:
    row = json.loads(line)
    if how == "not-json":
        return line[: len(line) // 2] + "\n"
    if how == "missing-field":
        del row["recommendation"]
    elif how == "wrong-type":
        row["flow_version"] = "1"
    elif how == "unknown-type":
        row["type"] = "note"
    elif how == "unknown-field":
        row["mood"] = "happy"
    elif how == "not-an-object":
        row = [row]  # type: ignore[assignment]
    return json.dumps(row, ensure_ascii=False) + "\n"


BAD_LINES = [
    pytest.param("not-json", "not valid JSON", id="not-json"),
    pytest.param("missing-field", "missing field 'recommendation'", id="missing-field"),
    pytest.param("wrong-type", "field 'flow_version' must be an integer", id="wrong-type"),
    pytest.param("unknown-type", 'unknown line type: "note"', id="unknown-type"),
    pytest.param("unknown-field", "unknown field 'mood'", id="unknown-field"),
    pytest.param("not-an-object", "not a JSON object", id="not-an-object"),
]


@pytest.mark.parametrize(("how", "reason"), BAD_LINES)
def test_one_bad_line_in_the_middle_imports_nothing(source, tmp_path, how, reason):
    lines = list(export_lines(source, sessions=True))
    lines[2] = _break(lines[2], how)  # line 3 of 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    target = tmp_path / "b" / "cmbot.json"
    desk = Desk(Store(target))
    finish(desk, ARTICLE)
    desk.store.close()
    before = files(target)

    result = cmbot(target, "db", "import", str(bad))
    assert result.returncode == 1, result.stdout
    assert f"{bad}:3: {reason}" in result.stderr
    assert "Nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    assert files(target) == before
    with pytest.raises(ImportRefused) as refused:
        read_export(bad)
    assert [p.line for p in refused.value.problems] == [3]


def test_every_bad_line_is_reported(source, tmp_path):
    lines = list(export_lines(source))
    lines[1] = _break(lines[1], "wrong-type")
    lines[3] = _break(lines[3], "missing-field")
    lines.append(lines[2])  # the same id again
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        read_export(bad)
    found = [(p.line, p.key) for p in refused.value.problems]
    assert found == [(2, "wrong_type"), (4, "missing_field"), (5, "duplicate")]
    assert refused.value.problems[-1].params == {"id": json.loads(lines[2])["id"], "first": 3}


def _header(**changes: Any) -> str:
    head = {"format": "cmbot-export", "format_version": 1, "cmbot_version": "9", "exported_at": "x"}
    return json.dumps({**head, **changes}) + "\n"


HEADERS = [
    pytest.param(None, "1: no header line", id="no-header"),
    pytest.param(_header(format_version=3), "1: format version 3 was written by a newer cmbot",
                 id="newer"),
    pytest.param(_header(format_version="1"), '1: unknown format version: "1"', id="bad-version"),
    pytest.param(_header(format="csv"), '1: not a cmbot export (format "csv")', id="not-ours"),
    pytest.param("", "1: the file is empty", id="empty"),
]


@pytest.mark.parametrize(("first", "message"), HEADERS)
def test_a_missing_or_unknown_header_imports_nothing(source, tmp_path, first, message):
    lines = list(export_lines(source))
    text = "".join(lines[1:]) if first is None else "" if first == "" else first + "".join(lines[1:])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(text, encoding="utf-8")
    target = tmp_path / "b" / "cmbot.json"
    result = cmbot(target, "db", "import", str(bad))
    assert result.returncode == 1
    assert f"{bad}:{message}" in result.stderr
    assert not shard_files(archive_path(target))


# --- format version 0 -------------------------------------------------------------------------


def test_a_format_version_0_file_is_migrated(source, tmp_path):
    """Version 0: no header, bare consultations, `team` and `parent_id` possibly absent."""
    store = Store(source)
    stored = store.consultations()
    old = [store.get_consultation(c["id"]) for c in stored]
    del old[0]["team"], old[0]["parent_id"]
    v0 = tmp_path / "v0.jsonl"
    v0.write_text("".join(json.dumps(c) + "\n" for c in old), encoding="utf-8")
    target = tmp_path / "b" / "cmbot.json"

    result = cmbot(target, "db", "import", str(v0))
    assert result.returncode == 0, result.stderr
    assert "format version 0" in result.stdout
    assert "imported: 3" in result.stdout
    imported = Store(target).get_consultation(old[0]["id"])
    assert imported is not None
    assert imported["team"] is False and imported["parent_id"] is None
    assert Store(target).consultations()[1:] == stored[1:]
    rows = [json.loads(line) for line in list(export_lines(target))[1:]]
    assert all(r["type"] == "consultation" and list(r) == ["type", *CONSULTATION] for r in rows)
    assert "skipped): 3" in cmbot(target, "db", "import", str(v0)).stdout


# --- the installed command, end to end --------------------------------------------------------


def test_the_cli_round_trip(tmp_path):
    a, b = tmp_path / "a" / "cmbot.json", tmp_path / "b" / "cmbot.json"
    a.parent.mkdir()
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ARTICLE), encoding="utf-8")
    ids = []
    for lang in ("en", "fr"):
        chat = cmbot(a, "chat", "--answers", str(answers), "--json", "--lang", lang)
        assert chat.returncode == 0, chat.stderr
        ids.append(json.loads(chat.stdout)["consultation_id"])

    dump = tmp_path / "dump.jsonl"
    exported = cmbot(a, "db", "export", "--output", str(dump), "--sessions")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == ""
    assert "consultations: 2" in exported.stderr
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    assert sorted(json.loads(line)["id"] for line in lines[1:]) == sorted(ids)  # by shard

    imported = cmbot(b, "db", "import", str(dump))
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr == ""  # no progress bar when stderr is not a terminal
    assert "Consultations — imported: 2, already there (skipped): 0." in imported.stdout

    again = cmbot(b, "db", "export")
    assert again.returncode == 0, again.stderr
    assert body(again.stdout.splitlines(keepends=True)) == body(lines)
    history = cmbot(b, "history", "--json")
    assert sorted(r["consultation_id"] for r in json.loads(history.stdout)) == sorted(ids)
    assert cmbot(b, "show", ids[1]).returncode == 0

    twice = cmbot(b, "db", "import", str(dump))
    assert twice.returncode == 0
    assert "Consultations — imported: 0, already there (skipped): 2." in twice.stdout


def test_import_is_refused_while_a_bot_holds_the_database(source, tmp_path):
    export_file(source, tmp_path / "all.jsonl")
    target = tmp_path / "b" / "cmbot.json"
    running = Store(target, exclusive=True)  # what `cmbot serve` holds while it runs
    try:
        before = files(target)
        result = cmbot(target, "db", "import", str(tmp_path / "all.jsonl"))
        assert result.returncode == 1
        assert f"The database {target} is in use by another cmbot process (pid {os.getpid()}" \
            in result.stderr
        assert "Traceback" not in result.stderr
        assert files(target) == before
    finally:
        running.close()
    result = cmbot(target, "db", "import", str(tmp_path / "all.jsonl"))
    assert result.returncode == 0, result.stderr
    assert "imported: 3" in result.stdout


def test_export_with_an_unreadable_shard_exports_the_others_and_names_it(source, tmp_path):
    shard = shard_files(archive_path(source))[-1]
    lost = {doc["id"] for doc in json.loads(shard.read_text("utf-8"))["consultations"].values()}
    everything = {json.loads(line)["id"] for line in export_lines(source)[1:]}
    shard.write_bytes(b'{"consultations":{"1":{"id":"x"')
    out = tmp_path / "out.jsonl"
    result = cmbot(source, "db", "export", "--output", str(out))
    assert result.returncode == 1  # incomplete: scripts must notice
    assert f"{shard} could not be read" in result.stderr
    assert "are NOT in the export" in result.stderr
    assert "Traceback" not in result.stderr
    exported = {json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()[1:]}
    assert lost and exported == everything - lost
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
