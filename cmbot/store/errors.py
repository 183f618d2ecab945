"""What every storage module reports: an unreadable file, named with its backup."""

from __future__ import annotations

from pathlib import Path


class CorruptDatabase(RuntimeError):
    def __init__(self, path: Path, reason: str):
        self.path, self.reason = path, reason
        backup = backup_path(path)
        hint = (f"a backup is at {backup} (`cmbot db restore` puts it back)"
                if backup.exists() else "no backup exists")
        super().__init__(f"{path}: the database file is unreadable ({reason}); it was left "
                         f"untouched; {hint}.")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


class StorageFailed(RuntimeError):
    """The database stopped a change half-way (a dropped connection, a server shutting down) and
    made none of it; `reason` is one line for the operator."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
