"""Never lose a consultation: `cmbot db check`, `cmbot db restore`, the one-writer lock, and the
file reading they rely on, on real TinyDB files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from commandline import environment, run

from cmbot.store import CorruptDatabase, DatabaseBusy, Store, archive_path
from cmbot.store.archive import shard_name
from cmbot.store.atomic import json_chunks, write_json_atomic
from cmbot.store.recovery import check
from cmbot.store.stream import iter_documents

ARTICLE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "examples" / "article-case.yaml").read_text("utf-8"))
TRUNCATED = b'{"consultations":{"1":{"id":"abc","answers":{"org_size"'


def cmbot(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(args, env=environment(db), cwd=db.parent, timeout=120)


def bak(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def consult(db: Path, times: int = 1) -> list[str]:
    """Consultations made with the installed `cmbot chat --answers FILE --json`."""
    answers = db.parent / "answers.yaml"
    answers.write_text(yaml.safe_dump(ARTICLE), encoding="utf-8")
    ids = []
    for _ in range(times):
        result = cmbot(db, "chat", "--answers", str(answers), "--json")
        assert result.returncode == 0, result.stderr
        ids.append(json.loads(result.stdout)["consultation_id"])
    return ids


def history(db: Path) -> list[str]:
    result = cmbot(db, "history", "--json")
    assert result.returncode == 0, result.stderr
    return [r["consultation_id"] for r in json.loads(result.stdout)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cmbot.json"


def twin_id(cid: str) -> str:
    """An id that lands in the same shard of the archive as `cid`."""
    n = 0
    while shard_name(f"{cid}-{n}") != shard_name(cid):
        n += 1
    return f"{cid}-{n}"


def shard(db: Path, ids: list[str]) -> Path:
    """The shard file holding the consultations of `saved`."""
    return archive_path(db) / shard_name(ids[0])


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[Path, list[str]]:
    """A database with two consultations in one shard (so that shard has a backup); copied by
    tests."""
    db = tmp_path_factory.mktemp("two") / "cmbot.json"
    first = consult(db)[0]
    store = Store(db)
    record = store.get_consultation(first)
    store.add_consultation(dict(record, id=twin_id(first), finished_at="2999-01-01T00:00:00+00:00"))
    store.close()
    return db, [first, twin_id(first)]


@pytest.fixture
def saved(two, tmp_path) -> tuple[Path, list[str]]:
    source, ids = two
    for path in source.parent.rglob("*"):
        if path.is_file() and path.suffix != ".yaml":
            target = tmp_path / path.relative_to(source.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return tmp_path / source.name, ids


# --- db check ---------------------------------------------------------------------------------


def test_check_a_good_database(saved):
    db, ids = saved
    result = cmbot(db, "db", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{db}: OK, 0 records." in result.stdout
    assert f"{shard(db, ids)}: OK, 2 records." in result.stdout
    assert f"backup {bak(shard(db, ids))}: readable." in result.stdout
    assert "Every database file is readable." in result.stdout


def test_check_a_database_not_created_yet(db):
    result = cmbot(db, "db", "check")
    assert result.returncode == 0, result.stdout
    assert f"{db}: not created yet" in result.stdout
    assert list(db.parent.iterdir()) == []  # checking creates nothing


def test_check_a_corrupt_archive(saved):
    db, ids = saved
    shard(db, ids).write_bytes(TRUNCATED)
    result = cmbot(db, "db", "check")
    assert result.returncode == 1
    assert f"{shard(db, ids)}: UNREADABLE (the file ends too early at character" in result.stdout
    assert f"backup {bak(shard(db, ids))}: readable." in result.stdout
    assert "cmbot db restore" in result.stdout
    assert f"{db}: OK" in result.stdout
    assert shard(db, ids).read_bytes() == TRUNCATED


CORRUPT = [
    pytest.param(b"garbage{", id="garbage"),
    pytest.param(b"", id="empty"),
    pytest.param(b"  \n", id="blank"),
    pytest.param(TRUNCATED, id="truncated"),
    pytest.param(b"[1, 2, 3]", id="not-a-document"),
    pytest.param(b'{"consultations":{"1":[]}}', id="not-a-table"),
    pytest.param(b'{"consultations":{}} {}', id="extra-data"),
    pytest.param(b"\xff\xfe\x00garbage\x80", id="not-utf8"),
]


@pytest.mark.parametrize("content", CORRUPT)
def test_check_finds_every_kind_of_corruption(db, content):
    Store(db).close()
    db.write_bytes(content)
    [hot] = check(db)  # no shard yet
    assert not hot.good and hot.file.error
    with pytest.raises(CorruptDatabase) as caught:  # and the store refuses it, naming it
        Store(db)
    assert str(db) in str(caught.value)
    assert db.read_bytes() == content


def test_a_lost_file_with_a_backup_is_not_good(saved):
    db, ids = saved
    shard(db, ids).unlink()
    result = cmbot(db, "db", "check")
    assert result.returncode == 1
    assert f"{shard(db, ids)}: MISSING, but its backup is there." in result.stdout
    restored = cmbot(db, "db", "restore")
    assert restored.returncode == 0, restored.stderr
    assert f"{shard(db, ids)}: was missing; restored from {bak(shard(db, ids))}." in restored.stdout
    assert history(db) == ids[:1]


# --- db restore -------------------------------------------------------------------------------


def test_restore_puts_the_backup_back_and_keeps_the_bad_file(saved):
    db, ids = saved
    archive = shard(db, ids)
    backup = bak(archive).read_bytes()
    archive.write_bytes(TRUNCATED)
    assert "cmbot db restore" in cmbot(db, "history").stderr  # the advice people are given…

    result = cmbot(db, "db", "restore")  # … works
    assert result.returncode == 0, result.stderr
    aside = [p for p in archive.parent.iterdir() if p.name.startswith(archive.name + ".corrupt-")]
    assert len(aside) == 1
    assert aside[0].read_bytes() == TRUNCATED
    assert (f"{archive}: restored from {bak(archive)}; the unreadable file was kept as {aside[0]}."
            in result.stdout)
    assert archive.read_bytes() == backup
    assert cmbot(db, "db", "check").returncode == 0
    assert history(db) == ids[:1]  # the state before the last write
    consult(db)  # and the database works again
    assert len(history(db)) == 2


def test_restore_refuses_when_the_backup_is_unreadable_too(saved):
    db, ids = saved
    archive = shard(db, ids)
    archive.write_bytes(TRUNCATED)
    bak(archive).write_bytes(b"garbage{")
    result = cmbot(db, "db", "restore")
    assert result.returncode == 1
    assert f"{archive}: unreadable, and so is its backup {bak(archive)}" in result.stderr
    assert archive.read_bytes() == TRUNCATED
    assert bak(archive).read_bytes() == b"garbage{"
    assert not [p for p in db.parent.rglob("*") if ".corrupt-" in p.name]


def test_restore_refuses_without_a_backup(db):
    archive = archive_path(db) / "0000.json"
    archive.parent.mkdir()
    write_json_atomic(archive, {"consultations": {}})
    archive.write_bytes(b"garbage{")
    bak(archive).unlink()  # written by an older cmbot, before first writes got a backup
    result = cmbot(db, "db", "restore")
    assert result.returncode == 1
    assert f"{archive}: unreadable and without a backup; left as it is." in result.stderr
    assert archive.read_bytes() == b"garbage{"


def test_restore_with_nothing_to_restore(saved):
    db, _ = saved
    before = {str(p): p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    result = cmbot(db, "db", "restore")
    assert result.returncode == 0
    assert "Nothing to restore" in result.stdout
    after = {str(p): p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    def data(files: dict[str, bytes]) -> dict[str, bytes]:
        return {k: v for k, v in files.items() if not k.endswith((".lock", ".lock.pid"))}

    assert data(after) == data(before)


def test_restore_is_refused_while_a_bot_holds_the_database(saved):
    db, ids = saved
    running = Store(db, exclusive=True)  # a bot, running when its archive went bad
    shard(db, ids).write_bytes(TRUNCATED)
    try:
        result = cmbot(db, "db", "restore")
        assert result.returncode == 1
        assert f"The database {db} is in use by another cmbot process" in result.stderr
        assert shard(db, ids).read_bytes() == TRUNCATED
    finally:
        running.close()
    assert cmbot(db, "db", "restore").returncode == 0


# --- the lock ---------------------------------------------------------------------------------


def test_a_second_exclusive_store_is_refused_with_a_clear_message(db):
    first = Store(db, exclusive=True)
    with pytest.raises(DatabaseBusy) as caught:
        Store(db, exclusive=True)
    message = str(caught.value)
    assert str(db) in message and f"pid {os.getpid()}" in message
    assert "cmbot serve" in message
    assert caught.value.path == db
    plain = Store(db)  # reading (`cmbot history`) is still allowed
    with pytest.raises(DatabaseBusy):
        plain.lock_exclusive()
    plain.close()
    first.close()
    second = Store(db, exclusive=True)  # released by close()
    assert second.exclusive
    second.close()


def test_the_lock_is_held_across_processes_and_dies_with_its_holder(db):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from cmbot.store import Store; s = Store(sys.argv[1], exclusive=True); "
         "print('ready', flush=True); sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseBusy) as caught:
            Store(db, exclusive=True)
        assert f"pid {holder.pid}" in str(caught.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    Store(db, exclusive=True).close()  # kill -9 leaves no stale lock


def test_a_plain_store_leaves_a_locked_databases_temp_files_alone(db):
    """A running bot's temp file looks like a crash's leftover: only clear it when nobody writes."""
    Store(db).close()
    stray = db.parent / f".{db.name}.a1b2c3.tmp"
    stray_bak = db.parent / f".{db.name}.a1b2c3.tmp.bak"
    running = Store(db, exclusive=True)
    stray.write_text("being written", encoding="utf-8")
    stray_bak.write_text("being linked", encoding="utf-8")
    Store(db).close()
    assert stray.exists() and stray_bak.exists()
    running.close()
    Store(db).close()
    assert not stray.exists() and not stray_bak.exists()


# --- reading and writing the files ------------------------------------------------------------


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return rng.choice([0, -12.5e3, 10**12, "é\"\\ \u2028 ☕", "", True, False, None])
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{n}é": _random_value(rng, depth + 1) for n in range(rng.randint(0, 3))}


@pytest.mark.parametrize("seed", range(20))
def test_the_streaming_reader_reads_what_json_reads(tmp_path, seed):
    rng = random.Random(seed)
    data = {f"t{t}": {str(n): {f"f{k}": _random_value(rng) for k in range(rng.randint(0, 4))}
                      for n in range(rng.randint(0, 5))} for t in range(rng.randint(0, 3))}
    path = tmp_path / "db.json"
    write_json_atomic(path, data)
    assert path.read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False,
                                                          separators=(",", ":"))
    for text in ("".join(json_chunks(data, 2)), json.dumps(data, indent=2)):
        path.write_text(text, encoding="utf-8")
        for chunk in (1, 3, 7, 1 << 20):  # values cut by the buffer's end at every place
            got: dict[str, dict[str, Any]] = {}
            for table, doc_id, doc in iter_documents(path, chunk):
                got.setdefault(table, {})[doc_id] = doc
            assert got == {t: docs for t, docs in data.items() if docs}
        for cut in sorted({rng.randrange(1, len(text)) for _ in range(10)}):
            path.write_text(text[:cut], encoding="utf-8")
            with pytest.raises(CorruptDatabase):
                list(iter_documents(path, 3))
