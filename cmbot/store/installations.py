"""Where a Slack app installed in many workspaces keeps its installations and OAuth states.

Bolt asks for an `InstallationStore` (each workspace's bot token, scopes, ids and, with token
rotation, refresh token and expiry) and an `OAuthStateStore` (the one-time `state` of an
install in progress). slack_sdk ships stores for both; cmbot uses them as they are, on its
own database:

- TinyDB files: slack_sdk's SQLite stores, in one SQLite file beside the database
  (`<name>.slack.sqlite3`). SQLite is crash-safe (a transaction per write), which slack_sdk's
  plain-file store is not, and ships with Python.
- PostgreSQL: slack_sdk's SQLAlchemy stores, in the same database (`postgres/installations.py`).

A workspace is its Slack team id, or its Enterprise Grid organisation id for an org-wide
install; `delete_sqlite_rows` is the TinyDB side of `cmbot db delete-workspace`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from .protocol import Storage

OWNED = "team_id = ? OR (enterprise_id = ? AND is_enterprise_install)"  # a workspace's rows
STATE_EXPIRATION = 600  # seconds an install link stays valid (Bolt's default)


def sqlite_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".slack.sqlite3")


def oauth_stores(storage: Storage, client_id: str,
                 state_expiration: int = STATE_EXPIRATION) -> tuple[Any, Any]:
    """(installation store, OAuth state store) on the database `storage` runs on."""
    from .engines import EngineError
    from .store import Store

    if isinstance(storage, Store):
        from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
        from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

        path = sqlite_path(storage.path)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)  # bot tokens: readable by the bot's own user only
        database = str(path)
        return (SQLite3InstallationStore(database=database, client_id=client_id),
                SQLite3OAuthStateStore(database=database, expiration_seconds=state_expiration))
    url = getattr(storage, "url", None)
    if isinstance(url, str):
        from .postgres.installations import stores

        return stores(url, client_id, state_expiration)
    raise EngineError("installing in many workspaces needs the TinyDB files or PostgreSQL, "
                      "not memory://")


def delete_sqlite_rows(db_path: Path, workspace: str) -> int:
    """A workspace's installation and bot rows removed from the SQLite file, their pages
    overwritten (`secure_delete`) and the file compacted (`VACUUM`): no copy of a token left."""
    path = sqlite_path(db_path)
    if not path.exists():
        return 0
    removed = 0
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        with conn:
            for table in ("slack_installations", "slack_bots"):
                with contextlib.suppress(sqlite3.OperationalError):  # never created
                    found = conn.execute(f"DELETE FROM {table} WHERE {OWNED}", (workspace, workspace))
                    removed += found.rowcount
        conn.execute("VACUUM")
    finally:
        conn.close()
    return removed
