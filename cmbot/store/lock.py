"""One writer per database: an exclusive, non-blocking lock on `<db>.lock` (the `filelock`
library: `flock` on POSIX, `msvcrt` locking on Windows).

TinyDB rewrites whole files, so two processes writing the same database lose each other's
writes. Every process that writes holds this lock for as long as it runs (`cmbot serve`,
`cmbot chat`, `db import`, `db restore`; a `Store` takes it at its first write at the latest); a
second one is refused at once with `DatabaseBusy` instead of waiting or corrupting. The
operating system drops the lock when its process dies (even `kill -9`), so there is never a
stale lock to clean up. The holder writes its pid beside it (`<db>.lock.pid`) only so the
message can name it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from ..i18n import default_lang, t


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _pid_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock.pid")


class DatabaseBusy(RuntimeError):
    """Another process holds the database's lock; the message names the database and that process."""

    def __init__(self, db_path: Path, pid: str):
        self.path, self.lock_path, self.pid = db_path, lock_path(db_path), pid
        super().__init__(t("db.busy", default_lang(), db=db_path, lock=self.lock_path, pid=pid))


class DatabaseLock:
    """The lock of one database (all of its files). Re-entrant for its owner: `acquire` twice is fine."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._lock = FileLock(self.path, timeout=0, thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, record_pid: bool = True) -> None:
        """Take the lock now or raise `DatabaseBusy`; never waits."""
        if self.held:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise DatabaseBusy(self.db_path, self._holder()) from None
        if record_pid:
            with contextlib.suppress(OSError):
                _pid_path(self.db_path).write_text(f"{os.getpid()}\n", encoding="utf-8")

    def release(self) -> None:
        if self.held:
            self._lock.release(force=True)

    def _holder(self) -> str:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return _pid_path(self.db_path).read_text(encoding="utf-8").strip() or "?"
        return "?"

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def is_locked(db_path: Path) -> bool:
    """Whether another process holds the lock right now (a quick probe, released at once)."""
    if not lock_path(db_path).exists():
        return False
    probe = DatabaseLock(db_path)
    try:
        probe.acquire(record_pid=False)
    except DatabaseBusy:
        return True
    probe.release()
    return False
