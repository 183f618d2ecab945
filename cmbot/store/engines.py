"""Which engine a database URL names: TinyDB files (the default), PostgreSQL or memory.

`CMBOT_DATABASE_URL` (or `--database-url`) set to `postgresql://…` selects PostgreSQL, which
several `cmbot serve` processes may share; `memory://` keeps everything in memory (tests,
trials); otherwise the TinyDB files at `CMBOT_DB` (or a `file:` path, or a bare path).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from .memory import MemoryStore
from .protocol import Storage
from .store import Store

POSTGRES_SCHEMES = ("postgresql", "postgres")


class EngineError(RuntimeError):
    """The configured database cannot be used; the message is one line for the operator."""


def database_url(given: str | None = None) -> str | None:
    """The URL given, else `CMBOT_DATABASE_URL`, else None (the TinyDB files at `CMBOT_DB`)."""
    return given or os.environ.get("CMBOT_DATABASE_URL") or None


def engine_name(url: str | None) -> str:
    scheme = urlsplit(url).scheme if url else ""
    if scheme in POSTGRES_SCHEMES:
        return "postgresql"
    if scheme == "memory":
        return "memory"
    if scheme in ("", "file"):
        return "tinydb"
    raise EngineError(f"unknown database URL scheme {scheme!r}: use postgresql://…, memory:// "
                      "or a file path")


def open_storage(url: str | None = None, *, exclusive: bool = False) -> Storage:
    """The storage `url` (or the environment) names. `exclusive` matters for TinyDB only
    (one process per database file); PostgreSQL is shared by design."""
    url = database_url(url)
    name = engine_name(url)
    if name == "postgresql":
        try:
            from .postgres import DatabaseUnavailable, PostgresStore, SchemaTooNew
        except ImportError:
            raise EngineError("PostgreSQL support is not installed: pip install 'cmbot[postgres]'") from None
        try:
            return PostgresStore(url)  # type: ignore[arg-type]
        except (DatabaseUnavailable, SchemaTooNew) as exc:
            raise EngineError(str(exc)) from None
    if name == "memory":
        return MemoryStore()
    path = Path(urlsplit(url).path) if url and url.startswith("file:") else (Path(url) if url else None)
    return Store(path, exclusive=exclusive)
