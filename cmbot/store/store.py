"""Where cmbot keeps things: interviews in progress, finished consultations, preferences.

TinyDB rewrites a whole file on every write, so what changes at every answer, the sessions in
progress, lives one small file per session (`<name>.sessions/`, see `sessions`), apart from the
preferences (`CMBOT_DB`) and from the growing archive, a folder of small shard files with a
summary index (`<name>.consultations/`, see `archive`): archiving, reading or deleting one
consultation touches one small shard, and listings read the index held in memory, whatever
the size of the archive.
One lock serialises every access to the TinyDB files, since TinyDB is not thread-safe.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from tinydb import Query, TinyDB

from ..i18n import default_lang, t
from .archive import Archive, Listing, export_records, summary
from .atomic import AtomicJSONStorage
from .errors import CorruptDatabase
from .holds import Holds
from .ids import IdTaken
from .installations import delete_sqlite_rows
from .journal import journalled, undo_interrupted
from .lock import DatabaseLock, is_locked
from .protocol import Batch, workspace_of
from .seen import Seen
from .sessions import Sessions, iter_sessions
from .workspace import key_prefix

Record = dict[str, Any]
log = logging.getLogger("cmbot")


def default_db_path() -> Path:
    configured = os.environ.get("CMBOT_DB")
    return real_path(Path(configured) if configured else Path(user_data_dir("cmbot")) / "cmbot.json")


def real_path(path: str | Path) -> Path:
    """The database a path names: a symlinked `CMBOT_DB` is its target, so its writes, backups,
    lock and archive all go where the operator's link points, and the link stays a link."""
    return Path(os.path.realpath(path))


class Store:
    """The hot file (preferences), the sessions in progress and the archive of one database.

    `exclusive=True` (for `cmbot serve`, `cmbot chat`, `db import`, `db restore`) first takes the
    database's lock, or raises `DatabaseBusy` at once when another process holds it; a store
    opened to read takes it at its first write, so no write ever happens beside another writer.
    `close()` releases it.
    Leftover temp files are cleared only when no other process holds the lock, since a running
    bot's temp file looks exactly like a leftover one.
    """

    def __init__(self, path: str | Path | None = None, *, exclusive: bool = False):
        self.path = real_path(path) if path else default_db_path()
        self._lock = threading.RLock()
        self._holds = Holds()
        self._db_lock = DatabaseLock(self.path)
        if exclusive:
            self.lock_exclusive()
        clean = exclusive or not is_locked(self.path)
        try:
            self._hot = TinyDB(self.path, storage=AtomicJSONStorage, clean_temp=clean)
            self._archive = Archive(self.path, writable=clean, owner=exclusive)
            self._live = Sessions(self.path, writable=clean)
            self.seen = Seen(self.path, writable=clean)  # event ids and starts already handled
            self._sessions = self._hot.table("sessions")  # where sessions were before their folder
            self._prefs = self._hot.table("prefs")
            if exclusive:
                self._took_lock()
        except BaseException:
            self._db_lock.release()
            raise
        if clean and len(self._sessions):
            self._live.insert_new([dict(r) for r in self._sessions.all()])
            self._hot.drop_table(self._sessions.name)
        elif clean and not self.path.exists():
            self._hot.storage.write({})  # the database's own file, even before any preference

    def lock_exclusive(self) -> None:
        """Hold the database's lock until `close()`; raises `DatabaseBusy` if another process has it."""
        if self._db_lock.held:
            return
        self._db_lock.acquire()
        if hasattr(self, "_prefs"):  # opened to read, writing now
            self._took_lock()

    def _took_lock(self) -> None:
        """Now the only writer: set damaged shards aside, undo an import cut short."""
        self._archive.owner = True
        undone = undo_interrupted(self)
        if undone is not None:
            log.warning(t("db.import.undone", default_lang(), db=self.path, file=undone.source,
                          started=undone.started_at))

    @property
    def exclusive(self) -> bool:
        return self._db_lock.held

    # --- sessions in progress (one small file each, see `sessions`) -------------------------

    def save_session(self, session: Record, pending: bool | None = None) -> None:
        """Save a step, with its pending mark when given; `IdTaken` if the id belongs to
        someone else's session or to a consultation (checked from the in-memory indexes: no
        extra read)."""
        self.lock_exclusive()
        if session["id"] not in self._live.of(str(session.get("started_by", "")), workspace_of(session)) and (
                self._archive.has(session["id"]) or session["id"] in self._live.ids()):
            raise IdTaken(self.path, session["id"])
        self._live.save(session, pending)

    def id_taken(self, record_id: str) -> bool:
        """Whether a session or a consultation already has this id."""
        with self._lock:
            return self._archive.has(record_id) or record_id in self._live.ids()

    def get_session(self, session_id: str) -> Record | None:
        return self._live.get(session_id)

    def delete_session(self, session_id: str) -> None:
        self.lock_exclusive()
        self._live.delete(session_id)

    def session_at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        """The id of the session running in this channel thread (or, with no thread, this DM)."""
        return self._live.at(channel, thread_ts, workspace)

    def sessions_of(self, user: str, workspace: str = "") -> list[str]:
        """Ids of the sessions `user` started (from the index: no file is read)."""
        return self._live.of(user, workspace)

    def session_ids(self) -> list[str]:
        return self._live.ids()

    def session_idle_since(self, session_id: str) -> float | None:
        """When the session was last saved (epoch seconds), None when it is gone."""
        return self._live.idle_since(session_id)

    def pending_sessions(self) -> list[str]:
        """Sessions saved whose question or result may never have been shown."""
        return self._live.pending()

    def touch_session(self, session_id: str, at: float) -> None:
        self.lock_exclusive()
        self._live.touch(session_id, at)

    def hold(self, session_id: str) -> AbstractContextManager[None]:
        """One step of an interview at a time; a lock in memory is enough, since a database
        file has one serving process (the lock file sees to that)."""
        return self._holds.hold(session_id)

    def sessions(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Sessions matching `where`, most recently updated first (reads every session)."""
        return self._live.all(where)

    # --- consultations ----------------------------------------------------------------------

    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        """Archive a consultation, then forget the session it came from."""
        with self._lock:
            self.lock_exclusive()
            self._archive.add(consultation)
        if finished_session:
            self._live.delete(finished_session)

    def get_consultation(self, consultation_id: str) -> Record | None:
        """The whole stored consultation (read from its shard)."""
        with self._lock:
            return self._archive.get(consultation_id)

    def consultations(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Summaries of the consultations matching `where`, newest first: `id`, `flow_id`,
        `lang`, `started_by`, `where`, `finished_at`, `parent_id` and
        `recommendation: {"placement": …}` (`get_consultation` gives the whole record)."""
        with self._lock:
            rows = self._archive.rows()
        return [s for s in map(summary, rows) if where(s)]

    def consultations_for(self, user: str | None, channel_ok: Callable[[str], bool] | None = None,
                          workspace: str = "") -> Listing:
        """Summaries (as `consultations`) of what `user` started plus the channel consultations
        of every channel `channel_ok` allows (asked once per channel), newest first. Served from
        in-memory indexes by person and by channel; summaries are built only for the rows read."""
        with self._lock:
            return self._archive.listing(user, channel_ok, workspace)

    def records(self, table_name: str) -> Iterator[Record]:
        """Every whole record of a table, read from the files one at a time (as `db export`);
        a damaged shard raises `CorruptDatabase` once the readable ones are given."""
        if table_name == "sessions":
            yield from iter_sessions(self.path)
            return
        if table_name != "consultations":
            raise KeyError(table_name)
        unreadable: list[CorruptDatabase] = []
        yield from (record for _, record in export_records(self.path, unreadable))
        if unreadable:
            raise unreadable[0]

    def ids(self, table_name: str) -> set[str]:
        """The ids in `consultations` (from the index) or `sessions` (read from the file one
        record at a time)."""
        with self._lock:
            if table_name == "consultations":
                return self._archive.ids()
            if table_name != "sessions":
                raise KeyError(table_name)
            return set(self._live.ids())

    def insert_new(self, table_name: str, records: list[Record]) -> int:
        """Add to `consultations` or `sessions` the records whose id is not there yet (one write
        per file: the hot file, or each touched shard plus one index append); returns how many
        were added. Nothing is written when none is new."""
        if not records:
            return 0
        with self._lock:
            self.lock_exclusive()
            if table_name == "consultations":
                return self._archive.insert_new(records)
            return self._live.insert_new(records)

    def import_new(self, batches: Iterable[Batch], source: str) -> dict[str, int]:
        """The batches gathered, their new ids journalled, then written (see `journal`): a
        failure or a crash part-way is undone by the next process that opens the database to
        write. (`cmbot db import` on these files takes `transfer.import_records`, which spools
        a large file to disk rather than holding it.)"""
        staged: dict[str, dict[str, Record]] = {"consultations": {}, "sessions": {}}
        for table_name, records in batches:
            if table_name not in staged:
                raise KeyError(table_name)
            for record in records:
                staged[table_name].setdefault(record["id"], record)
        with self._lock:
            self.lock_exclusive()
            new = {table: set(records) - self.ids(table) for table, records in staged.items()}
            with journalled(self.path, Path(source), new):
                return {table: self.insert_new(table, [staged[table][i] for i in sorted(ids)])
                        for table, ids in new.items()}

    def remove_many(self, table_name: str, ids: set[str]) -> int:
        """Remove records by id from `consultations` or `sessions`, leaving no copy (undoing an
        interrupted import); returns how many were there."""
        with self._lock:
            self.lock_exclusive()
            if table_name == "consultations":
                return self._archive.remove_many(ids)
            present = [sid for sid in ids if sid in set(self._live.ids())]
            for sid in present:
                self._live.delete(sid)
            return len(present)

    def delete_consultation(self, consultation_id: str) -> bool:
        """Gone from its shard, the shard's backup and the index, and from the hot file's backup,
        which may still hold the session it was finished from (no copy left)."""
        with self._lock:
            self.lock_exclusive()
            removed = self._archive.delete(consultation_id)
            self._hot.storage.scrub_next = True
            try:
                self._sessions.remove(Query().id == consultation_id)  # writes: the backup goes
            finally:
                self._hot.storage.scrub_next = False
            return removed

    def delete_workspace(self, workspace: str) -> dict[str, int]:
        """A workspace's consultations (from their shards, the shards' backups and the index),
        sessions (files and index), preferences (and the hot file's backup) and handled event
        ids, leaving no copy. The default workspace cannot be deleted this way."""
        if not workspace:
            raise ValueError("the default workspace is not deleted by workspace")
        prefix = key_prefix(workspace)
        with self._lock:
            self.lock_exclusive()
            consultations = self._archive.remove_many(self._archive.of_workspace(workspace))
            sessions = self._live.delete_workspace(workspace)
            self._hot.storage.scrub_next = True
            try:
                prefs = len(self._prefs.remove(lambda doc: str(doc.get("user", "")).startswith(prefix)))
            finally:
                self._hot.storage.scrub_next = False
            self.seen.forget(lambda key: key.startswith(prefix))
            installations = delete_sqlite_rows(self.path, workspace)
        return {"consultations": consultations, "sessions": sessions, "preferences": prefs,
                "installations": installations}

    # --- preferences ------------------------------------------------------------------------

    def get_pref(self, user: str, key: str) -> Any:
        with self._lock:
            found = self._prefs.get(Query().user == user)
        return (found or {}).get(key)

    def set_pref(self, user: str, key: str, value: Any) -> None:
        with self._lock:
            self.lock_exclusive()
            self._prefs.upsert({"user": user, key: value}, Query().user == user)

    def close(self) -> None:
        with self._lock:
            self._hot.close()
            self._archive.close()
            self._live.close()
            self._db_lock.release()
