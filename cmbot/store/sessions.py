"""Interviews in progress: one small TinyDB file per session, indexed in memory.

`<stem>.sessions/<id>.json` holds one session in TinyDB's file format (`{"sessions": {"1": …}}`),
so saving a step rewrites a few KB whatever the number of interviews in progress. Lookups by
place (a DM, or a channel thread) and by person come from an in-memory index rebuilt at open from
`index.jsonl`, an append-only log with one line when a session appears or moves (its channel
thread becomes known) and one when it goes. The log is derived data: sessions missing from it are
read and added at open, entries whose file is gone are dropped, and it is compacted when mostly
dead lines. Nothing else reads every session at start-up, so serving is ready at once.

Writes reach the page cache through a temp file and `os.replace` before the caller goes on
(a killed process loses nothing it saved); a background thread fsyncs them a moment later, so
the fsync never sits between an answer and the next question.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .atomic import fsync_dir

Record = dict[str, Any]
TABLE = "sessions"
INDEX = "index.jsonl"
SESSION_FILE = re.compile(r"[A-Za-z0-9_-]{1,64}\.json")
RECENT = 2000  # sessions whose last saved text is kept in memory (a few MB at most)
BATCH_WAIT = 0.05  # seconds the fsync thread gathers writes before syncing them


def sessions_path(db_path: Path) -> Path:
    """The folder of sessions in progress, beside the database file."""
    return db_path.with_name(db_path.stem + ".sessions")


@dataclass(frozen=True)
class Entry:
    """What the index knows of one session: who started it and where it runs."""

    id: str
    by: str
    channel: str | None
    thread: str | None
    kind: str | None

    @classmethod
    def of(cls, record: Record) -> Entry:
        where = record.get("where") or {}
        return cls(str(record["id"]), str(record.get("started_by", "")), where.get("channel"),
                   where.get("thread_ts"), where.get("kind"))

    @property
    def place(self) -> tuple[str, str] | None:
        """The key a message finds it by: a channel thread, or a DM; None while a channel
        interview's root message is not posted yet (nothing can be said in its thread)."""
        if self.channel is None:
            return None
        if self.thread:
            return (self.channel, self.thread)
        return (self.channel, "") if self.kind == "dm" else None

    def line(self) -> str:
        return json.dumps({"id": self.id, "by": self.by, "channel": self.channel,
                           "thread": self.thread, "kind": self.kind}, ensure_ascii=False) + "\n"


def read_session_file(path: Path) -> Record | None:
    """The session in one file, or None when the file is gone or not a session."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    table = data.get(TABLE) if isinstance(data, dict) else None
    docs = list(table.values()) if isinstance(table, dict) else []
    return docs[0] if docs and isinstance(docs[0], dict) and "id" in docs[0] else None


def iter_sessions(db_path: Path) -> Iterator[Record]:
    """Every session on disk, one file at a time (exports, checks): no index, no lock."""
    folder = sessions_path(db_path)
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if SESSION_FILE.fullmatch(path.name):
            record = read_session_file(path)
            if record is not None:
                yield record


class Syncer:
    """fsyncs written session files in the background, one folder fsync per batch."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="cmbot-fsync", daemon=True)
        self._thread.start()

    def add(self, path: Path) -> None:
        self._queue.put(path)

    def _run(self) -> None:
        while True:
            batch = {self._queue.get()}
            time.sleep(BATCH_WAIT)  # a batch, not one journal commit per save
            while not self._queue.empty():
                batch.add(self._queue.get_nowait())
            for path in batch - {None}:
                with contextlib.suppress(OSError), open(path, "rb") as handle:
                    os.fsync(handle.fileno())
            with contextlib.suppress(OSError):
                fsync_dir(self.folder)
            if None in batch:
                return

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)


class Sessions:
    """The sessions of one database; thread-safe (one lock around the index)."""

    def __init__(self, db_path: Path, writable: bool = True):
        self.folder = sessions_path(db_path)
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._by_place: dict[tuple[str, str], str] = {}
        self._by_user: dict[str, set[str]] = {}
        self._pending: set[str] = set()  # saved, but what they show not yet shown (see `pending`)
        self._recent: OrderedDict[str, str] = OrderedDict()  # last saved text of recent sessions
        self._log: TextIO | None = None  # the index, open for appending
        self._lines = 0
        self._syncer: Syncer | None = None
        if writable:
            self.folder.mkdir(parents=True, exist_ok=True)
            for stray in self.folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    stray.unlink()
        self._load(writable)

    # --- index ------------------------------------------------------------------------------

    def _index(self, entry: Entry) -> None:
        old = self._entries.get(entry.id)
        if old is not None:
            self._unindex(old)
        self._entries[entry.id] = entry
        if entry.place is not None:
            self._by_place[entry.place] = entry.id
        self._by_user.setdefault(entry.by, set()).add(entry.id)

    def _unindex(self, entry: Entry) -> None:
        self._entries.pop(entry.id, None)
        if entry.place is not None and self._by_place.get(entry.place) == entry.id:
            del self._by_place[entry.place]
        ids = self._by_user.get(entry.by)
        if ids is not None:
            ids.discard(entry.id)
            if not ids:
                del self._by_user[entry.by]

    def _load(self, writable: bool) -> None:
        """The index from its log, checked against the folder's file names (a crash between a
        session file and its index line loses nothing)."""
        index = self.folder / INDEX
        with contextlib.suppress(FileNotFoundError), index.open(encoding="utf-8") as handle:
            for line in handle:
                self._lines += 1
                try:
                    row = json.loads(line)
                    if row.get("gone"):
                        self._entries.pop(row["id"], None)
                        self._pending.discard(row["id"])
                    elif "pending" in row:
                        (self._pending.add if row["pending"] else self._pending.discard)(row["id"])
                    else:
                        self._entries[row["id"]] = Entry(row["id"], row["by"], row["channel"],
                                                         row["thread"], row["kind"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a torn last line: the folder check below repairs it
        on_disk = {p.name[:-5] for p in self._files()}
        unknown = on_disk - set(self._entries)
        for sid in set(self._entries) - on_disk:
            del self._entries[sid]
        self._pending &= on_disk
        for sid in unknown:
            record = read_session_file(self.folder / f"{sid}.json")
            if record is not None:
                self._entries[sid] = Entry.of(record)
        for entry in list(self._entries.values()):
            self._index(entry)
        if writable and (unknown or self._lines > 2 * len(self._entries) + 100):
            self._compact()

    def _files(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return iter(())
        return (p for p in self.folder.iterdir() if SESSION_FILE.fullmatch(p.name))

    def _compact(self) -> None:
        """Rewrite the log with one line per live session."""
        fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".tmp", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(entry.line() for entry in self._entries.values())
            handle.writelines(json.dumps({"id": sid, "pending": True}) + "\n"
                              for sid in self._pending)
            handle.flush()
            os.fsync(handle.fileno())
        if self._log is not None:
            self._log.close()
            self._log = None
        os.replace(tmp, self.folder / INDEX)
        self._lines = len(self._entries) + len(self._pending)

    def _append(self, line: str) -> None:
        if self._log is None:
            self._log = (self.folder / INDEX).open("a", encoding="utf-8")
        self._log.write(line)
        self._log.flush()  # in the page cache at once: a killed process keeps it
        self._lines += 1
        if self._lines > 2 * len(self._entries) + 1000:
            self._compact()

    # --- reading ----------------------------------------------------------------------------

    def get(self, session_id: str) -> Record | None:
        """The session as last saved: from memory for the most recent ones (what this process
        wrote is what is on disk), else from its file."""
        with self._lock:
            text = self._recent.get(session_id)
        if text is not None:
            return json.loads(text)[TABLE]["1"]
        if not SESSION_FILE.fullmatch(f"{session_id}.json"):
            return None
        return read_session_file(self.folder / f"{session_id}.json")

    def _remember(self, session_id: str, text: str | None) -> None:
        with self._lock:
            self._recent.pop(session_id, None)
            if text is not None:
                self._recent[session_id] = text
                if len(self._recent) > RECENT:
                    self._recent.popitem(last=False)

    def at(self, channel: str, thread_ts: str | None = None) -> str | None:
        """The session running in this channel thread (or, without a thread, this DM)."""
        with self._lock:
            return self._by_place.get((channel, thread_ts or ""))

    def of(self, user: str) -> list[str]:
        """Ids of the sessions `user` started."""
        with self._lock:
            return sorted(self._by_user.get(user, ()))

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def idle_since(self, session_id: str) -> float | None:
        """When the session's file was last written (epoch seconds), None when it is gone."""
        try:
            return (self.folder / f"{session_id}.json").stat().st_mtime
        except OSError:
            return None

    def all(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Sessions matching `where`, most recently updated first (reads every file: for
        rare listings such as the terminal's "resume", never on a Slack turn)."""
        found = [r for r in (self.get(sid) for sid in self.ids()) if r is not None and where(r)]
        return sorted(found, key=lambda r: r.get("updated_at", ""), reverse=True)

    # --- writing ----------------------------------------------------------------------------

    def save(self, record: Record) -> None:
        """Write one session (temp file + `os.replace`); fsynced in the background. The temp
        name is the writing thread's: one session is written by one thread at a time (its
        lock), and a crash's leftover is cleared at the next open."""
        path = self.folder / f"{record['id']}.json"
        tmp = self.folder / f".{record['id']}.{threading.get_ident()}.tmp"
        text = json.dumps({TABLE: {"1": record}}, ensure_ascii=False, separators=(",", ":"))
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._remember(record["id"], text)
        entry = Entry.of(record)
        with self._lock:
            if self._entries.get(entry.id) != entry:
                self._index(entry)
                self._append(entry.line())
        if self._syncer is None:
            self._syncer = Syncer(self.folder)
        self._syncer.add(path)

    def mark_pending(self, session_id: str, pending: bool) -> None:
        """Note that a session was saved before what it must show was shown (True), or that it
        was shown (False): a restart shows what is still pending, without reading every
        session. One short line appended to the index, no fsync."""
        with self._lock:
            if (session_id in self._pending) == pending or session_id not in self._entries:
                return
            (self._pending.add if pending else self._pending.discard)(session_id)
            self._append(json.dumps({"id": session_id, "pending": pending}) + "\n")

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)

    def touch(self, session_id: str, at: float) -> None:
        """Set a session's idle clock (its file's time) back to `at` after a save that was no
        activity of the person's (a reminder noted)."""
        with contextlib.suppress(OSError):
            os.utime(self.folder / f"{session_id}.json", (at, at))

    def delete(self, session_id: str) -> None:
        self._remember(session_id, None)
        with contextlib.suppress(FileNotFoundError):
            (self.folder / f"{session_id}.json").unlink()
        with self._lock:
            entry = self._entries.get(session_id)
            self._pending.discard(session_id)
            if entry is not None:
                self._unindex(entry)
                self._append(json.dumps({"id": session_id, "gone": True}) + "\n")

    def insert_new(self, records: list[Record]) -> int:
        """Add the records whose id is not there yet; returns how many were added."""
        fresh = [r for r in records if r["id"] not in self._entries]
        for record in fresh:
            self.save(record)
        return len(fresh)

    def close(self) -> None:
        if self._syncer is not None:
            self._syncer.close()
            self._syncer = None
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None
