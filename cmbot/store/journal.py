"""All or nothing for `cmbot db import`, even under `kill -9`: a journal of what is being added.

An import writes thousands of shard files; no single rename can swap them all in. So before its
first write, the import lists every id it is about to add in `<db>.import` (fsynced, closed by a
`ready` line); the journal goes once the last write is on disk. A journal still there means an
import was cut short: `cmbot db check` says so, and the next process that opens the database to
write (`cmbot serve`, `cmbot chat`, `cmbot db import`, `cmbot db restore`) removes what it had
added, so the database is exactly what it was before the import. Only ids that were new are
listed (the import holds the lock, so nobody else adds them meanwhile): undoing never removes a
consultation that was there before. A journal without its `ready` line was cut short before any
write: it is simply dropped. Staging files (`<db>.import-staging/`) go with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..interview.session import now_iso
from .atomic import fsync_dir


class Removes(Protocol):
    path: Path

    def remove_many(self, table_name: str, ids: set[str]) -> int: ...


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".import")


def staging_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".import-staging")


@dataclass(frozen=True)
class Interrupted:
    """An import that was cut short: from which file, when it started, how many ids it listed."""

    source: str
    started_at: str
    ids: dict[str, set[str]]


@contextlib.contextmanager
def journalled(db_path: Path, source: Path, ids: dict[str, set[str]]) -> Iterator[Path]:
    """Journal `ids` (table -> ids about to be added), yield a staging folder, then drop both
    once the import is written. On an exception the journal stays: the import is undone by
    the next writer, exactly as after a crash."""
    journal = journal_path(db_path)
    staging = staging_path(db_path)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with journal.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"source": str(source), "started_at": now_iso()}, ensure_ascii=False) + "\n")
        for table, table_ids in ids.items():
            out.writelines(json.dumps([table, i], ensure_ascii=False) + "\n" for i in sorted(table_ids))
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    fsync_dir(journal.parent)
    yield staging
    journal.unlink()
    fsync_dir(journal.parent)
    shutil.rmtree(staging, ignore_errors=True)


def interrupted(db_path: Path) -> Interrupted | None:
    """The import cut short, if any (a journal without its `ready` line wrote nothing: None)."""
    try:
        with journal_path(db_path).open(encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle if line.endswith("\n")]
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        lines = []
    if len(lines) < 2 or lines[-1] != {"ready": True} or not isinstance(lines[0], dict):
        return None
    ids: dict[str, set[str]] = {"consultations": set(), "sessions": set()}
    for table, record_id in lines[1:-1]:
        ids.setdefault(table, set()).add(record_id)
    head: dict[str, Any] = lines[0]
    return Interrupted(str(head.get("source")), str(head.get("started_at")), ids)


def undo_interrupted(store: Removes) -> Interrupted | None:
    """Remove what an interrupted import added (idempotent: a crash while undoing is undone
    again), then the journal. Call holding the database's lock."""
    journal = journal_path(store.path)
    if not journal.exists():
        return None
    found = interrupted(store.path)
    if found is not None:
        for table, ids in found.ids.items():
            store.remove_many(table, ids)
    journal.unlink()
    fsync_dir(journal.parent)
    shutil.rmtree(staging_path(store.path), ignore_errors=True)
    return found
