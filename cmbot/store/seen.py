"""Keys of work already done (Slack event ids, start requests), remembered across restarts.

Slack re-delivers an event it thinks was lost (same `event_id`), also to a bot that restarted in
between. A key is *claimed* while its work runs (a second delivery meanwhile is dropped) and
*done* once the work is over, only then written down (one line appended to
`<stem>.seen.log`), so a key is never marked handled before it was: a claim released after a
failure lets Slack's retry do the work. The most recent `KEEP` keys are remembered; the log
is compacted when it holds twice that many lines.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

KEEP = 20_000


def seen_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".seen.log")


class Seen:
    def __init__(self, db_path: Path | None, keep: int = KEEP, writable: bool = True):
        self.path = seen_path(db_path) if db_path and writable else None
        self.keep = keep
        self._done: OrderedDict[str, None] = OrderedDict()
        self._claimed: set[str] = set()
        self._lock = threading.Lock()
        self._lines = 0
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError), self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    self._lines += 1
                    self._remember(line.rstrip("\n"))

    def _remember(self, key: str) -> None:
        self._done[key] = None
        self._done.move_to_end(key)
        while len(self._done) > self.keep:
            self._done.popitem(last=False)

    def claim(self, key: str) -> bool:
        """True when `key` is neither done nor being done: the caller does the work, then
        calls `done` (or `release` if it failed)."""
        with self._lock:
            if key in self._done or key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._claimed.discard(key)

    def done(self, key: str) -> None:
        key = key.replace("\n", " ")
        with self._lock:
            self._claimed.discard(key)
            self._remember(key)
            if self.path is None:
                return
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(key + "\n")  # in the page cache at once: a killed process keeps it
            self._lines += 1
            if self._lines > 2 * self.keep:
                self._compact()

    def forget(self, which: Callable[[str], bool]) -> None:
        """Drop the keys `which` picks, from memory and from the log (rewritten without them)."""
        with self._lock:
            for key in [k for k in self._done if which(k)]:
                del self._done[key]
            if self.path is not None and self.path.exists():
                self._compact()

    def _compact(self) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(f"{key}\n" for key in self._done)
        os.replace(tmp, self.path)
        self._lines = len(self._done)
