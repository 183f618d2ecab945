"""Containing a shard that cannot be read: set it aside, keep the rest of the archive working.

A damaged shard (a disk error, a hand edit) must not take the other consultations with it. The
process holding the database's lock renames it, with its backup, to
`<shard>.damaged-<UTC time>` (and `….bak`), so the shard's name is free for new consultations and
nothing of the damaged data is lost or overwritten; `cmbot db check` lists what was set aside and
`cmbot db restore` merges back whatever is still readable (the file itself, else its backup).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from .atomic import fsync_dir
from .errors import backup_path

MARK = ".damaged-"


def set_aside(path: Path) -> Path:
    """Move an unreadable shard (and its backup) out of the way; returns where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}{MARK}{stamp}")
    backup = backup_path(path)
    if backup.exists():
        os.replace(backup, backup_path(aside))
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def damaged_shards(folder: Path) -> list[Path]:
    """The shards set aside so far, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*.json{MARK}*") if not p.name.endswith(".bak"))


def shard_of(aside: Path) -> Path:
    """The shard a set-aside file came from."""
    return aside.with_name(aside.name.split(MARK, 1)[0])
