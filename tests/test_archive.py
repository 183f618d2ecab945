"""The archive as a folder of shards with a summary index: one small file per write, an index
that survives losing or tearing, the old one-file archive migrated, listings from the index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cmbot.store import Store, archive, archive_path, legacy_archive_path
from cmbot.store.archive import INDEX, SHARDS, export_records, shard_files, shard_name
from cmbot.store.atomic import write_json_atomic


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cmbot.json"


def consultation(cid: str, finished: str = "2024-01-01T00:00:00+00:00", by: str = "U1",
                 where: dict | None = None, **extra) -> dict:
    return {"id": cid, "flow_id": "community_manager", "lang": "en", "started_by": by,
            "where": where or {"kind": "dm", "channel": "D1"}, "finished_at": finished,
            "parent_id": None, "recommendation": {"placement": "management"}, **extra}


def index(db: Path) -> Path:
    return archive_path(db) / INDEX


def ids(rows) -> list[str]:
    return [r["id"] for r in rows]


def test_each_consultation_lives_in_the_shard_its_id_names(db):
    store = Store(db)
    for n in range(20):
        store.add_consultation(consultation(f"c{n}", secret=f"S{n}"))
    store.close()
    for n in range(20):
        text = (archive_path(db) / shard_name(f"c{n}")).read_text(encoding="utf-8")
        assert f'"S{n}"' in text
    assert len(shard_files(archive_path(db))) == len({shard_name(f"c{n}") for n in range(20)})
    assert all(0 <= int(p.stem, 16) < SHARDS for p in shard_files(archive_path(db)))
    assert shard_name("abc") == shard_name("abc")  # stable: a hash of the id only
    assert not legacy_archive_path(db).exists()


def test_summaries_have_the_fields_listings_use_newest_first(db):
    store = Store(db)
    store.add_consultation(consultation("old", "2024-01-01T00:00:00+00:00", answers={"a": 1}))
    store.add_consultation(consultation("new", "2024-06-01T00:00:00+00:00", parent_id="old",
                                        where={"kind": "channel", "channel": "C1", "thread_ts": "1.2"}))
    rows = store.consultations()
    assert ids(rows) == ["new", "old"]
    assert rows[0] == {"id": "new", "flow_id": "community_manager", "lang": "en", "started_by": "U1",
                       "where": {"kind": "channel", "channel": "C1", "thread_ts": "1.2"},
                       "finished_at": "2024-06-01T00:00:00+00:00", "parent_id": "old",
                       "recommendation": {"placement": "management"}}
    assert store.get_consultation("old")["answers"] == {"a": 1}  # the whole record from its shard
    store.close()


def test_the_index_is_rebuilt_from_the_shards_when_lost(db):
    store = Store(db)
    for n in range(5):
        store.add_consultation(consultation(f"c{n}", f"2024-01-0{n + 1}T00:00:00+00:00"))
    store.close()
    index(db).unlink()
    again = Store(db)
    assert ids(again.consultations()) == ["c4", "c3", "c2", "c1", "c0"]
    again.close()
    assert len(index(db).read_text(encoding="utf-8").splitlines()) == 5  # and written back


def test_an_unreadable_index_is_rebuilt(db):
    store = Store(db)
    store.add_consultation(consultation("c1"))
    store.add_consultation(consultation("c2"))
    store.close()
    index(db).write_bytes(b"garbage\n\xff\xfe\n[1]\n")
    again = Store(db)
    assert sorted(ids(again.consultations())) == ["c1", "c2"]
    again.close()


def test_a_torn_last_index_line_is_ignored_and_repaired(db):
    store = Store(db)
    store.add_consultation(consultation("c1"))
    store.add_consultation(consultation("c2"))
    store.close()
    text = index(db).read_text(encoding="utf-8")
    index(db).write_text(text + '["2024-01-01T00:00:00+00:00","c3","comm', encoding="utf-8")
    old = os.stat(index(db)).st_mtime_ns - 10_000_000_000  # shards older than the index: not re-read
    for path in shard_files(archive_path(db)):
        os.utime(path, ns=(old, old))
    again = Store(db)
    assert sorted(ids(again.consultations())) == ["c1", "c2"]
    again.add_consultation(consultation("c4"))
    again.close()
    assert index(db).read_text(encoding="utf-8").endswith("\n")
    lines = [json.loads(line) for line in index(db).read_text(encoding="utf-8").splitlines()]
    assert sorted(line[1] for line in lines) == ["c1", "c2", "c4"]


def test_a_crash_between_the_shard_and_its_index_line_loses_nothing(db):
    store = Store(db)
    store.add_consultation(consultation("c1"))
    store.add_consultation(consultation("c2"))
    store.close()
    lines = index(db).read_text(encoding="utf-8").splitlines(keepends=True)
    index(db).write_text(lines[0], encoding="utf-8")  # the line of c2 never made it
    again = Store(db)
    assert sorted(ids(again.consultations())) == ["c1", "c2"]
    again.close()


def test_a_reader_sees_what_another_process_appended(db):
    writer = Store(db)
    reader = Store(db)
    writer.add_consultation(consultation("c1", "2024-01-01T00:00:00+00:00"))
    assert ids(reader.consultations()) == ["c1"]
    writer.add_consultation(consultation("c2", "2024-02-01T00:00:00+00:00"))
    writer.delete_consultation("c1")
    assert ids(reader.consultations()) == ["c2"]
    writer.close()
    reader.close()


def test_a_delete_leaves_no_copy_in_shard_backup_or_index(db):
    store = Store(db)
    store.add_consultation(consultation("keep"))
    store.add_consultation(consultation("gone-7f3a", answers={"x": "SECRET-PLAN"}))
    store.add_consultation(consultation("gone-7f3a", answers={"x": "SECRET-PLAN-2"}))  # a .bak
    assert store.delete_consultation("gone-7f3a") is True
    assert store.get_consultation("gone-7f3a") is None
    assert ids(store.consultations()) == ["keep"]
    assert store.delete_consultation("gone-7f3a") is False
    store.close()
    for path in db.parent.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "SECRET-PLAN" not in text and "gone-7f3a" not in text, path
    assert ids(Store(db).consultations()) == ["keep"]


@pytest.mark.parametrize("per_pass", [32 << 20, 500], ids=["one-pass", "many-passes"])
def test_an_old_one_file_archive_is_migrated_into_shards(db, monkeypatch, per_pass):
    monkeypatch.setattr(archive, "MIGRATE_BYTES", per_pass)
    old = {str(n): consultation(f"c{n}", f"2024-01-{n + 1:02d}T00:00:00+00:00") for n in range(30)}
    write_json_atomic(legacy_archive_path(db), {"consultations": old})
    write_json_atomic(legacy_archive_path(db), {"consultations": old})  # and its backup
    store = Store(db)
    assert ids(store.consultations()) == [f"c{n}" for n in reversed(range(30))]
    assert store.get_consultation("c7") == old["7"]
    store.close()
    assert not legacy_archive_path(db).exists()
    kept = db.with_name("cmbot.consultations.json.migrated")
    assert json.loads(kept.read_text(encoding="utf-8"))["consultations"] == old
    assert db.with_name("cmbot.consultations.json.migrated.bak").exists()
    assert sorted(r["id"] for _, r in export_records(db, [])) == sorted(f"c{n}" for n in range(30))
    again = Store(db)  # opening again migrates nothing twice
    assert len(again.consultations()) == 30
    again.close()


def test_a_migration_cut_short_is_finished_at_the_next_open(db):
    old = {str(n): consultation(f"c{n}") for n in range(10)}
    write_json_atomic(legacy_archive_path(db), {"consultations": old})
    store = Store(db)
    store.close()
    kept = db.with_name("cmbot.consultations.json.migrated")
    os.replace(kept, legacy_archive_path(db))  # as if the rename had not happened
    again = Store(db)
    assert sorted(ids(again.consultations())) == sorted(f"c{n}" for n in range(10))
    again.close()
    shards = [json.loads(p.read_text(encoding="utf-8")) for p in shard_files(archive_path(db))]
    assert sum(len(s["consultations"]) for s in shards) == 10  # no copy twice
