"""One writer per database: an exclusive, non-blocking `flock` on `<db>.lock`.

TinyDB rewrites whole files, so two processes writing the same database lose each other's
writes. `cmbot serve`, `cmbot db import` and `cmbot db restore` hold this lock for as long as they
run; a second one is refused at once with `DatabaseBusy` instead of waiting or corrupting. The
kernel drops the lock when its process dies (even `kill -9`), so there is never a stale lock to
clean up; the lock file itself is left in place on purpose (deleting it would let two processes
lock two different files).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from ..i18n import default_lang, t


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class DatabaseBusy(RuntimeError):
    """Another process holds the database's lock; the message names the database and that process."""

    def __init__(self, db_path: Path, pid: str):
        self.path, self.lock_path, self.pid = db_path, lock_path(db_path), pid
        super().__init__(t("db.busy", default_lang(), db=db_path, lock=self.lock_path, pid=pid))


class DatabaseLock:
    """The lock of one database (both of its files). Re-entrant for its owner: `acquire` twice is fine."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now or raise `DatabaseBusy`; never waits."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseBusy(self.db_path, self._holder()) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # only to name the holder in the message
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock

    def _holder(self) -> str:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return self.path.read_text(encoding="utf-8").strip() or "?"
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
        probe.acquire()
    except DatabaseBusy:
        return True
    probe.release()
    return False
