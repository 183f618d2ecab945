"""Interviews in progress: one small TinyDB file per session, indexed in memory.

`<stem>.sessions/<id>.json` holds one session in TinyDB's file format (`{"sessions": {"1": …}}`),
so saving a step rewrites a few KB whatever the number of interviews in progress. Lookups by
place (a DM, or a channel thread) and by person come from an in-memory index rebuilt at open from
`index.jsonl`, an append-only log with one line when a session appears or moves (its channel
thread becomes known), one when it goes, and one when its pending mark changes (saved before
what it shows was shown: the start-up sweep shows it). The log's entries are derived data:
sessions missing from it are read and added at open, entries whose file is gone are dropped,
and it is compacted when mostly dead lines. Nothing else reads every session at start-up, so
serving is ready at once.

A save appends the session, whole, and its pending mark when it is given one, to a journal
(`journal-<n>.jsonl`, one line) before the caller goes on: a killed process loses nothing it
saved, and the step costs one small append rather than a file replaced (on ext4, replacing a
file forces its data out at once, the slowest part of a turn). A background thread then writes
the session files from memory (temp file + `os.replace`), fsyncs them and the folder, appends
the marks to the index, and deletes the journals they cover, so the fsync never sits between an
answer and the next question. Opening the folder replays what journals are left (a crash
between a save and its file) before anything else is read; readers that do not write
(`iter_sessions`, a store opened beside the bot) read through them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
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
from .protocol import workspace_of

Record = dict[str, Any]
TABLE = "sessions"
INDEX = "index.jsonl"
SESSION_FILE = re.compile(r"[A-Za-z0-9_-]{1,64}\.json")
JOURNAL_FILE = re.compile(r"journal-(\d{1,18})\.jsonl")
RECENT = 2000  # sessions whose last saved text is kept in memory (a few MB at most)
BATCH_WAIT = 0.05  # seconds the writer gathers saves before writing and syncing their files
log = logging.getLogger("cmbot")


def sessions_path(db_path: Path) -> Path:
    """The folder of sessions in progress, beside the database file."""
    return db_path.with_name(db_path.stem + ".sessions")


@dataclass(frozen=True)
class Entry:
    """What the index knows of one session: who started it, where it runs, in which workspace
    (user and channel ids are unique only within one)."""

    id: str
    by: str
    channel: str | None
    thread: str | None
    kind: str | None
    ws: str = ""

    @classmethod
    def of(cls, record: Record) -> Entry:
        where = record.get("where") or {}
        return cls(str(record["id"]), str(record.get("started_by", "")), where.get("channel"),
                   where.get("thread_ts"), where.get("kind"), workspace_of(record))

    @property
    def place(self) -> tuple[str, str, str] | None:
        """The key a message finds it by: a channel thread, or a DM; None while a channel
        interview's root message is not posted yet (nothing can be said in its thread)."""
        if self.channel is None:
            return None
        if self.thread:
            return (self.ws, self.channel, self.thread)
        return (self.ws, self.channel, "") if self.kind == "dm" else None

    def line(self) -> str:
        row = {"id": self.id, "by": self.by, "channel": self.channel, "thread": self.thread,
               "kind": self.kind}
        return json.dumps({**row, "ws": self.ws} if self.ws else row, ensure_ascii=False) + "\n"


def _file_text(body: str) -> str:
    """A session file's text (TinyDB's format) around a record's JSON."""
    return '{"' + TABLE + '":{"1":' + body + "}}"


def _write_file(path: Path, text: str) -> None:
    """Temp file + `os.replace`: a reader never sees half a file. One writer per folder at a
    time (the writer lock), so the temp name needs no more than the session's id."""
    tmp = path.with_name(f".{path.name}.w.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_session_file(path: Path) -> Record | None:
    """The session in one file, or None when the file is gone or not a session."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    table = data.get(TABLE) if isinstance(data, dict) else None
    docs = list(table.values()) if isinstance(table, dict) else []
    return docs[0] if docs and isinstance(docs[0], dict) and "id" in docs[0] else None


def listing(folder: Path) -> list[str]:
    """The names in a sessions folder (none when it does not exist): read once at open, since
    with thousands of interviews in progress a listing is most of the time opening takes."""
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


def journals(folder: Path, names: list[str] | None = None) -> list[tuple[int, Path]]:
    """The journals in a sessions folder, oldest first."""
    found = ((JOURNAL_FILE.fullmatch(n), n) for n in (listing(folder) if names is None else names))
    return sorted((int(m.group(1)), folder / n) for m, n in found if m)


def read_journals(folder: Path, names: list[str] | None = None
                  ) -> tuple[dict[str, Record | None], dict[str, bool]]:
    """What the journals say last of each session they name: its record, or None when it was
    deleted since; and the last pending mark saved with it, for those saved with one. Lines
    that do not parse (one cut short by a crash) are skipped."""
    latest: dict[str, Record | None] = {}
    marks: dict[str, bool] = {}
    for _, path in journals(folder, names):
        with contextlib.suppress(OSError), path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                    continue
                record = row.get("session")
                if row.get("gone"):
                    latest[row["id"]] = None
                    marks.pop(row["id"], None)
                elif isinstance(record, dict) and record.get("id") == row["id"]:
                    latest[row["id"]] = record
                    if isinstance(row.get("pending"), bool):
                        marks[row["id"]] = row["pending"]
    return latest, marks


def _mark_line(session_id: str, pending: bool) -> str:
    """The index line of a pending mark."""
    return json.dumps({"id": session_id, "pending": pending}) + "\n"


def iter_sessions(db_path: Path) -> Iterator[Record]:
    """Every session on disk, one at a time by id (exports, checks): no index, no lock; a
    session saved since its file was last written is read from the journal."""
    folder = sessions_path(db_path)
    names = listing(folder)
    journaled, _ = read_journals(folder, names)
    on_disk = {n[:-5] for n in names if SESSION_FILE.fullmatch(n)}
    for sid in sorted(on_disk | set(journaled)):
        record = journaled[sid] if sid in journaled else read_session_file(folder / f"{sid}.json")
        if record is not None:
            yield record


class Writer:
    """Writes saved sessions to their files in the background, a batch at a time (see
    `Sessions.write_batch`)."""

    def __init__(self, sessions: Sessions):
        self.sessions = sessions
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="cmbot-session-writer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait()
            if not self._closing:
                self._wake.clear()
                time.sleep(BATCH_WAIT)  # a batch, not one journal commit per save
            try:
                self.sessions.write_batch()
            except Exception:  # never let the writer die: the journals keep what it could not write
                log.exception("writing session files failed")

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join(timeout=30)


class Sessions:
    """The sessions of one database; thread-safe (one lock around the index)."""

    def __init__(self, db_path: Path, writable: bool = True):
        self.folder = sessions_path(db_path)
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._by_place: dict[tuple[str, str, str], str] = {}
        self._by_user: dict[tuple[str, str], set[str]] = {}
        self._pending: set[str] = set()  # saved, but what they show not yet shown (see `pending`)
        self._marks: dict[str, bool] = {}  # pending marks journaled, not in the index yet
        self._recent: OrderedDict[str, str] = OrderedDict()  # last saved text of recent sessions
        self._unwritten: dict[str, str] = {}  # journaled, its file not written yet (id -> text)
        self._saved_at: dict[str, float] = {}  # when each was last saved (its idle clock), once known
        self._write_lock = threading.Lock()  # one file write or delete at a time
        self._log: TextIO | None = None  # the index, open for appending
        self._lines = 0
        self._journal: TextIO | None = None  # the current journal, open for appending
        self._journal_no = 0
        self._oldest_journal = 0  # the first journal that may still be on disk
        self._writer: Writer | None = None
        self.writable = writable
        self._gone: set[str] = set()  # read-only: deleted, as the writer's journal says
        names = listing(self.folder)
        journaled, marks = read_journals(self.folder, names)
        if writable:
            self.folder.mkdir(parents=True, exist_ok=True)
            for stray in (n for n in names if n.startswith(".") and n.endswith(".tmp")):
                with contextlib.suppress(OSError):
                    (self.folder / stray).unlink()
            self._replay(journaled, marks, journals(self.folder, names))
        else:  # beside a writer: read through its journals, write nothing
            self._unwritten = {sid: _file_text(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
                               for sid, r in journaled.items() if r is not None}
            self._gone = {sid for sid, r in journaled.items() if r is None}
        self._load(writable, names, journaled, marks)

    def _replay(self, journaled: dict[str, Record | None], marks: dict[str, bool],
                left: list[tuple[int, Path]]) -> None:
        """Write what the journals hold that the files and the index may not (a crash came
        before the writer), sync it, then drop the journals."""
        for sid, record in journaled.items():
            path = self.folder / f"{sid}.json"
            if not SESSION_FILE.fullmatch(path.name):
                continue
            if record is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            text = _file_text(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            if read_session_file(path) == record:
                continue  # written before the crash: its time is the session's idle clock
            _write_file(path, text)
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        if marks:
            with (self.folder / INDEX).open("a", encoding="utf-8") as handle:
                handle.write("\n" + "".join(_mark_line(sid, on) for sid, on in marks.items()))
                handle.flush()
                os.fsync(handle.fileno())
        if left:
            fsync_dir(self.folder)
            for _, path in left:
                path.unlink()
            self._journal_no = self._oldest_journal = left[-1][0] + 1

    # --- index ------------------------------------------------------------------------------

    def _index(self, entry: Entry) -> None:
        old = self._entries.get(entry.id)
        if old is not None and old is not entry:  # (`_load` indexes the entries it read)
            self._unindex(old)
        self._entries[entry.id] = entry
        if entry.place is not None:
            self._by_place[entry.place] = entry.id
        self._by_user.setdefault((entry.ws, entry.by), set()).add(entry.id)

    def _unindex(self, entry: Entry) -> None:
        self._entries.pop(entry.id, None)
        if entry.place is not None and self._by_place.get(entry.place) == entry.id:
            del self._by_place[entry.place]
        ids = self._by_user.get((entry.ws, entry.by))
        if ids is not None:
            ids.discard(entry.id)
            if not ids:
                del self._by_user[(entry.ws, entry.by)]

    def _load(self, writable: bool, names: list[str], journaled: dict[str, Record | None],
              marks: dict[str, bool]) -> None:
        """The index from its log, checked against the folder's file names and the journals
        just replayed (a crash between a save and its index line loses nothing); the pending
        marks the journals hold are newer than the log's."""
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
                                                         row["thread"], row["kind"], row.get("ws", ""))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a torn last line: the folder check below repairs it
        for sid, on in marks.items():
            (self._pending.add if on else self._pending.discard)(sid)
        live = {sid for sid, record in journaled.items() if record is not None}
        on_disk = ({n[:-5] for n in names if SESSION_FILE.fullmatch(n)} | live) - (
            set(journaled) - live)
        unknown = on_disk - set(self._entries)
        moved = {sid for sid in live - unknown if Entry.of(journaled[sid]) != self._entries[sid]}
        for sid in set(self._entries) - on_disk:
            del self._entries[sid]
        self._pending &= on_disk
        for sid in unknown | moved:
            record = self.get(sid)
            if record is not None:
                self._entries[sid] = Entry.of(record)
        for entry in list(self._entries.values()):
            self._index(entry)
        if writable and (unknown or moved or self._lines > 2 * len(self._entries) + 100):
            self._compact()

    def _compact(self) -> None:
        """Rewrite the log with one line per live session."""
        fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".tmp", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(entry.line() for entry in self._entries.values())
            handle.writelines(_mark_line(sid, True) for sid in self._pending)
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
            text = self._unwritten.get(session_id) or self._recent.get(session_id)
        if session_id in self._gone:
            return None
        if text is not None:
            return json.loads(text)[TABLE]["1"]
        if not SESSION_FILE.fullmatch(f"{session_id}.json"):
            return None
        return read_session_file(self.folder / f"{session_id}.json")

    def at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        """The session running in this channel thread (or, without a thread, this DM)."""
        with self._lock:
            return self._by_place.get((workspace, channel, thread_ts or ""))

    def of(self, user: str, workspace: str = "") -> list[str]:
        """Ids of the sessions `user` started."""
        with self._lock:
            return sorted(self._by_user.get((workspace, user), ()))

    def of_workspace(self, workspace: str) -> list[str]:
        with self._lock:
            return [sid for sid, entry in self._entries.items() if entry.ws == workspace]

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def idle_since(self, session_id: str) -> float | None:
        """When the session was last saved (epoch seconds: its file's time), None when it is gone.
        The process that writes remembers it after the first look, so the reminder sweep over
        thousands of interviews costs no system call per interview after its first pass."""
        with self._lock:
            saved = self._saved_at.get(session_id)
        if saved is not None:
            return saved
        try:
            saved = (self.folder / f"{session_id}.json").stat().st_mtime
        except OSError:
            return None
        if self.writable:
            with self._lock:
                if session_id in self._entries:
                    self._saved_at.setdefault(session_id, saved)
        return saved

    def all(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Sessions matching `where`, most recently updated first (reads every file: for
        rare listings such as the terminal's "resume", never on a Slack turn)."""
        found = [r for r in (self.get(sid) for sid in self.ids()) if r is not None and where(r)]
        return sorted(found, key=lambda r: r.get("updated_at", ""), reverse=True)

    # --- writing ----------------------------------------------------------------------------

    def save(self, record: Record, pending: bool | None = None) -> None:
        """Save one session, and its pending mark when given (True: saved before what it shows
        was shown; a restart shows what is still pending without reading every session): one
        line appended to the journal (an `OSError` there, a full disk, leaves everything as it
        was); its file, and the mark's index line, are written by the writer thread."""
        sid = str(record["id"])
        body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        mark = "" if pending is None else ',"pending":' + json.dumps(pending)
        # The leading newline ends a line a failed append may have left cut short.
        line = '\n{"id":' + json.dumps(sid) + ',"session":' + body + mark + "}\n"
        text = _file_text(body)
        entry = Entry.of(record)
        with self._lock:
            self._journal_append(line)
            if pending is not None and (sid in self._pending) != pending:
                (self._pending.add if pending else self._pending.discard)(sid)
                self._marks[sid] = pending
            self._unwritten[sid] = text
            self._saved_at[sid] = time.time()
            self._recent.pop(sid, None)
            self._recent[sid] = text
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
            if self._entries.get(entry.id) != entry:
                self._index(entry)
                self._append(entry.line())
            if self._writer is None:
                self._writer = Writer(self)
        self._writer.wake()

    def _journal_append(self, line: str) -> None:
        if self._journal is None:
            self._journal = self._open_journal(self._journal_no)
        try:
            self._journal.write(line)
            self._journal.flush()  # in the page cache at once: a killed process keeps it
        except OSError:
            with contextlib.suppress(OSError):
                self._journal.close()  # its buffer held the failed line: start clean
            self._journal = None
            raise

    def write_batch(self, final: bool = False) -> None:
        """Write the files of the sessions saved since the last batch, fsync them and the
        folder, then delete the journals that held them. The next saves go to a new journal,
        opened here rather than by the first of them (`final`: none, the store is closing). A
        file that cannot be written (a full disk) stays in its journal, and is tried again
        with the next batch."""
        with self._lock:
            number, active = self._journal_no, self._journal is not None
        fresh = None
        if active and not final:
            with contextlib.suppress(OSError):
                fresh = self._open_journal(number + 1)
        with self._lock:
            unwritten, old = list(self._unwritten), self._journal
            if active:
                self._journal, self._journal_no = fresh, number + 1
            covered = self._journal_no - 1  # every journal before the current one
            marks, self._marks = self._marks, {}
        if old is not None:
            old.close()
        marked = self._index_marks(marks)
        written = [path for path in map(self._write_one, unwritten) if path is not None]
        for path in written:
            with contextlib.suppress(OSError), path.open("rb") as handle:
                os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            fsync_dir(self.folder)
        with self._lock:
            if not marked or any(sid in self._unwritten for sid in unwritten):
                return  # some file could not be written: keep the journals
        for gone in range(self._oldest_journal, covered + 1):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"journal-{gone}.jsonl").unlink()
        self._oldest_journal = max(self._oldest_journal, covered + 1)

    def _open_journal(self, number: int) -> TextIO:
        return (self.folder / f"journal-{number}.jsonl").open("a", encoding="utf-8")

    def _write_one(self, session_id: str) -> Path | None:
        """Write a session's file from its latest saved text; the path when written."""
        with self._write_lock:
            with self._lock:
                text = self._unwritten.get(session_id)
            if text is None:
                return None  # written meanwhile (`touch`), or deleted
            path = self.folder / f"{session_id}.json"
            try:
                _write_file(path, text)
            except OSError as exc:
                log.warning("could not write %s (kept in the journal): %s", path, exc)
                return None
            with self._lock:
                if self._unwritten.get(session_id) is text:
                    del self._unwritten[session_id]
            return path

    def _index_marks(self, marks: dict[str, bool]) -> bool:
        """The pending marks of a batch's journals, appended to the index before the journals
        go (as the index's other lines, no fsync: a killed process keeps them). False when the
        index could not be written: the marks wait for the next batch."""
        with self._lock:
            try:
                for sid, on in marks.items():
                    if sid in self._entries:
                        self._append(_mark_line(sid, on))
            except OSError as exc:
                log.warning("could not note pending sessions (kept in the journal): %s", exc)
                for sid, on in marks.items():
                    self._marks.setdefault(sid, on)
                return False
        return True

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)

    def touch(self, session_id: str, at: float) -> None:
        """Set a session's idle clock (its file's time) back to `at` after a save that was no
        activity of the person's (a reminder noted)."""
        self._write_one(session_id)  # its last save on disk first, or the writer would undo this
        with contextlib.suppress(OSError):
            os.utime(self.folder / f"{session_id}.json", (at, at))
            with self._lock:
                if session_id in self._entries:
                    self._saved_at[session_id] = at

    def delete(self, session_id: str) -> None:
        """Delete a session: noted in the journal (so a replay cannot bring it back), then its
        file removed. On a full disk the note may fail: the file goes all the same."""
        with self._write_lock:
            with self._lock:
                self._unwritten.pop(session_id, None)
                self._saved_at.pop(session_id, None)
                self._recent.pop(session_id, None)
                try:
                    self._journal_append(json.dumps({"id": session_id, "gone": True}) + "\n")
                except OSError as exc:
                    log.warning("could not note that session %s was deleted: %s", session_id, exc)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"{session_id}.json").unlink()
        with self._lock:
            entry = self._entries.get(session_id)
            self._pending.discard(session_id)
            self._marks.pop(session_id, None)
            if entry is not None:
                self._unindex(entry)
                self._append(json.dumps({"id": session_id, "gone": True}) + "\n")

    def delete_workspace(self, workspace: str) -> int:
        """Remove a workspace's sessions; the index is rewritten with live sessions only, so no
        line of them (nor of its sessions finished earlier) is left."""
        gone = self.of_workspace(workspace)
        for sid in gone:
            self.delete(sid)
        if self.folder.is_dir():
            with self._lock:
                self._compact()
        return len(gone)

    def insert_new(self, records: list[Record]) -> int:
        """Add the records whose id is not there yet; returns how many were added."""
        fresh = [r for r in records if r["id"] not in self._entries]
        for record in fresh:
            self.save(record)
        return len(fresh)

    def close(self) -> None:
        """Write and sync every session saved, then drop the journals."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.writable:
            self.write_batch(final=True)
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None
