"""A crash-safe TinyDB storage.

TinyDB's `JSONStorage` truncates and rewrites its file in place, so a crash mid-write can leave
it empty or half-written. This storage writes a temporary file beside it, fsyncs it, keeps the
previous good file as `<name>.bak` and swaps the new one in with `os.replace` (atomic on POSIX),
then fsyncs the folder. A file that does not parse is never overwritten: reading it raises
`CorruptDatabase`, naming the file and its backup.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


class CorruptDatabase(RuntimeError):
    def __init__(self, path: Path, reason: str):
        self.path = path
        backup = backup_path(path)
        hint = (f"a backup is at {backup} (`cmbot db restore` puts it back)"
                if backup.exists() else "no backup exists")
        super().__init__(f"{path}: the database file is unreadable ({reason}); it was left "
                         f"untouched; {hint}.")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def remove_stray_temp_files(path: Path) -> None:
    """Temp files left by a crash mid-write are never the real data; clear them at start-up."""
    for stray in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stray.unlink()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptDatabase(path, exc.strerror or str(exc)) from exc
    if not text.strip():
        raise CorruptDatabase(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDatabase(path, f"not valid JSON at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise CorruptDatabase(path, "not a TinyDB document")
    return data


def write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            bak_tmp = tmp + ".bak"
            os.link(path, bak_tmp)
            os.replace(bak_tmp, backup_path(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class AtomicJSONStorage(Storage):
    """TinyDB storage: whole-file JSON, replaced atomically on every write."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stray_temp_files(self.path)
        read_json(self.path)  # fail now, before anything is written over a corrupt file

    def read(self) -> dict[str, Any] | None:
        return read_json(self.path)

    def write(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.path, data)

    def close(self) -> None:
        pass
