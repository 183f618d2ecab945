"""The PostgreSQL engine: any number of `cmbot serve` replicas on one database.

Connections come from a `psycopg_pool` pool (autocommit; a change of several rows is one
transaction). Every guarantee that one process kept in its memory is kept by the database:

- one interview, one step at a time, across replicas: `hold` takes a session-level advisory
  lock keyed by the session id on a pooled connection (released when the step ends, or by the
  server when a replica dies mid-step). Threads of one process queue in memory first, and the
  holding thread does its reads and writes on the connection it holds, so a burst of steps
  never waits for a connection that the steps themselves keep busy;
- archiving a consultation and forgetting its session is one transaction;
- listings are paged by the database (`LIMIT`/`OFFSET` on indexes by person and by channel).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from ..errors import StorageFailed
from ..holds import Holds
from ..paged import Paged
from ..protocol import TABLES, Batch, Record, summary, with_workspace, workspace_of
from ..workspace import key_prefix
from .installations import delete_installation_rows
from .schema import migrate
from .seen import PostgresSeen

# psycopg warns through `logging` as it drops a broken connection; with no logging set up (the
# commands) Python would print those on stderr beside the one-line message the command gives,
# so they go nowhere unless the program configured logging (`serve` does: they are logged).
logging.getLogger("psycopg").addHandler(logging.NullHandler())

SUMMARY = "id, flow_id, lang, started_by, place, finished_at, parent_id, placement, workspace"
NEWEST = "ORDER BY finished_at DESC, id DESC"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message is one line for the operator."""


def _text(value: Any) -> str | None:
    """A value for an indexed text column: PostgreSQL text cannot hold U+0000."""
    return None if value is None else str(value).replace("\x00", "")


def _dumps(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _summary(row: tuple[Any, ...]) -> Record:
    cid, flow_id, lang, by, place, finished_at, parent_id, placement, workspace = row
    return with_workspace({"id": cid, "flow_id": flow_id, "lang": lang, "started_by": by,
                           "where": json.loads(place), "finished_at": finished_at,
                           "parent_id": parent_id, "recommendation": {"placement": placement}}, workspace)


def _session_row(record: Record) -> tuple[Any, ...]:
    where = record.get("where") if isinstance(record.get("where"), dict) else {}
    return (_text(record["id"]), _text(record.get("started_by")), _text(where.get("channel")),
            _text(where.get("thread_ts")), _text(where.get("kind")),
            _text(record.get("updated_at") or ""), _dumps(record), time.time(),
            _text(workspace_of(record)))


def _consultation_row(record: Record) -> tuple[Any, ...]:
    short = summary(record)
    where = short["where"] if isinstance(short["where"], dict) else {}
    return (_text(record["id"]), _text(short["finished_at"] or ""), _text(short["flow_id"]),
            _text(short["lang"]), _text(short["started_by"]), _text(where.get("kind")),
            _text(where.get("channel")), _dumps(short["where"]),
            _text(short["recommendation"]["placement"]), _text(short["parent_id"]), _dumps(record),
            _text(workspace_of(record)))


INSERT_SESSION = """INSERT INTO sessions (id, started_by, channel, thread_ts, kind, updated_at, data,
                    saved_at, workspace) VALUES (%s, %s, %s, %s, %s, %s, %s, to_timestamp(%s), %s)"""
# A save and its pending mark in one statement; a NULL mark leaves the one the row has.
SAVE_SESSION = """INSERT INTO sessions (id, started_by, channel, thread_ts, kind, updated_at, data,
    saved_at, workspace, pending)
    VALUES (%s, %s, %s, %s, %s, %s, %s, to_timestamp(%s), %s, coalesce(%s::boolean, false))
    ON CONFLICT (id) DO UPDATE SET started_by = EXCLUDED.started_by,
    channel = EXCLUDED.channel, thread_ts = EXCLUDED.thread_ts, kind = EXCLUDED.kind,
    updated_at = EXCLUDED.updated_at, data = EXCLUDED.data, saved_at = EXCLUDED.saved_at,
    workspace = EXCLUDED.workspace, pending = coalesce(%s::boolean, sessions.pending)"""
INSERT_CONSULTATION = """INSERT INTO consultations (id, finished_at, flow_id, lang, started_by, kind,
    channel, place, placement, parent_id, data, workspace)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
UPSERT_CONSULTATION = INSERT_CONSULTATION + """ ON CONFLICT (id) DO UPDATE SET
    finished_at = EXCLUDED.finished_at, flow_id = EXCLUDED.flow_id, lang = EXCLUDED.lang,
    started_by = EXCLUDED.started_by, kind = EXCLUDED.kind, channel = EXCLUDED.channel,
    place = EXCLUDED.place, placement = EXCLUDED.placement, parent_id = EXCLUDED.parent_id,
    data = EXCLUDED.data, workspace = EXCLUDED.workspace"""
INSERT_NEW = {"sessions": INSERT_SESSION + " ON CONFLICT (id) DO NOTHING",
              "consultations": INSERT_CONSULTATION + " ON CONFLICT (id) DO NOTHING"}
ROW_OF = {"sessions": _session_row, "consultations": _consultation_row}


class Page(Paged):
    """Summaries newest first, counted once; each slice is one `LIMIT … OFFSET` query."""

    def __init__(self, store: PostgresStore, condition: str, params: dict[str, Any]):
        self._store = store
        self._condition = condition
        self._params = params
        with store.connection() as conn:
            row = conn.execute(f"SELECT count(*) FROM consultations WHERE {condition}", params).fetchone()
        super().__init__(int(row[0]) if row else 0)

    def _take(self, start: int, stop: int) -> list[Record]:
        if stop <= start:
            return []
        with self._store.connection() as conn:
            rows = conn.execute(f"SELECT {SUMMARY} FROM consultations WHERE {self._condition} "
                                f"{NEWEST} LIMIT %(limit)s OFFSET %(offset)s",
                                {**self._params, "limit": stop - start, "offset": start}).fetchall()
        return [_summary(r) for r in rows]


class PostgresStore:
    """The storage interface on one PostgreSQL database, safe to share between processes."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 20):
        self.url = url
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                migrate(conn)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot open the PostgreSQL database: {_first_line(exc)}") from None
        self._holds = Holds()
        self._local = threading.local()
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=True,
                                   kwargs={"autocommit": True}, name="cmbot")
        self.seen = PostgresSeen(self.pool)  # Slack event ids and starts handled, by any replica

    # --- sessions ----------------------------------------------------------------------------

    def save_session(self, session: Record, pending: bool | None = None) -> None:
        with self.connection() as conn:
            conn.execute(SAVE_SESSION, (*_session_row(session), pending, pending))

    def id_taken(self, record_id: str) -> bool:
        with self.connection() as conn:
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = %s) "
                               "OR EXISTS (SELECT 1 FROM consultations WHERE id = %s)",
                               (_text(record_id), _text(record_id))).fetchone()
        return bool(row and row[0])

    def get_session(self, session_id: str) -> Record | None:
        with self.connection() as conn:
            row = conn.execute("SELECT data FROM sessions WHERE id = %s", (_text(session_id),)).fetchone()
        return json.loads(row[0]) if row else None

    def delete_session(self, session_id: str) -> None:
        with self.connection() as conn:
            conn.execute("DELETE FROM sessions WHERE id = %s", (_text(session_id),))

    def sessions(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        with self.connection() as conn:
            rows = conn.execute("SELECT data FROM sessions").fetchall()
        found = [r for r in (json.loads(row[0]) for row in rows) if where(r)]
        return sorted(found, key=lambda r: r.get("updated_at", ""), reverse=True)

    def session_at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        """The session running in this channel thread (or, without a thread, this DM)."""
        if thread_ts:
            query = "workspace = %s AND channel = %s AND thread_ts = %s"
            params: tuple[Any, ...] = (_text(workspace), _text(channel), _text(thread_ts))
        else:
            query = "workspace = %s AND channel = %s AND kind = 'dm' AND coalesce(thread_ts, '') = ''"
            params = (_text(workspace), _text(channel))
        with self.connection() as conn:
            row = conn.execute(f"SELECT id FROM sessions WHERE {query} ORDER BY saved_at DESC LIMIT 1",
                               params).fetchone()
        return row[0] if row else None

    def sessions_of(self, user: str, workspace: str = "") -> list[str]:
        with self.connection() as conn:
            rows = conn.execute("SELECT id FROM sessions WHERE workspace = %s AND started_by = %s "
                                "ORDER BY id", (_text(workspace), _text(user))).fetchall()
        return [r[0] for r in rows]

    def session_ids(self) -> list[str]:
        with self.connection() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id").fetchall()]

    def session_idle_since(self, session_id: str) -> float | None:
        with self.connection() as conn:
            row = conn.execute("SELECT extract(epoch FROM saved_at) FROM sessions WHERE id = %s",
                               (_text(session_id),)).fetchone()
        return float(row[0]) if row else None

    def pending_sessions(self) -> list[str]:
        with self.connection() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM sessions WHERE pending ORDER BY id")]

    def touch_session(self, session_id: str, at: float) -> None:
        with self.connection() as conn:
            conn.execute("UPDATE sessions SET saved_at = to_timestamp(%s) WHERE id = %s",
                         (at, _text(session_id)))

    @contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        with self._holds.hold(session_id), self.pool.connection() as conn:
            key = (_text(session_id),)
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", key)
            outer, self._local.conn = getattr(self._local, "conn", None), conn
            try:
                yield
            finally:
                self._local.conn = outer
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", key)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """The connection this thread holds an interview on, else one from the pool."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
        else:
            with self.pool.connection() as conn:
                yield conn

    # --- consultations -----------------------------------------------------------------------

    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        with self.connection() as conn, conn.transaction():
            conn.execute(UPSERT_CONSULTATION, _consultation_row(consultation))
            if finished_session:
                conn.execute("DELETE FROM sessions WHERE id = %s", (_text(finished_session),))

    def get_consultation(self, consultation_id: str) -> Record | None:
        with self.connection() as conn:
            row = conn.execute("SELECT data FROM consultations WHERE id = %s",
                               (_text(consultation_id),)).fetchone()
        return json.loads(row[0]) if row else None

    def delete_consultation(self, consultation_id: str) -> bool:
        """Gone from both tables, as in the TinyDB engine (the session it was finished from too)."""
        with self.connection() as conn, conn.transaction():
            removed = conn.execute("DELETE FROM consultations WHERE id = %s", (_text(consultation_id),))
            conn.execute("DELETE FROM sessions WHERE id = %s", (_text(consultation_id),))
            return removed.rowcount > 0

    def consultations(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        with self.connection() as conn:
            rows = conn.execute(f"SELECT {SUMMARY} FROM consultations {NEWEST}").fetchall()
        return [s for s in map(_summary, rows) if where(s)]

    def consultations_for(self, user: str | None, channel_ok: Callable[[str], bool] | None = None,
                          workspace: str = "") -> Page:
        channels: list[str] = []
        if channel_ok is not None:
            with self.connection() as conn:
                known = conn.execute("SELECT DISTINCT channel FROM consultations WHERE workspace = %s "
                                     "AND kind = 'channel' AND channel IS NOT NULL",
                                     (_text(workspace),)).fetchall()
            channels = sorted(c for (c,) in known if channel_ok(c))
        return Page(self, "workspace = %(ws)s AND (started_by = %(user)s OR (kind = 'channel' "
                    "AND channel = ANY(%(channels)s)))",
                    {"user": _text(user), "channels": channels, "ws": _text(workspace)})

    def delete_workspace(self, workspace: str) -> dict[str, int]:
        """Every row of a workspace, its Slack installation included, in one transaction."""
        if not workspace:
            raise ValueError("the default workspace is not deleted by workspace")
        like = key_prefix(workspace).replace("_", "\\_") + "%"
        with self.connection() as conn, conn.transaction():
            counts = {table: conn.execute(f"DELETE FROM {table} WHERE workspace = %s",
                                          (workspace,)).rowcount for table in TABLES}
            counts["preferences"] = conn.execute("DELETE FROM prefs WHERE user_id LIKE %s",
                                                 (like,)).rowcount
            conn.execute("DELETE FROM seen_events WHERE key LIKE %s", (like,))
            counts["installations"] = delete_installation_rows(conn, workspace)
        return counts

    # --- transfer ----------------------------------------------------------------------------

    def records(self, table_name: str) -> Iterator[Record]:
        """Every whole record of a table, by id, read in batches by a server-side cursor."""
        if table_name not in TABLES:
            raise KeyError(table_name)
        with self.pool.connection() as conn, conn.transaction(), conn.cursor(name="cmbot_records") as cur:
            cur.itersize = 500
            cur.execute(f"SELECT data FROM {table_name} ORDER BY id")
            for (data,) in cur:
                yield json.loads(data)

    def ids(self, table_name: str) -> set[str]:
        if table_name not in TABLES:
            raise KeyError(table_name)
        with self.connection() as conn:
            return {r[0] for r in conn.execute(f"SELECT id FROM {table_name}").fetchall()}

    def insert_new(self, table_name: str, records: list[Record]) -> int:
        with self.connection() as conn, conn.transaction(), conn.cursor() as cur:
            return _insert_new(cur, table_name, records)

    def import_new(self, batches: Iterable[Batch], source: str) -> dict[str, int]:
        """One transaction on one connection, one `executemany` per batch: committed after
        the last batch, rolled back on any error (and by the server if this process dies)."""
        added = dict.fromkeys(TABLES, 0)
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                for table_name, records in batches:
                    added[table_name] += _insert_new(cur, table_name, records)
        except psycopg.Error as exc:
            raise StorageFailed(_first_line(exc)) from None
        return added

    # --- preferences -------------------------------------------------------------------------

    def get_pref(self, user: str, key: str) -> Any:
        with self.connection() as conn:
            row = conn.execute("SELECT value FROM prefs WHERE user_id = %s AND key = %s",
                               (_text(user), key)).fetchone()
        return json.loads(row[0]) if row else None

    def set_pref(self, user: str, key: str, value: Any) -> None:
        with self.connection() as conn:
            conn.execute("INSERT INTO prefs (user_id, key, value) VALUES (%s, %s, %s) "
                         "ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value",
                         (_text(user), key, json.dumps(value, ensure_ascii=False)))

    def close(self) -> None:
        self.pool.close()


def _insert_new(cur: psycopg.Cursor, table_name: str, records: list[Record]) -> int:
    """Add the records whose id is not in the table yet; how many were added."""
    if table_name not in TABLES:
        raise KeyError(table_name)
    if not records:
        return 0
    cur.executemany(INSERT_NEW[table_name] + " RETURNING id", [ROW_OF[table_name](r) for r in records],
                    returning=True)
    added = 0
    while True:
        added += len(cur.fetchall())
        if not cur.nextset():
            return added


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
