"""Nothing lost, nothing left behind, on real files and real processes: ids that never replace
another interview, deletes that leave no copy anywhere, a symlinked database, hostile YAML, a
damaged shard that does not take the rest of the archive with it, one writer at a time."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from begun import begun
from clitools import finish
from commandline import environment, run, spawn

from cmbot.service import Desk
from cmbot.store import DatabaseBusy, Store, archive_path, legacy_archive_path
from cmbot.store.archive import shard_files, shard_name
from cmbot.store.atomic import write_json_atomic
from cmbot.store.ids import IdTaken
from cmbot.store.journal import journal_path, journalled
from cmbot.store.transfer import read_export

ARTICLE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "examples" / "article-case.yaml").read_text("utf-8"))


def cmbot(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command, as an operator runs it, on the database `db`."""
    return run(args, env=environment(db, **env), cwd=db.parent, timeout=120)


def answers_file(folder: Path, **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "answers.yaml"
    path.write_text(yaml.safe_dump({**ARTICLE, **changes}, allow_unicode=True), encoding="utf-8")
    return path


def consult(db: Path, **changes: Any) -> str:
    """One consultation made with `cmbot chat --answers FILE --json`; its id."""
    result = cmbot(db, "chat", "--answers", str(answers_file(db.parent, **changes)), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["consultation_id"]


def history(db: Path) -> list[str]:
    result = cmbot(db, "history", "--json")
    assert result.returncode == 0, result.stderr
    return [r["consultation_id"] for r in json.loads(result.stdout)]


def every_byte(db: Path) -> bytes:
    """Every file of the database (`cmbot.json*`, `cmbot.consultations*`), to search for a
    deleted consultation."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.rglob("*"))
                    if p.is_file() and p.relative_to(db.parent).parts[0].startswith(db.stem + "."))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cmbot.json"


@dataclass(frozen=True)
class Made:
    """A database holding finished consultations, and their ids."""

    db: Path
    ids: list[str]

    def copy_to(self, db: Path) -> list[str]:
        """This database copied to `db` (the folder of `db` is created), for a test to change;
        the ids of its consultations."""
        shutil.copytree(self.db.parent, db.parent, dirs_exist_ok=True)
        return list(self.ids)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """Four consultations of the article's case, made once for the module (in the test process:
    making them is not what these tests test): the tests that only need a database with
    consultations in it copy this one instead of running `cmbot chat` for their own."""
    db = tmp_path_factory.mktemp("made") / "cmbot.json"
    desk = Desk(Store(db))
    try:
        return Made(db, [finish(desk, ARTICLE) for _ in range(4)])
    finally:
        desk.store.close()


def record(cid: str, who: str, created: str = "2026-01-01T00:00:00.000+00:00") -> dict[str, Any]:
    return {"id": cid, "flow_id": "community_manager", "started_by": who, "created_at": created,
            "finished_at": "2026-01-02T00:00:00.000+00:00"}


# --- 1. ids ----------------------------------------------------------------------------------


def test_a_consultation_under_a_taken_id_is_refused_and_the_first_one_kept(db):
    store = Store(db)
    store.add_consultation(record("abc123", "alice"))
    with pytest.raises(IdTaken) as caught:
        store.add_consultation(record("abc123", "bob"))  # bob's interview drew alice's id
    assert "abc123" in str(caught.value) and "nothing was replaced" in str(caught.value)
    assert store.get_consultation("abc123")["started_by"] == "alice"
    store.add_consultation({**record("abc123", "alice"), "note": "saved again"})  # a retry is fine
    assert store.get_consultation("abc123")["note"] == "saved again"
    store.close()


def test_a_session_under_a_taken_id_is_refused(db):
    store = Store(db)
    store.add_consultation(record("abc123", "alice"))
    store.save_session({**record("s1", "carol"), "state": "org_size"})
    with pytest.raises(IdTaken):  # the id of a consultation
        store.save_session({**record("abc123", "bob"), "state": "org_size"})
    with pytest.raises(IdTaken):  # the id of someone else's interview in progress
        store.save_session({**record("s1", "bob"), "state": "org_size"})
    assert store.get_session("s1")["started_by"] == "carol"
    assert store.get_session("abc123") is None
    store.close()


def test_a_new_interview_never_gets_an_id_the_database_has(db, monkeypatch):
    desk = Desk(Store(db))
    taken = begun(desk, started_by="alice")
    drawn = iter([taken.id, taken.id, "fresh0000001"])  # the random source repeats itself
    monkeypatch.setattr("cmbot.service.new_id", lambda: next(drawn))
    session = desk.start(started_by="bob")
    assert session.id == "fresh0000001"
    desk.store.close()


def test_new_ids_are_short_to_type_and_do_not_repeat():
    from cmbot.interview.session import new_id

    ids = {new_id() for _ in range(200_000)}
    assert len(ids) == 200_000
    assert all(len(i) == 12 and all(c in "0123456789abcdef" for c in i) for i in ids)


def test_import_reports_an_id_that_clashes_with_a_different_consultation(db, tmp_path, made):
    mine = made.copy_to(db)[0]
    export = tmp_path / "theirs.jsonl"
    other = tmp_path / "other" / "cmbot.json"
    theirs = consult(other, org_size="large")
    assert cmbot(other, "db", "export", "-o", str(export)).returncode == 0
    lines = export.read_text("utf-8").splitlines()
    clash = json.loads(lines[1])
    assert clash["id"] == theirs
    clash["id"] = mine  # their consultation under my id
    export.write_text("\n".join([lines[0], json.dumps(clash)]) + "\n", encoding="utf-8")
    before = cmbot(db, "show", mine, "--json").stdout

    result = cmbot(db, "db", "import", str(export))
    assert result.returncode == 1
    assert f"{export}:2: id {mine} is already in the database for a different consultation" in result.stderr
    assert "Nothing was imported" in result.stderr
    assert cmbot(db, "show", mine, "--json").stdout == before


# --- 2. failed writes ----------------------------------------------------------------------------


def disk_full_at(size: int):
    """For `run(preexec=...)`: the process may not grow a file past `size` bytes (writes fail with
    EFBIG, as on a full disk); a write error, not a killed process."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_a_failed_save_is_one_line_keeps_nothing_half_done_and_works_again(db, made):
    made.copy_to(db)  # the database exists, with consultations
    before = history(db)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CMBOT_", "SLACK_"))}
    clean.update(CMBOT_DB=str(db), CMBOT_LANG="en", PYTHONIOENCODING="utf-8")
    full = run(["chat", "--answers", str(answers_file(db.parent)), "--json"], env=clean,
               cwd=db.parent, timeout=120, preexec=disk_full_at(1000))
    assert full.returncode == 1
    assert full.stdout == ""  # no consultation shown as saved
    assert len(full.stderr.strip().splitlines()) == 1 and "Traceback" not in full.stderr
    assert "File too large" in full.stderr and "Nothing was saved" in full.stderr
    assert history(db) == before
    assert [p for p in db.parent.rglob(".*.tmp*")] == []  # no temp file left behind
    assert cmbot(db, "db", "check").returncode == 0
    assert consult(db) in history(db)  # space is back: everything works again


def test_serve_on_a_read_only_folder_says_so_in_one_line(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CMBOT_", "SLACK_"))}
    clean.update(CMBOT_DB="/sys/cmbot-test/cmbot.json",  # sysfs: not even root may write there
                 CMBOT_LANG="en", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    result = run(["serve", "--http", "--port", "0"], env=clean, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("/sys/cmbot-test") and "Nothing was saved" in result.stderr


# --- 3. atomic import ---------------------------------------------------------------------------


def big_export(db: Path, path: Path, count: int) -> set[str]:
    """An export of `count` consultations: a real one of `db`, repeated under new ids."""
    assert cmbot(db, "db", "export", "-o", str(path)).returncode == 0
    header, line = path.read_text("utf-8").splitlines()[:2]
    record = json.loads(line)
    ids = {f"imp{n:07d}" for n in range(count)}
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for cid in sorted(ids):
            out.write(json.dumps({**record, "id": cid}, ensure_ascii=False) + "\n")
    return ids


def archived(db: Path) -> bytes:
    """Every file of the archive of consultations (not the import's journal)."""
    return b"".join(p.read_bytes() for p in sorted(archive_path(db).iterdir()) if p.is_file())


def importer_cut_at(db: Path, export: Path, moment: Callable[[], bool]) -> bool:
    """`cmbot db import EXPORT` into `db`, in a process of its own, killed (`kill -9`) as soon as
    `moment()` is true; whether it was still importing then (its journal is left behind)."""
    with open(os.devnull, "wb") as devnull:
        importer = spawn(["db", "import", str(export)], env=environment(db), cwd=db.parent,
                         stdout=devnull.fileno(), stderr=devnull.fileno())
    deadline = time.monotonic() + 60
    while importer.poll() is None and not moment() and time.monotonic() < deadline:
        time.sleep(0.002)
    importer.kill()
    importer.wait()
    return journal_path(db).exists()


def test_an_import_killed_midway_is_reported_then_undone_and_nothing_else_moves(tmp_path, made):
    export = tmp_path / "big.jsonl"
    ids = big_export(made.db, export, 200)  # one shard file written after another: time to cut
    db = tmp_path / "target" / "cmbot.json"
    mine = made.copy_to(db)
    shards = len(shard_files(archive_path(db)))
    before = tmp_path / "before"
    shutil.copytree(db.parent, before)

    def listed_its_ids() -> bool:  # it has journalled what it adds and starts writing
        return journal_path(db).exists() and journal_path(db).read_text("utf-8").endswith(
            '{"ready": true}\n')

    def writing() -> bool:  # the first of its shards is on disk
        return len(shard_files(archive_path(db))) > shards

    for moment in (listed_its_ids, writing):
        for _ in range(5):  # a kill that comes after the last write proves nothing: again
            shutil.rmtree(db.parent)  # as it was before any import (an undone one leaves
            shutil.copytree(before, db.parent)  # empty shard files behind)
            if importer_cut_at(db, export, moment):
                break
        else:
            pytest.fail(f"the import always ended before the kill ({moment.__name__})")
        if moment is writing:
            assert b'"imp' in archived(db)  # it was cut after a write
        listed = set(history(db))
        assert set(mine) <= listed  # readers keep working meanwhile
        check = cmbot(db, "db", "check")
        assert check.returncode == 1
        assert f"An import of {export} (started" in check.stdout and "was cut short" in check.stdout
        restored = cmbot(db, "db", "restore")
        assert restored.returncode == 0, restored.stderr
        assert "was undone" in restored.stdout
        assert sorted(history(db)) == sorted(mine)  # exactly as before the import
        assert b'"imp' not in every_byte(db)  # nothing of it left in any file
        assert cmbot(db, "db", "check").returncode == 0
    result = cmbot(db, "db", "import", str(export))
    assert result.returncode == 0, result.stderr
    assert "imported: 200" in result.stdout
    assert set(history(db)) == {*mine, *ids}


def test_a_writer_undoes_an_interrupted_import_by_itself(tmp_path, made):
    export = tmp_path / "big.jsonl"
    big_export(made.db, export, 30)
    db = tmp_path / "target" / "cmbot.json"
    mine = made.copy_to(db)
    store = Store(db, exclusive=True)
    plan = read_export(export, store=store)
    with pytest.raises(KeyboardInterrupt), journalled(db, export, plan.new):
        store.insert_new("consultations", [{**record(f"imp{n:07d}", "x")} for n in range(10)])
        raise KeyboardInterrupt  # cut short after a third of it was written
    store.close()
    assert len(history(db)) == len(mine) + 10
    fresh = consult(db)  # `cmbot chat` takes the lock: the half import goes first
    assert sorted(history(db)) == sorted([*mine, fresh])


# --- 7. clean text in ----------------------------------------------------------------------------


def test_bad_unicode_in_a_free_text_answer_is_cleaned_before_it_is_saved(db):
    answers = db.parent / "unicode.yaml"
    answers.parent.mkdir(parents=True, exist_ok=True)
    text = "Grow the \\u202ecommunity\\u202c of pro\\u200b users\\u2066 \\U0001F469\\u200d\\U0001F4BB"
    answers.write_text(yaml.safe_dump({**ARTICLE, "objectives": ["fans", "other"]})
                       + f'objectives_other: "{text}"\n', encoding="utf-8")
    result = cmbot(db, "chat", "--answers", str(answers), "--json")
    assert result.returncode == 0, result.stderr
    saved = json.loads(result.stdout)["answers"]["objectives_other"]
    assert saved == "Grow the community of pro users \U0001F469\u200d\U0001F4BB"
    shown = cmbot(db, "show", json.loads(result.stdout)["consultation_id"])
    assert "community of pro users" in shown.stdout


# --- 4. delete means gone -----------------------------------------------------------------------


def test_delete_leaves_no_copy_in_the_migrated_old_archive(db):
    old = {str(n): {**record(f"old{n}", "alice"), "secret": f"secret-{n}"} for n in range(3)}
    write_json_atomic(legacy_archive_path(db), {"consultations": old})
    write_json_atomic(legacy_archive_path(db), {"consultations": old})  # so it has a backup
    store = Store(db)  # migrates it into shards, keeping the old file as *.migrated
    store.close()
    kept = db.with_name("cmbot.consultations.json.migrated")
    assert b"secret-1" in kept.read_bytes()
    assert b"secret-1" in db.with_name("cmbot.consultations.json.migrated.bak").read_bytes()

    store = Store(db)
    assert store.delete_consultation("old1")
    store.close()
    assert b"secret-1" not in every_byte(db)
    assert b'"old1"' not in every_byte(db)
    assert b"secret-0" in kept.read_bytes() and b"secret-2" in kept.read_bytes()


def test_delete_leaves_no_copy_in_any_file_of_the_database(db, made):
    keep = made.copy_to(db)
    gone = consult(db, objectives=[*ARTICLE["objectives"], "other"],
                   objectives_other="the words only the deleted one has")
    assert b"only the deleted one has" in every_byte(db)
    store = Store(db)
    assert store.delete_consultation(gone)
    store.close()
    assert b"only the deleted one has" not in every_byte(db)
    assert gone.encode() not in every_byte(db)
    assert sorted(history(db)) == sorted(keep)


# --- 5. a symlinked database ----------------------------------------------------------------------


def test_writes_through_a_symlinked_database_reach_its_target(tmp_path):
    real = tmp_path / "volume" / "cmbot.json"
    real.parent.mkdir()
    link = tmp_path / "cmbot.json"
    link.symlink_to(real)
    first = consult(link)
    second = consult(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.is_file()
    assert sorted(history(link)) == sorted([first, second])
    assert {first, second} <= {r["id"] for r in Store(real).consultations()}
    assert not (tmp_path / "cmbot.consultations").exists()  # the archive lives by the target


# --- 6. safe YAML --------------------------------------------------------------------------------

BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n"
                  for i in range(9)))


def test_an_alias_bomb_answers_file_is_refused_with_one_line(db):
    bomb = db.parent / "bomb.yaml"
    bomb.write_text("org_size: small\n" + BOMB, encoding="utf-8")
    result = cmbot(db, "chat", "--answers", str(bomb), "--json")
    assert result.returncode == 2
    assert "aliases (*name) are not allowed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not archive_path(db).exists() or shard_files(archive_path(db)) == []


def test_an_alias_bomb_flow_file_is_refused_by_flows_check(db):
    flows = db.parent / "flows"
    flows.mkdir()
    (flows / "bomb.yaml").write_text("id: bomb\nversion: 1\n" + BOMB, encoding="utf-8")
    result = cmbot(db, "flows", "check", str(flows / "bomb.yaml"))
    assert result.returncode != 0
    assert "aliases (*name) are not allowed" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_an_oversized_answers_file_is_refused_without_being_read_whole(db):
    huge = db.parent / "huge.yaml"
    with huge.open("w", encoding="utf-8") as out:
        out.write("org_size: small\nnotes: |\n")
        for _ in range(200_000):
            out.write("  " + "x" * 100 + "\n")
    result = cmbot(db, "chat", "--answers", str(huge), "--json")
    assert result.returncode == 2
    assert "larger than 64 KB" in result.stderr


# --- 8. a damaged shard ---------------------------------------------------------------------------


def test_a_damaged_shard_is_contained_then_merged_back(db, tmp_path, made):
    ids = made.copy_to(db)
    damaged = archive_path(db) / shard_name(ids[0])
    others = [i for i in ids if shard_name(i) != damaged.name]
    good_copy = damaged.read_bytes()
    damaged.write_bytes(good_copy[: len(good_copy) // 2])  # torn by a disk error

    # readers keep working and say which file is damaged
    assert sorted(history(db)) == sorted(ids)  # the index still lists it
    assert cmbot(db, "show", others[0]).returncode == 0
    shown = cmbot(db, "show", ids[0])
    assert shown.returncode != 0 and str(damaged) in shown.stderr and "Traceback" not in shown.stderr
    out = tmp_path / "export.jsonl"
    exported = cmbot(db, "db", "export", "-o", str(out))
    assert exported.returncode == 1 and str(damaged) in exported.stderr
    assert {json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()[1:]} == set(others)

    # the next writer sets it aside, intact, and goes on
    fresh = consult(db)
    aside = [p for p in damaged.parent.iterdir()
             if p.name.startswith(damaged.name + ".damaged-") and not p.name.endswith(".bak")]
    assert len(aside) == 1 and aside[0].read_bytes() == good_copy[: len(good_copy) // 2]
    assert ids[0] not in history(db) and fresh in history(db)
    check = cmbot(db, "db", "check")
    assert check.returncode == 1
    assert f"{aside[0]}: SET ASIDE" in check.stdout

    restored = cmbot(db, "db", "restore")
    assert restored.returncode == 0, restored.stderr
    assert "merged back" in restored.stdout
    assert cmbot(db, "db", "check").returncode == 0
    assert sorted(history(db)) == sorted([*ids, fresh])
    assert cmbot(db, "show", ids[0]).returncode == 0


def test_a_shard_written_once_has_a_backup(db):
    cid = consult(db)
    shard = archive_path(db) / shard_name(cid)
    backup = shard.with_name(shard.name + ".bak")
    assert backup.read_bytes() == shard.read_bytes()
    assert os.stat(backup).st_ino != os.stat(shard).st_ino  # a copy: damage to one spares the other


# --- 9. one writer at a time -------------------------------------------------------------------


def test_chat_next_to_a_running_bot_says_why_it_cannot_and_writes_nothing(db):
    bot = Store(db, exclusive=True)  # what `cmbot serve` holds
    try:
        result = cmbot(db, "chat", "--answers", str(answers_file(db.parent)), "--json")
        assert result.returncode != 0
        assert f"The database {db} is in use by another cmbot process (pid {os.getpid()}" in result.stderr
        assert "Traceback" not in result.stderr
        assert bot.consultations() == []
    finally:
        bot.close()


def test_a_store_opened_to_read_takes_the_lock_at_its_first_write(db):
    reader = Store(db)
    bot = Store(db, exclusive=True)
    try:
        assert reader.consultations() == []  # reading beside the bot is fine
        with pytest.raises(DatabaseBusy):
            reader.add_consultation(record("c1", "alice"))
        assert bot.consultations() == []
    finally:
        bot.close()
        reader.close()
