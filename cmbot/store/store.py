"""Where cmbot keeps things: interviews in progress, finished consultations, preferences.

Two TinyDB files, because TinyDB rewrites a whole file on every write: the small, hot one
(`CMBOT_DB`: sessions in progress and user preferences) changes at every answer; the growing
archive (`<name>.consultations.json`) changes only when an interview finishes or is deleted.
One lock serialises every access, since TinyDB is not thread-safe.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from tinydb import Query, TinyDB
from tinydb.table import Table

from .atomic import AtomicJSONStorage, gc_paused
from .lock import DatabaseLock, is_locked
from .stream import iter_documents

Record = dict[str, Any]


def default_db_path() -> Path:
    configured = os.environ.get("CMBOT_DB")
    return Path(configured) if configured else Path(user_data_dir("cmbot")) / "cmbot.json"


def archive_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".consultations.json")


class Store:
    """Both files of one database.

    `exclusive=True` (for `cmbot serve`, `db import`, `db restore`) first takes the database's
    lock, or raises `DatabaseBusy` at once when another process holds it; `close()` releases it.
    Leftover temp files are cleared only when no other process holds the lock, since a running
    bot's temp file looks exactly like a leftover one.
    """

    def __init__(self, path: str | Path | None = None, *, exclusive: bool = False):
        self.path = Path(path) if path else default_db_path()
        self._lock = threading.RLock()
        self._db_lock = DatabaseLock(self.path)
        if exclusive:
            self.lock_exclusive()
        clean = exclusive or not is_locked(self.path)
        try:
            self._hot = TinyDB(self.path, storage=AtomicJSONStorage, clean_temp=clean)
            self._archive = TinyDB(archive_path(self.path), storage=AtomicJSONStorage, clean_temp=clean)
        except BaseException:
            self._db_lock.release()
            raise
        self._sessions = self._hot.table("sessions")
        self._prefs = self._hot.table("prefs")
        self._consultations = self._archive.table("consultations")

    def lock_exclusive(self) -> None:
        """Hold the database's lock until `close()`; raises `DatabaseBusy` if another process has it."""
        self._db_lock.acquire()

    @property
    def exclusive(self) -> bool:
        return self._db_lock.held

    # --- sessions in progress ---------------------------------------------------------------

    def save_session(self, session: Record) -> None:
        with self._lock:
            self._sessions.upsert(session, Query().id == session["id"])

    def get_session(self, session_id: str) -> Record | None:
        with self._lock:
            return self._sessions.get(Query().id == session_id)

    def delete_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.remove(Query().id == session_id)

    def sessions(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Sessions matching `where`, most recently updated first."""
        with self._lock:
            found = [dict(r) for r in self._sessions.all() if where(r)]
        return sorted(found, key=lambda r: r.get("updated_at", ""), reverse=True)

    # --- consultations ----------------------------------------------------------------------

    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        """Archive a consultation, then forget the session it came from."""
        with self._lock:
            self._consultations.upsert(consultation, Query().id == consultation["id"])
            if finished_session:
                self._sessions.remove(Query().id == finished_session)

    def get_consultation(self, consultation_id: str) -> Record | None:
        with self._lock:
            found = self._consultations.get(Query().id == consultation_id)
        return dict(found) if found else None

    def consultations(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        """Consultations matching `where`, newest first."""
        with self._lock:
            found = [dict(r) for r in self._consultations.all() if where(r)]
        return sorted(found, key=lambda r: (r.get("finished_at", ""), r["id"]), reverse=True)

    def _table(self, table_name: str) -> tuple[Table, Path]:
        if table_name == "consultations":
            return self._consultations, archive_path(self.path)
        if table_name == "sessions":
            return self._sessions, self.path
        raise KeyError(table_name)

    def ids(self, table_name: str) -> set[str]:
        """The ids in `consultations` or `sessions`, read from the file one record at a time
        (TinyDB would hold the whole archive in memory to list them)."""
        table, path = self._table(table_name)
        with self._lock:
            return {doc.get("id") for name, _, doc in iter_documents(path) if name == table.name}

    def insert_new(self, table_name: str, records: list[Record]) -> int:
        """Add to `consultations` or `sessions` the records whose id is not there yet, in one write
        (TinyDB rewrites the whole file per write); returns how many were added. Nothing is
        written when none is new."""
        if not records:
            return 0
        table, _ = self._table(table_name)
        with self._lock:
            present = self.ids(table_name)
            fresh = [r for r in records if r["id"] not in present]
            if fresh:
                with gc_paused():
                    table.insert_multiple(fresh)
        return len(fresh)

    def delete_consultation(self, consultation_id: str) -> bool:
        with self._lock:
            self._archive.storage.scrub_next = True
            try:
                return bool(self._consultations.remove(Query().id == consultation_id))
            finally:
                self._archive.storage.scrub_next = False

    # --- preferences ------------------------------------------------------------------------

    def get_pref(self, user: str, key: str) -> Any:
        with self._lock:
            found = self._prefs.get(Query().user == user)
        return (found or {}).get(key)

    def set_pref(self, user: str, key: str, value: Any) -> None:
        with self._lock:
            self._prefs.upsert({"user": user, key: value}, Query().user == user)

    def close(self) -> None:
        with self._lock:
            self._hot.close()
            self._archive.close()
            self._db_lock.release()
