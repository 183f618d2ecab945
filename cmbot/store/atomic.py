"""A crash-safe TinyDB storage.

TinyDB's `JSONStorage` truncates and rewrites its file in place, so a crash mid-write can leave
it empty or half-written. This storage writes a temporary file beside it, fsyncs it, keeps the
previous good file as `<name>.bak` and swaps the new one in with `os.replace` (atomic on POSIX),
then fsyncs the folder. A file that does not parse is never overwritten: reading it raises
`CorruptDatabase`, naming the file and its backup.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from .errors import CorruptDatabase, backup_path
from .stream import iter_documents


def remove_stray_temp_files(path: Path) -> None:
    """Temp files left by a crash mid-write are never the real data; clear them at start-up.

    Only safe when no other process is writing this database (see `Store`): a live writer's temp
    file looks exactly like a stray one.
    """
    for pattern in (f".{path.name}.*.tmp", f".{path.name}.*.tmp.bak"):
        for stray in path.parent.glob(pattern):
            with contextlib.suppress(OSError):
                stray.unlink()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing a large archive creates millions of containers, and the cyclic garbage collector
    rescans them again and again while it runs (12 s instead of 4.6 s at 100 000 consultations);
    JSON has no cycles to collect, so pause it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptDatabase(path, exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise CorruptDatabase(path, f"not UTF-8 text at byte {exc.start}") from exc
    if not text.strip():
        raise CorruptDatabase(path, "the file is empty")
    try:
        with gc_paused():
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDatabase(path, f"not valid JSON at line {exc.lineno}") from exc
    if not (isinstance(data, dict) and all(
            isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
            for table in data.values())):
        raise CorruptDatabase(path, "not a TinyDB document")
    return data


def json_chunks(data: Any, depth: int) -> Iterator[str]:
    """The text `json.dump` would write, but each document encoded by the C encoder.

    `json.dump` falls back to the pure-Python encoder (3x slower on a large archive) and
    `json.dumps` builds the whole file as one string; encoding table by table, document by
    document, is as fast as the latter with the memory of the former.
    """
    if depth == 0 or not isinstance(data, dict) or not data:
        yield json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return
    yield "{"
    for n, (key, value) in enumerate(data.items()):
        yield ("," if n else "") + json.dumps(str(key), ensure_ascii=False) + ":"
        yield from json_chunks(value, depth - 1)
    yield "}"


def _link_as_backup(source: Path, tmp: str, path: Path) -> None:
    """The previous file becomes the backup (a hard link: no copy, and it is never written again)."""
    os.link(source, tmp + ".bak")
    os.replace(tmp + ".bak", backup_path(path))


def _copy_as_backup(path: Path, tmp: str) -> None:
    """The file just written is also the backup: a copy, not a link, so damage to the file's
    blocks cannot reach its backup. Not fsynced on its own (the file it copies is, and the
    folder's fsync makes the rename durable): one fsync per write is what a turn can afford."""
    shutil.copyfile(path, tmp + ".bak")
    os.replace(tmp + ".bak", backup_path(path))


def write_json_atomic(path: Path, data: Any, scrub: bool = False) -> None:
    """Swap `data` in; the old file becomes the backup, or with `scrub` the new one does
    (after a delete, so what was deleted leaves no copy behind). A file written for the first
    time gets its backup at once, so no file is ever without one. A symlinked file (an operator's
    `CMBOT_DB` pointing elsewhere) is written where it points, the link left as it is."""
    path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(json_chunks(data, depth=2))
            handle.flush()
            os.fsync(handle.fileno())
        new_is_backup = scrub or not path.exists()
        if not new_is_backup:
            _link_as_backup(path, tmp, path)
        os.replace(tmp, path)
        if new_is_backup:
            _copy_as_backup(path, tmp)
    except BaseException:
        for left in (tmp, tmp + ".bak"):
            with contextlib.suppress(OSError):
                os.unlink(left)
        raise
    fsync_dir(path.parent)


def rewrite_without(path: Path, drop: Callable[[dict[str, Any]], bool]) -> int:
    """Rewrite a TinyDB file without the documents `drop` picks, streaming it (any size, the
    memory of one document); returns how many went. Nothing is written when none does, and
    no backup is kept: this is how a deleted consultation leaves files like the migrated old
    archive."""
    if not path.exists():
        return 0
    dropped = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            table, docs = None, 0
            for name, doc_id, doc in iter_documents(path):
                if drop(doc):
                    dropped += 1
                    continue
                if name != table:
                    out.write(("}," if table is not None else "{") + json.dumps(name) + ":{")
                    table, docs = name, 0
                out.write(("," if docs else "") + json.dumps(doc_id) + ":"
                          + json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
                docs += 1
            out.write("}}" if table is not None else "{}")
            out.flush()
            os.fsync(out.fileno())
        if dropped:
            os.replace(tmp, path)
            fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dropped


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable: without it a crash can undo the `os.replace`."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """TinyDB storage: whole-file JSON, replaced atomically on every write."""

    def __init__(self, path: str | Path, clean_temp: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if clean_temp:
            remove_stray_temp_files(self.path)
        for _ in iter_documents(self.path):  # fail now, before anything is written over a corrupt
            pass  # file; one document at a time, so a large archive costs no memory to check

    def read(self) -> dict[str, Any] | None:
        return read_json(self.path)

    scrub_next = False  # set before a delete: the next write leaves no backup of the old data

    def write(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.path, data, scrub=self.scrub_next)
        self.scrub_next = False

    def close(self) -> None:
        pass
