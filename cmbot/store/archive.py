"""The archive of finished consultations: a folder of shard files plus a summary index.

`<stem>.consultations/` holds up to `SHARDS` TinyDB files (`0000.json` … `3fff.json`, each an
`AtomicJSONStorage` with its `.bak`), a consultation living in the shard named by a stable hash
of its id (CRC-32), so archiving or deleting one rewrites one small file (~6 consultations at
100 000) instead of the whole archive. `index.jsonl` lists one summary per line (what listings
need: id, flow, language, who, where, when, placement, parent): it is kept in memory as tuples,
appended to (one fsynced line) when a consultation is archived and rewritten atomically, without
the deleted one, on delete — so a deleted consultation leaves no copy, not even its id. The index
is derived data: a torn last line (a crash mid-append) is ignored, a missing or unreadable index
is rebuilt from the shards, and shards modified after (or just before) the index was last written
are re-read at open, so a crash between a shard write and its index line loses nothing.
An archive of the old layout (one file, `<stem>.consultations.json`) is moved into shards at
open and kept as `<stem>.consultations.json.migrated`.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import json
import logging
import mmap
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from ..i18n import default_lang, t
from .atomic import AtomicJSONStorage, fsync_dir, gc_paused, rewrite_without
from .damage import set_aside
from .errors import CorruptDatabase, backup_path
from .ids import IdTaken, same_interview
from .paged import Paged
from .protocol import with_workspace, workspace_of
from .stream import iter_documents

log = logging.getLogger("cmbot")

Record = dict[str, Any]
SHARDS = 16384  # ~6 consultations (~16 KB) per shard at 100 000
SHARD_FILE = re.compile(r"[0-9a-f]{4}\.json")
TABLE = "consultations"
INDEX = "index.jsonl"
RECHECK_NS = 1_000_000_000  # shards written up to 1 s before the index's last write are re-read
MIGRATE_BYTES = 32 << 20  # how much of an old one-file archive is migrated per pass

# an index row: (finished_at, id, flow_id, lang, started_by, kind, channel, where_json, placement,
# parent_id, workspace); tuples sort newest last by (finished_at, id). Lines written before
# workspaces existed have no workspace: the default one ("").
Row = tuple[Any, ...]
FIN, ID, FLOW, LANG, BY, KIND, CHANNEL, WHERE, PLACEMENT, PARENT, WS = range(11)


def archive_path(db_path: Path) -> Path:
    """The archive's folder."""
    return db_path.with_name(db_path.stem + ".consultations")


def legacy_archive_path(db_path: Path) -> Path:
    """Where the archive was one file (before the folder of shards)."""
    return db_path.with_name(db_path.stem + ".consultations.json")


def migrated_paths(db_path: Path) -> list[Path]:
    """Where a migrated one-file archive and its backup were kept."""
    legacy = legacy_archive_path(db_path)
    return [legacy.with_name(legacy.name + ".migrated"), legacy.with_name(legacy.name + ".migrated.bak")]


def shard_index(consultation_id: str) -> int:
    return zlib.crc32(consultation_id.encode("utf-8")) % SHARDS


def shard_name(consultation_id: str) -> str:
    return f"{shard_index(consultation_id):04x}.json"


def shard_files(folder: Path) -> list[Path]:
    """The shard files present, in export order (by name)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if SHARD_FILE.fullmatch(p.name))


def lost_shards(folder: Path) -> list[Path]:
    """Shards whose file is gone while their backup is still there."""
    if not folder.is_dir():
        return []
    return sorted(p.with_name(p.name[:-4]) for p in folder.glob("*.json.bak")
                  if SHARD_FILE.fullmatch(p.name[:-4]) and not p.with_name(p.name[:-4]).exists())


def _mentions(path: Path, consultation_id: str) -> bool:
    """Whether a (possibly large) file may hold this id: a byte search, no parsing."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(json.dumps(consultation_id, ensure_ascii=False).encode("utf-8")) >= 0
    except (FileNotFoundError, ValueError):  # missing, or empty (mmap refuses 0 bytes)
        return False


def _intern(value: Any) -> Any:
    return sys.intern(value) if isinstance(value, str) else value


def row_of(record: Record) -> Row:
    where = record.get("where") or {}
    channel = where.get("channel") if isinstance(where, dict) else None
    kind = where.get("kind") if isinstance(where, dict) else None
    placement = (record.get("recommendation") or {}).get("placement")
    return (record.get("finished_at", ""), record["id"], _intern(record.get("flow_id")),
            _intern(record.get("lang")), _intern(record.get("started_by")), _intern(kind),
            _intern(channel), json.dumps(where, ensure_ascii=False, separators=(",", ":")),
            _intern(placement), record.get("parent_id"), _intern(workspace_of(record)))


def _line(row: Row) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _valid(row: Any) -> bool:
    return (isinstance(row, list) and len(row) in (10, 11) and isinstance(row[ID], str)
            and isinstance(row[FIN], str) and isinstance(row[WHERE], str)
            and (len(row) == 10 or isinstance(row[WS], str)))


def summary(row: Row) -> Record:
    """A row shaped like a stored consultation, for the fields listings use."""
    return with_workspace({"id": row[ID], "flow_id": row[FLOW], "lang": row[LANG], "started_by": row[BY],
                           "where": json.loads(row[WHERE]), "finished_at": row[FIN],
                           "parent_id": row[PARENT], "recommendation": {"placement": row[PLACEMENT]}},
                          row[WS])


class ShardStorage(AtomicJSONStorage):
    """`AtomicJSONStorage` without the read-through check at open: a shard is opened on first
    use, in the middle of a turn, and every TinyDB write reads the file first anyway (a corrupt
    shard raises `CorruptDatabase` there and is never overwritten)."""

    def __init__(self, path: str | Path):  # no super().__init__: see above
        self.path = Path(path)


class Listing(Paged):
    """Consultations newest first, merged lazily from sorted index lists: a page costs a page."""

    def __init__(self, lists: list[list[Row]], count: int):
        super().__init__(count)
        self._merged = heapq.merge(*(reversed(rows) for rows in lists), reverse=True)
        self._rows: list[Row] = []

    def _take(self, start: int, stop: int) -> list[Record]:
        while len(self._rows) < stop:
            row = next(self._merged, None)
            if row is None:
                break
            if not self._rows or self._rows[-1] is not row:  # a row in two lists comes twice
                self._rows.append(row)
        return [summary(r) for r in self._rows[start:stop]]


class Archive:
    """The folder of shards and its in-memory index. Not thread-safe: `Store` serialises calls.

    `writable` is False for a reader opened while another process holds the database's lock: it
    never migrates, rebuilds or rewrites the index (the lock holder does), it only reads. Only
    the `owner` of the lock sets an unreadable shard aside; anyone else skips it.
    """

    def __init__(self, db_path: Path, writable: bool, owner: bool = False):
        self.folder = archive_path(db_path)
        self.legacy = legacy_archive_path(db_path)
        self.migrated = migrated_paths(db_path)
        self.index_path = self.folder / INDEX
        self.writable = writable
        self.owner = owner  # holds the database's lock: may set an unreadable shard aside
        self._shards: dict[str, TinyDB] = {}
        self._rows: dict[str, Row] = {}
        self._order: list[Row] = []  # every row, oldest first
        self._by_user: dict[Any, list[Row]] = {}
        self._by_channel: dict[Any, list[Row]] = {}  # channel consultations only
        self._seen: tuple[int, int] | None = None  # (inode, bytes read) of the index
        self.folder.mkdir(parents=True, exist_ok=True)
        if writable:
            for pattern in (".*.tmp", ".*.tmp.bak"):
                for stray in self.folder.glob(pattern):
                    with contextlib.suppress(OSError):
                        stray.unlink()
        self._load(reconcile=True)
        if writable and self.legacy.exists():
            self._migrate()

    # --- the index in memory ------------------------------------------------------------------

    def _clear(self) -> None:
        self._rows, self._order, self._by_user, self._by_channel = {}, [], {}, {}

    def _put(self, row: Row) -> None:
        old = self._rows.get(row[ID])
        if old is not None:
            self._drop(old)
        self._rows[row[ID]] = row
        bisect.insort(self._order, row)
        bisect.insort(self._by_user.setdefault((row[WS], row[BY]), []), row)
        if row[KIND] == "channel":
            bisect.insort(self._by_channel.setdefault((row[WS], row[CHANNEL]), []), row)

    def _drop(self, row: Row) -> None:
        del self._rows[row[ID]]
        for rows in (self._order, self._by_user.get((row[WS], row[BY])),
                     self._by_channel.get((row[WS], row[CHANNEL])) if row[KIND] == "channel" else None):
            if rows is not None:
                at = bisect.bisect_left(rows, row)
                if at < len(rows) and rows[at] is row:
                    del rows[at]

    def _set_all(self, rows: Iterable[Row]) -> None:
        self._clear()
        for row in rows:
            self._rows[row[ID]] = row
        self._order = sorted(self._rows.values())
        for row in self._order:
            self._by_user.setdefault((row[WS], row[BY]), []).append(row)
            if row[KIND] == "channel":
                self._by_channel.setdefault((row[WS], row[CHANNEL]), []).append(row)

    @staticmethod
    def _parse(lines: Iterable[bytes]) -> tuple[list[Row], bool] | None:
        """Rows from index lines, and whether the last line was torn (no newline: a crash
        mid-append); None if unreadable. Parsed a batch at a time, so loading a large index
        never holds more than a batch of throw-away objects (the memory stays the rows')."""
        rows: list[Row] = []
        torn = False
        batch: list[bytes] = []

        def flush() -> bool:
            try:
                parsed = json.loads(b"[" + b",".join(batch) + b"]")
            except (json.JSONDecodeError, UnicodeDecodeError):
                return False
            if not all(_valid(r) for r in parsed):
                return False
            rows.extend((r[FIN], r[ID], _intern(r[FLOW]), _intern(r[LANG]), _intern(r[BY]),
                         _intern(r[KIND]), _intern(r[CHANNEL]), r[WHERE], _intern(r[PLACEMENT]),
                         r[PARENT], _intern(r[WS]) if len(r) > WS else "") for r in parsed)
            batch.clear()
            return True

        for line in lines:
            if not line.endswith(b"\n"):
                torn = True
                break
            if line.strip():
                batch.append(line)
            if len(batch) >= 2048 and not flush():
                return None
        if batch and not flush():
            return None
        return rows, torn

    def _load(self, reconcile: bool) -> None:
        try:
            with self.index_path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                parsed = self._parse(handle)
                size = handle.tell() if parsed is None or not parsed[1] else None
        except FileNotFoundError:
            parsed, stat = None, None
        except OSError:
            parsed = None
        if parsed is None or stat is None:
            self._rebuild()
            return
        rows, torn = parsed
        self._set_all(rows)
        if size is None:  # torn: read up to the last newline
            with self.index_path.open("rb") as handle:
                size = sum(len(line) for line in handle if line.endswith(b"\n"))
        self._seen = (stat.st_ino, size)
        if reconcile:
            changed = self._reconcile(stat.st_mtime_ns - RECHECK_NS)
            if (changed or torn) and self.writable:
                self._write_index()

    def _rebuild(self) -> None:
        """The index from the shards themselves (missing or unreadable index)."""
        rows = [row_of(doc) for path in shard_files(self.folder) for doc in self._documents(path) or []]
        self._set_all(rows)
        self._seen = None
        if self.writable and (rows or self.index_path.exists()):
            self._write_index()

    def _reconcile(self, since_ns: int) -> bool:
        """Re-read the shards written after `since_ns`; True if the index was wrong."""
        changed = False
        recent = []
        for path in shard_files(self.folder):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime_ns >= since_ns:
                    recent.append(path)
        if not recent:
            return False
        indexed: dict[str, list[str]] = {}
        for cid in self._rows:
            indexed.setdefault(shard_name(cid), []).append(cid)
        for path in recent:
            docs = self._documents(path)
            if docs is None:  # unreadable: set aside (rows dropped) or, for a reader, left as listed
                continue
            stored = {doc["id"]: doc for doc in docs if isinstance(doc.get("id"), str)}
            for cid in [cid for cid in indexed.get(path.name, []) if cid not in stored and cid in self._rows]:
                self._drop(self._rows[cid])
                changed = True
            for cid, doc in stored.items():
                row = row_of(doc)
                if self._rows.get(cid) != row:
                    self._put(row)
                    changed = True
        return changed

    def refresh(self) -> None:
        """Pick up what other processes appended to (or rewrote in) the index since we read it."""
        try:
            stat = self.index_path.stat()
        except FileNotFoundError:
            return
        if self._seen is None or stat.st_ino != self._seen[0] or stat.st_size < self._seen[1]:
            self._load(reconcile=False)
            return
        if stat.st_size == self._seen[1]:
            return
        with self.index_path.open("rb") as handle:
            handle.seek(self._seen[1])
            tail = handle.read()
        parsed = self._parse(tail.splitlines(keepends=True))
        if parsed is None:
            self._load(reconcile=False)
            return
        for row in parsed[0]:
            self._put(row)
        self._seen = (stat.st_ino, self._seen[1] + tail.rfind(b"\n") + 1)

    def _append(self, rows: list[Row]) -> None:
        if not rows:
            return
        fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, "".join(_line(r) for r in rows).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write_index(self) -> None:
        """Rewrite the index atomically (no backup: it is derived from the shards)."""
        fd, tmp = tempfile.mkstemp(prefix=f".{INDEX}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(_line(r) for r in self._order)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.index_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(self.folder)
        stat = self.index_path.stat()
        self._seen = (stat.st_ino, stat.st_size)

    # --- shards ---------------------------------------------------------------------------------

    def _documents(self, path: Path) -> list[Record] | None:
        """A shard's consultations, or None if it cannot be read (then it is contained)."""
        try:
            return [doc for table, _, doc in iter_documents(path) if table == TABLE]
        except CorruptDatabase as exc:
            self._set_aside_or_skip(exc)
            return None

    def _set_aside_or_skip(self, exc: CorruptDatabase) -> None:
        """An unreadable shard: the lock holder sets it aside and forgets its rows (a reader
        only skips it); either way the rest of the archive keeps working."""
        name = exc.path.name
        self._shards.pop(name, None)
        if not self.owner or not SHARD_FILE.fullmatch(name) or not exc.path.exists():
            log.warning(t("db.shard_unreadable", default_lang(), error=exc))
            return
        aside = set_aside(exc.path)
        for cid in [cid for cid in self._rows if shard_name(cid) == name]:
            self._drop(self._rows[cid])
        self._write_index()
        log.warning(t("db.shard_set_aside", default_lang(), file=exc.path, reason=exc.reason,
                      aside=aside))

    def _write_shard(self, consultation_id: str, write: Callable[[Any], Any]) -> Any:
        """`write(table)` on the consultation's shard; a shard found unreadable is contained and
        the write done again on a fresh one (so a damaged shard never blocks a new consultation)."""
        try:
            return write(self._shard(consultation_id).table(TABLE))
        except CorruptDatabase as exc:
            if not self.owner or exc.path != self.folder / shard_name(consultation_id):
                raise
            self._set_aside_or_skip(exc)
            return write(self._shard(consultation_id).table(TABLE))

    def _shard(self, consultation_id: str) -> TinyDB:
        name = shard_name(consultation_id)
        db = self._shards.get(name)
        if db is None:
            db = self._shards[name] = TinyDB(self.folder / name, storage=ShardStorage)
        return db

    def has(self, consultation_id: str) -> bool:
        self.refresh()
        return consultation_id in self._rows

    def add(self, record: Record) -> None:
        """Archive a consultation; saving the same one again (a retry) replaces it, but a
        different consultation under its id is refused with `IdTaken`."""
        def write(table: Any) -> None:
            stored = table.get(Query().id == record["id"]) if self.has(record["id"]) else None
            if stored is None:
                table.insert(record)
            elif same_interview(stored, record):
                table.upsert(record, Query().id == record["id"])
            else:
                raise IdTaken(self.folder, record["id"])

        self._write_shard(record["id"], write)
        row = row_of(record)
        self._append([row])
        self._put(row)

    def get(self, consultation_id: str) -> Record | None:
        found = self._shard(consultation_id).table(TABLE).get(Query().id == consultation_id)
        return dict(found) if found else None

    def delete(self, consultation_id: str) -> bool:
        """Gone from its shard (and the shard's backup), the index, and the migrated old archive."""
        removed = self.remove_many({consultation_id}) > 0
        for kept in self.migrated:  # the old one-file archive kept after its migration
            if _mentions(kept, consultation_id):
                removed = bool(rewrite_without(kept, lambda doc: doc.get("id") == consultation_id)) or removed
        return removed

    def remove_many(self, ids: set[str]) -> int:
        """Remove consultations, leaving no copy: one write per shard (its backup becomes the
        new file), the index rewritten once. Returns how many were in their shards."""
        by_shard: dict[str, list[str]] = {}
        for cid in ids:
            by_shard.setdefault(shard_name(cid), []).append(cid)
        removed = 0
        for name, group in sorted(by_shard.items()):
            if not (self.folder / name).exists():
                continue

            def remove(table: Any, group: list[str] = group) -> int:
                table.storage.scrub_next = True
                try:
                    return len(table.remove(Query().id.one_of(group)))
                finally:
                    table.storage.scrub_next = False

            removed += self._write_shard(group[0], remove)
            if len(self._shards) > 64:
                self._shards.clear()
        self.refresh()
        rows = [self._rows[cid] for cid in ids if cid in self._rows]
        for row in rows:
            self._drop(row)
        if rows:
            self._write_index()  # rewritten whole: no line of them may remain anywhere
        return removed

    def ids(self) -> set[str]:
        self.refresh()
        return set(self._rows)

    def of_workspace(self, workspace: str) -> set[str]:
        self.refresh()
        return {cid for cid, row in self._rows.items() if row[WS] == workspace}

    def insert_new(self, records: list[Record]) -> int:
        """Records whose id is not archived yet: one write per touched shard, one index append."""
        self.refresh()
        fresh: dict[str, Record] = {}
        for record in records:
            if record["id"] not in self._rows and record["id"] not in fresh:
                fresh[record["id"]] = record
        by_shard: dict[str, list[Record]] = {}
        for record in fresh.values():
            by_shard.setdefault(shard_name(record["id"]), []).append(record)
        rows = []
        with gc_paused():
            for name in sorted(by_shard):
                batch = by_shard[name]
                self._write_shard(batch[0]["id"], lambda table, batch=batch: table.insert_multiple(batch))
                rows += [row_of(r) for r in batch]
                if len(self._shards) > 64:  # an import touches every shard: hold none open
                    self._shards.clear()
            self._append(rows)
        for row in rows:
            self._put(row)
        return len(fresh)

    def _migrate(self) -> None:
        """Move a one-file archive into shards (idempotent: a crash midway is redone). The file
        is read once per range of shards (~32 MB of it in memory at a time), so each shard is
        written once whatever the size of the archive."""
        passes = max(1, -(-self.legacy.stat().st_size // MIGRATE_BYTES))
        span = -(-SHARDS // passes)
        for first in range(0, SHARDS, span):
            self.insert_new([doc for table, _, doc in iter_documents(self.legacy)
                             if table == TABLE and isinstance(doc.get("id"), str)
                             and first <= shard_index(doc["id"]) < first + span])
        for old, kept in zip((self.legacy, backup_path(self.legacy)), self.migrated, strict=True):
            if old.exists():
                os.replace(old, kept)
        fsync_dir(self.legacy.parent)

    # --- listings -------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        """Every row, newest first."""
        self.refresh()
        return self._order[::-1]

    def listing(self, user: str | None, channel_ok: Callable[[str], bool] | None,
                workspace: str = "") -> Listing:
        """What `user` started, plus the channel consultations of channels `channel_ok` allows,
        within one workspace."""
        self.refresh()
        mine = self._by_user.get((workspace, user), []) if user is not None else []
        channels = ({c for ws, c in self._by_channel if ws == workspace and channel_ok(c)}
                    if channel_ok else set())
        lists = [mine, *(self._by_channel[(workspace, c)] for c in sorted(channels))]
        count = sum(len(self._by_channel[(workspace, c)]) for c in channels) + sum(
            1 for r in mine if not (r[KIND] == "channel" and r[CHANNEL] in channels))
        return Listing([list(rows) for rows in lists if rows], count)  # copies: read unlocked

    def close(self) -> None:
        for db in self._shards.values():
            db.close()
        self._shards.clear()


def export_records(db_path: Path, unreadable: list[CorruptDatabase]) -> Iterator[tuple[Path, Record]]:
    """Every archived consultation, shard by shard (by file name), in archive order within a
    shard. A shard that cannot be read is skipped and added to `unreadable`: one damaged file
    must not keep the others from being exported (a shard is small: it is read whole first, so
    none is exported in part)."""
    for path in shard_files(archive_path(db_path)):
        try:
            docs = [doc for table, _, doc in iter_documents(path) if table == TABLE]
        except CorruptDatabase as exc:
            unreadable.append(exc)
            continue
        for doc in docs:
            yield path, doc
