"""`cmbot db check` / `cmbot db restore`: find an unreadable database file and put its backup back.

Every write keeps the previous good file as `<name>.bak` (see `atomic`). `restore` never deletes
anything: the unreadable file is kept aside as `<name>.corrupt-<UTC timestamp>` (a hard link, so
the database path always holds a file), then the backup is copied over it atomically.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .archive import TABLE, Archive, archive_path, lost_shards, shard_files
from .atomic import fsync_dir
from .damage import damaged_shards, shard_of
from .errors import CorruptDatabase, backup_path
from .journal import Interrupted, interrupted
from .lock import DatabaseLock
from .store import Store
from .stream import count_documents, iter_documents


@dataclass(frozen=True)
class FileState:
    """One file as read from disk: missing, readable with `records` documents, or `error`."""

    path: Path
    exists: bool
    records: int = 0
    error: str | None = None

    @property
    def readable(self) -> bool:
        return self.exists and self.error is None


def inspect(path: Path) -> FileState:
    if not path.exists():
        return FileState(path, exists=False)
    try:
        return FileState(path, exists=True, records=count_documents(path))
    except CorruptDatabase as exc:
        return FileState(path, exists=True, error=exc.reason)


@dataclass(frozen=True)
class Health:
    file: FileState
    backup: FileState
    aside: bool = False  # a shard set aside as unreadable (see `damage`): never good as it is

    @property
    def good(self) -> bool:
        """Readable, or not created yet (a missing file with a backup was lost: not good)."""
        return not self.aside and (self.file.readable or (not self.file.exists and not self.backup.exists))

    @property
    def restorable(self) -> bool:
        return not self.good and (self.backup.readable or (self.aside and self.file.readable))


def check(db_path: Path) -> list[Health]:
    """Every file of the database: sessions and preferences, then each shard of the archive
    (including one whose file is gone but whose backup is there). The archive's index is not
    checked: it is rebuilt from the shards whenever it is missing or unreadable."""
    folder = archive_path(db_path)
    paths = [db_path, *sorted({*shard_files(folder), *lost_shards(folder)})]
    return ([Health(inspect(p), inspect(backup_path(p))) for p in paths]
            + [Health(inspect(p), inspect(backup_path(p)), aside=True) for p in damaged_shards(folder)])


@dataclass(frozen=True)
class Restored:
    health: Health
    aside: Path | None  # where the unreadable file was kept (None when it was missing)
    merged: int | None = None  # consultations merged back from a set-aside shard
    source: Path | None = None  # the file they were read from (the shard or its backup)


def _aside_path(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return candidate


def _put_back(health: Health) -> Restored:
    path, backup = health.file.path, health.backup.path
    aside = None
    if health.file.exists:
        aside = _aside_path(path)
        try:
            os.link(path, aside)
        except OSError:  # a file system without hard links
            shutil.copy2(path, aside)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out, backup.open("rb") as source:
            shutil.copyfileobj(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return Restored(health, aside)


def _merge_back(db_path: Path, health: Health) -> Restored:
    """A set-aside shard's consultations back into the archive (the file itself if it reads
    now, else its backup); ids archived since are kept as they are. The set-aside file is then
    kept as `.corrupt-<time>`, like any file `restore` replaces."""
    source = health.file.path if health.file.readable else health.backup.path
    docs = [doc for table, _, doc in iter_documents(source)
            if table == TABLE and isinstance(doc.get("id"), str)]
    archive = Archive(db_path, writable=True)
    try:
        merged = archive.insert_new(docs)
    finally:
        archive.close()
    aside = _aside_path(shard_of(health.file.path))
    os.replace(health.file.path, aside)
    if health.backup.exists:
        os.replace(health.backup.path, backup_path(aside))
    fsync_dir(aside.parent)
    return Restored(health, aside, merged, source)


def restore(db_path: Path) -> tuple[list[Restored], list[Health], Interrupted | None]:
    """Put back the readable backup of every unreadable (or lost) file, merge back what a
    set-aside shard still holds, then undo an import cut short, holding the database's lock
    (`DatabaseBusy` while a bot runs). Returns what was restored, what could not be, and the
    import undone."""
    with DatabaseLock(db_path):
        bad = [h for h in check(db_path) if not h.good]
        done = [_put_back(h) for h in bad if h.restorable and not h.aside]
        done += [_merge_back(db_path, h) for h in bad if h.restorable and h.aside]
        refused = [h for h in bad if not h.restorable]
    cut_short = None if refused else interrupted(db_path)
    if cut_short is not None:
        Store(db_path, exclusive=True).close()  # taking the lock undoes it
    return done, refused, cut_short


def copies_mentioning(db_path: Path, text: str) -> list[Path]:
    """Files cmbot set aside as unreadable (damaged shards, `.corrupt-` copies kept by
    `restore`) that still contain `text`: they cannot be rewritten without it, since they cannot
    be read, so `cmbot db delete-workspace` names them for the operator to remove."""
    folders = [db_path.parent, archive_path(db_path)]
    found = [*damaged_shards(archive_path(db_path))]
    found += [p for folder in folders if folder.is_dir() for p in folder.glob("*.corrupt-*")]
    needle = text.encode("utf-8")
    mentioning = []
    for path in sorted(set(found) | {backup_path(p) for p in found if backup_path(p).exists()}):
        with contextlib.suppress(OSError):
            if needle in path.read_bytes():
                mentioning.append(path)
    return mentioning
