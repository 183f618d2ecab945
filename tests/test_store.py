"""Persistence on real TinyDB files: sessions and consultations, deletion that really deletes,
corrupt files refused and left untouched, backups and leftover temp files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmbot.store import CorruptDatabase, Store, archive_path
from cmbot.store.archive import shard_name
from cmbot.store.sessions import iter_sessions, sessions_path


def shard(db: Path, cid: str) -> Path:
    return archive_path(db) / shard_name(cid)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cmbot.json"


def on_disk(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def session(sid: str, state: str = "org_size", updated: str = "2024-01-01T00:00:00+00:00",
            **extra) -> dict:
    return {"id": sid, "flow_id": "community_manager", "state": state, "updated_at": updated,
            **extra}


def consultation(cid: str, finished: str = "2024-01-01T00:00:00+00:00", **extra) -> dict:
    return {"id": cid, "flow_id": "community_manager", "finished_at": finished, **extra}


# --- sessions --------------------------------------------------------------------------------


def test_sessions_are_saved_read_updated_and_listed(db):
    store = Store(db)
    store.save_session(session("s1", updated="2024-01-01T10:00:00+00:00"))
    store.save_session(session("s2", updated="2024-01-02T10:00:00+00:00"))
    store.save_session(session("s1", state="departments", updated="2024-01-03T10:00:00+00:00"))
    assert store.get_session("s1")["state"] == "departments"
    assert store.get_session("nope") is None
    assert [r["id"] for r in store.sessions()] == ["s1", "s2"]  # most recently updated first
    assert [r["id"] for r in store.sessions(lambda r: r["id"] == "s2")] == ["s2"]
    assert sorted(r["id"] for r in iter_sessions(db)) == ["s1", "s2"]  # an update, not a copy
    store.close()  # the files are written by a background thread; closing waits for it
    assert sorted(p.name for p in sessions_path(db).glob("*.json")) == ["s1.json", "s2.json"]
    assert not list(sessions_path(db).glob("journal-*"))  # every save is in its file: no journal


def crash_after(db: Path, steps: str) -> None:
    """Run `steps` (Python, with `store` open on `db`) in a process that then dies at once, as
    if killed: no close, and its writer thread has not written the session files yet."""
    code = f"import os\nfrom cmbot.store import Store\nstore = Store({str(db)!r})\n{steps}\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_step_saved_just_before_a_crash_is_in_the_journal_and_replayed_at_open(db):
    crash_after(db, "store.save_session({'id': 's1', 'state': 'org_size', 'updated_at': 'a'})\n"
                    "store.save_session({'id': 's1', 'state': 'departments', 'updated_at': 'b'})")
    folder = sessions_path(db)
    assert not (folder / "s1.json").exists() and list(folder.glob("journal-*.jsonl"))
    assert [r["state"] for r in iter_sessions(db)] == ["departments"]  # readers read through it
    store = Store(db)
    assert store.get_session("s1")["state"] == "departments"
    assert on_disk(folder / "s1.json")["sessions"]["1"]["state"] == "departments"
    assert not list(folder.glob("journal-*"))
    store.close()


def test_a_pending_mark_saved_just_before_a_crash_is_replayed_and_kept(db):
    """The mark travels in the session's journal line: a crash before the writer put it in
    the index loses nothing, and the replay writes it there before dropping the journal."""
    crash_after(db, "store.save_session({'id': 's1', 'state': 'org_size'}, pending=True)\n"
                    "store.save_session({'id': 's2', 'state': 'org_size'}, pending=True)\n"
                    "store.save_session({'id': 's2', 'state': 'departments'}, pending=False)")
    folder = sessions_path(db)
    assert list(folder.glob("journal-*.jsonl"))
    store = Store(db)
    assert store.pending_sessions() == ["s1"]
    assert not list(folder.glob("journal-*"))
    store.close()
    again = Store(db)  # now from the index alone
    assert again.pending_sessions() == ["s1"]
    again.close()


def test_the_pending_lines_of_an_older_index_are_read(db):
    """A database written by cmbot before the mark travelled with the save: its index holds
    `{"id", "pending"}` lines of their own, which still open as they meant."""
    store = Store(db)
    for sid in ("s1", "s2"):
        store.save_session(session(sid))
    store.close()
    with (sessions_path(db) / "index.jsonl").open("a", encoding="utf-8") as index:
        index.writelines(json.dumps(row) + "\n" for row in (
            {"id": "s1", "pending": True}, {"id": "s2", "pending": True},
            {"id": "s2", "pending": False}))
    store = Store(db)
    assert store.pending_sessions() == ["s1"]
    store.save_session(session("s1", state="departments"), pending=False)
    store.close()
    again = Store(db)
    assert again.pending_sessions() == [] and again.get_session("s1")["state"] == "departments"
    again.close()


def test_a_session_deleted_just_before_a_crash_stays_deleted(db):
    crash_after(db, "store.save_session({'id': 's1', 'note': 'SECRET-SESSION'})\n"
                    "store.save_session({'id': 's2'})\nstore.delete_session('s1')")
    assert [r["id"] for r in iter_sessions(db)] == ["s2"]
    store = Store(db)
    assert store.get_session("s1") is None and store.session_ids() == ["s2"]
    store.close()
    assert "SECRET-SESSION" not in "".join(
        p.read_text(encoding="utf-8") for p in sessions_path(db).iterdir())


def test_a_journal_line_cut_short_by_a_crash_loses_only_that_step(db):
    crash_after(db, "store.save_session({'id': 's1', 'state': 'org_size'})\n"
                    "store.save_session({'id': 's2', 'state': 'org_size'})")
    journal = next(sessions_path(db).glob("journal-*.jsonl"))
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text[:-20], encoding="utf-8")  # s2's line, cut
    store = Store(db)
    assert store.session_ids() == ["s1"] and store.get_session("s1")["state"] == "org_size"
    store.close()


def test_sessions_are_found_by_place_and_by_person_without_reading_them(db):
    store = Store(db)
    store.save_session(session("dm", started_by="U1", where={"kind": "dm", "channel": "D1"}))
    store.save_session(session("th", started_by="U1", where={"kind": "channel", "channel": "C1"}))
    assert store.session_at("C1") is None  # its root message is not posted yet: no thread
    store.save_session(session("th", started_by="U1",
                               where={"kind": "channel", "channel": "C1", "thread_ts": "1.2"}))
    assert (store.session_at("D1"), store.session_at("C1", "1.2")) == ("dm", "th")
    assert store.sessions_of("U1") == ["dm", "th"]
    store.close()
    again = Store(db)  # the index is rebuilt from its log
    assert (again.session_at("D1"), again.session_at("C1", "1.2")) == ("dm", "th")
    again.delete_session("dm")
    assert again.session_at("D1") is None and again.sessions_of("U1") == ["th"]
    again.close()


def test_a_session_whose_index_line_was_lost_is_found_again(db):
    store = Store(db)
    store.save_session(session("s1", started_by="U1", where={"kind": "dm", "channel": "D1"}))
    store.close()
    (sessions_path(db) / "index.jsonl").write_text('{"id": "s1", "by"', encoding="utf-8")  # torn
    again = Store(db)
    assert again.session_at("D1") == "s1"
    again.close()


def test_sessions_kept_in_the_old_one_file_layout_are_moved_to_their_folder(db):
    db.write_text(json.dumps({"sessions": {"1": session("old", started_by="U1",
                                                         where={"kind": "dm", "channel": "D1"})}}))
    store = Store(db)
    assert store.session_at("D1") == "old" and store.get_session("old")["state"] == "org_size"
    assert on_disk(db).get("sessions", {}) == {}
    store.close()


def test_sessions_survive_reopening(db):
    store = Store(db)
    store.save_session(session("s1", state="budget_amount", answers={"org_size": {"value": "small"}}))
    store.close()
    again = Store(db)
    assert again.get_session("s1")["answers"] == {"org_size": {"value": "small"}}
    again.close()


def test_a_deleted_session_is_gone_from_the_file(db):
    store = Store(db)
    store.save_session(session("s1", note="SECRET-SESSION"))
    store.save_session(session("s2"))
    store.delete_session("s1")
    assert store.get_session("s1") is None
    store.close()
    on_disk_now = "".join(p.read_text(encoding="utf-8") for p in sessions_path(db).iterdir())
    assert "SECRET-SESSION" not in on_disk_now
    assert "s2" in on_disk_now


# --- consultations ---------------------------------------------------------------------------


def test_consultations_are_archived_apart_from_sessions(db):
    store = Store(db)
    store.save_session(session("c1", state="confirm"))
    store.add_consultation(consultation("c1", placement="management"), finished_session="c1")
    assert store.get_consultation("c1")["placement"] == "management"
    assert store.get_session("c1") is None  # the finished session is forgotten
    assert [r["id"] for r in on_disk(shard(db, "c1"))["consultations"].values()] == ["c1"]
    assert list(iter_sessions(db)) == []
    store.close()


def test_consultations_are_listed_newest_first_and_survive_reopening(db):
    store = Store(db)
    store.add_consultation(consultation("old", finished="2024-01-01T00:00:00+00:00"))
    store.add_consultation(consultation("new", finished="2024-06-01T00:00:00+00:00"))
    store.add_consultation(consultation("mid", finished="2024-03-01T00:00:00+00:00"))
    assert [r["id"] for r in store.consultations()] == ["new", "mid", "old"]
    store.close()
    again = Store(db)
    assert [r["id"] for r in again.consultations(lambda r: r["id"] != "mid")] == ["new", "old"]
    again.close()


def test_a_deleted_consultation_is_gone_from_the_file(db):
    store = Store(db)
    store.add_consultation(consultation("keep"))
    store.add_consultation(consultation("gone", answers={"objectives_other": "SECRET-PLAN"}))
    assert store.delete_consultation("gone") is True
    assert store.get_consultation("gone") is None
    assert store.delete_consultation("gone") is False
    assert "SECRET-PLAN" not in shard(db, "gone").read_text(encoding="utf-8")
    assert "keep" in shard(db, "keep").read_text(encoding="utf-8")
    store.close()
    assert Store(db).get_consultation("gone") is None


def test_a_deleted_consultation_leaves_no_copy_in_the_folder(db):
    store = Store(db)
    store.add_consultation(consultation("keep"))
    store.add_consultation(consultation("gone", answers={"objectives_other": "SECRET-PLAN"}))
    store.delete_consultation("gone")
    store.close()
    leftovers = [p.name for p in db.parent.rglob("*") if p.is_file()
                 and "SECRET-PLAN" in p.read_text(encoding="utf-8", errors="replace")]
    assert leftovers == []


def test_preferences(db):
    store = Store(db)
    assert store.get_pref("U1", "lang") is None
    store.set_pref("U1", "lang", "fr")
    store.set_pref("U2", "lang", "en")
    store.set_pref("U1", "lang", "en")
    assert store.get_pref("U1", "lang") == "en"
    assert store.get_pref("U2", "lang") == "en"
    store.close()


# --- corrupt files ---------------------------------------------------------------------------

CORRUPT = [
    pytest.param(b"garbage{", id="garbage"),
    pytest.param(b"", id="empty"),
    pytest.param(b"  \n\n", id="blank"),
    pytest.param(b'{"sessions": {"1": {"id": "s1"', id="truncated"),
    pytest.param(b"[1, 2, 3]", id="not-a-document"),
]


@pytest.mark.parametrize("content", CORRUPT)
def test_a_corrupt_database_is_refused_and_left_untouched(db, content):
    db.write_bytes(content)
    with pytest.raises(CorruptDatabase) as caught:
        Store(db)
    assert str(db) in str(caught.value)
    assert db.read_bytes() == content


@pytest.mark.parametrize("content", CORRUPT)
def test_a_corrupt_shard_is_set_aside_untouched_and_the_archive_keeps_working(db, content):
    store = Store(db)
    store.add_consultation(consultation("c1"))
    store.add_consultation(consultation("c2"))
    damaged = shard(db, "c1")
    assert damaged != shard(db, "c2")
    damaged.write_bytes(content)
    with pytest.raises(CorruptDatabase) as caught:  # reading it names the file
        store.get_consultation("c1")
    assert str(damaged) in str(caught.value)
    store.add_consultation(consultation("c1", note="new"))  # a write sets it aside, then goes on
    aside = [p for p in damaged.parent.iterdir() if p.name.startswith(damaged.name + ".damaged-")]
    assert [p.read_bytes() for p in aside if not p.name.endswith(".bak")] == [content]
    assert store.get_consultation("c1")["note"] == "new"
    assert store.get_consultation("c2") is not None
    store.close()
    damaged.write_bytes(content)  # damaged again, and just written: re-read at open
    reader = Store(db)  # a reader skips it and leaves it be: it is still listed
    assert sorted(c["id"] for c in reader.consultations()) == ["c1", "c2"]
    assert reader.get_consultation("c2") is not None
    reader.close()
    assert damaged.read_bytes() == content
    writer = Store(db, exclusive=True)  # the lock holder sets it aside at open
    assert [c["id"] for c in writer.consultations()] == ["c2"]
    assert writer.get_consultation("c2") is not None
    writer.close()
    assert not damaged.exists()


def test_a_file_corrupted_while_open_is_not_overwritten(db):
    store = Store(db)
    store.set_pref("U1", "lang", "fr")
    db.write_bytes(b"garbage{")
    with pytest.raises(CorruptDatabase) as caught:
        store.set_pref("U2", "lang", "fr")
    assert str(db) in str(caught.value)
    assert db.read_bytes() == b"garbage{"


# Regression: bytes that are not UTF-8 once raised UnicodeDecodeError.
def test_a_binary_garbage_database_is_refused_as_corrupt(db):
    content = b"\xff\xfe\x00garbage\x80"
    db.write_bytes(content)
    try:
        with pytest.raises(CorruptDatabase) as caught:
            Store(db)
        assert str(db) in str(caught.value)
    finally:
        assert db.read_bytes() == content


# --- backups and temp files ------------------------------------------------------------------


def test_a_backup_of_the_previous_file_exists_after_two_writes(db):
    backup = db.with_name(db.name + ".bak")
    store = Store(db)
    store.set_pref("U1", "lang", "fr")
    first = db.read_bytes()
    store.set_pref("U2", "lang", "en")
    assert backup.exists()
    assert backup.read_bytes() == first
    assert [r["user"] for r in on_disk(backup)["prefs"].values()] == ["U1"]
    assert sorted(r["user"] for r in on_disk(db)["prefs"].values()) == ["U1", "U2"]
    store.close()


def test_the_corrupt_message_points_at_the_backup(db):
    store = Store(db)
    store.set_pref("U1", "lang", "fr")
    store.set_pref("U2", "lang", "fr")
    store.close()
    db.write_bytes(b"garbage{")
    with pytest.raises(CorruptDatabase) as caught:
        Store(db)
    assert str(db.with_name(db.name + ".bak")) in str(caught.value)


def test_stray_temp_files_are_removed_at_start(db):
    Store(db).close()
    strays = [db.parent / f".{db.name}.a1b2c3.tmp",
              archive_path(db) / ".01af.json.d4e5f6.tmp", archive_path(db) / ".index.jsonl.x.tmp",
              sessions_path(db) / ".s1.x1y2.tmp"]
    for stray in strays:
        stray.write_text("half-written", encoding="utf-8")
    unrelated = db.parent / "notes.tmp"
    unrelated.write_text("mine", encoding="utf-8")
    store = Store(db)
    assert [s for s in strays if s.exists()] == []
    assert unrelated.read_text(encoding="utf-8") == "mine"
    store.save_session(session("s1"))  # and the store works
    assert store.get_session("s1") is not None
    store.close()


# Regression: write_json_atomic links the old file to '<tmp>.bak' before renaming it to .bak;
# that leftover was once never removed.
def test_stray_backup_temp_files_are_removed_at_start(db):
    Store(db).close()
    stray = db.parent / f".{db.name}.a1b2c3.tmp.bak"
    stray.write_text("old data", encoding="utf-8")
    Store(db).close()
    assert not stray.exists()


def test_no_temp_file_is_left_after_writes(db):
    store = Store(db)
    for n in range(5):
        store.save_session(session(f"s{n}"))
        store.set_pref(f"U{n}", "lang", "fr")
        store.add_consultation(consultation(f"c{n}"))
    store.close()
    names = sorted(p.name for p in db.parent.rglob("*"))
    assert {db.name, db.name + ".bak", archive_path(db).name, "index.jsonl"} <= set(names)
    assert {shard_name(f"c{n}") for n in range(5)} <= set(names)
    assert [n for n in names if n.endswith((".tmp", ".tmp.bak"))] == []
