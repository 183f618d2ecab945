"""A storage engine kept in memory: for unit tests and throw-away runs (`memory://`).

It behaves as the other engines do (same contract tests) and forgets everything at `close()`.
Records are deep-copied in and out, so a caller changing a dict it got never changes the store.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from .holds import Holds
from .protocol import TABLES, Batch, Record, newest_first, summary, workspace_of
from .seen import Seen
from .workspace import key_prefix


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str, Record] = {}
        self._consultations: dict[str, Record] = {}
        self._prefs: dict[str, dict[str, Any]] = {}
        self._holds = Holds()
        self._saved_at: dict[str, float] = {}
        self._pending: set[str] = set()
        self.seen = Seen(None)  # Slack event ids and starts handled, in memory only

    # --- sessions ----------------------------------------------------------------------------

    def save_session(self, session: Record, pending: bool | None = None) -> None:
        with self._lock:
            self._sessions[session["id"]] = copy.deepcopy(session)
            self._saved_at[session["id"]] = time.time()
            if pending is not None:
                (self._pending.add if pending else self._pending.discard)(session["id"])

    def id_taken(self, record_id: str) -> bool:
        with self._lock:
            return record_id in self._sessions or record_id in self._consultations

    def get_session(self, session_id: str) -> Record | None:
        with self._lock:
            found = self._sessions.get(session_id)
            return copy.deepcopy(found) if found is not None else None

    def delete_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
            self._pending.discard(session_id)

    def session_at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        with self._lock:
            for record in self._sessions.values():
                where = record.get("where") or {}
                if workspace_of(record) == workspace and where.get("channel") == channel and (
                        where.get("thread_ts") == thread_ts if thread_ts
                        else where.get("kind") == "dm" and not where.get("thread_ts")):
                    return record["id"]
        return None

    def sessions_of(self, user: str, workspace: str = "") -> list[str]:
        with self._lock:
            return sorted(sid for sid, r in self._sessions.items()
                          if r.get("started_by") == user and workspace_of(r) == workspace)

    def session_ids(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def session_idle_since(self, session_id: str) -> float | None:
        with self._lock:
            return self._saved_at.get(session_id) if session_id in self._sessions else None

    def pending_sessions(self) -> list[str]:
        with self._lock:
            return sorted(self._pending & set(self._sessions))

    def touch_session(self, session_id: str, at: float) -> None:
        with self._lock:
            if session_id in self._sessions:
                self._saved_at[session_id] = at

    def sessions(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        with self._lock:
            found = [copy.deepcopy(r) for r in self._sessions.values() if where(r)]
        return sorted(found, key=lambda r: r.get("updated_at", ""), reverse=True)

    def hold(self, session_id: str) -> AbstractContextManager[None]:
        return self._holds.hold(session_id)

    # --- consultations -----------------------------------------------------------------------

    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        with self._lock:
            self._consultations[consultation["id"]] = copy.deepcopy(consultation)
            if finished_session:
                self._sessions.pop(finished_session, None)

    def get_consultation(self, consultation_id: str) -> Record | None:
        with self._lock:
            found = self._consultations.get(consultation_id)
            return copy.deepcopy(found) if found is not None else None

    def delete_consultation(self, consultation_id: str) -> bool:
        with self._lock:
            self._sessions.pop(consultation_id, None)
            return self._consultations.pop(consultation_id, None) is not None

    def _summaries(self) -> list[Record]:
        with self._lock:
            records = sorted(self._consultations.values(), key=newest_first, reverse=True)
            return [summary(copy.deepcopy(r)) for r in records]

    def consultations(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        return [s for s in self._summaries() if where(s)]

    def consultations_for(self, user: str | None, channel_ok: Callable[[str], bool] | None = None,
                          workspace: str = "") -> list[Record]:
        rows = [s for s in self._summaries() if workspace_of(s) == workspace]
        channels = {s["where"].get("channel") for s in rows if s["where"].get("kind") == "channel"}
        allowed = {c for c in channels if c and channel_ok and channel_ok(c)}
        return [s for s in rows if (user is not None and s["started_by"] == user)
                or (s["where"].get("kind") == "channel" and s["where"].get("channel") in allowed)]

    # --- transfer ----------------------------------------------------------------------------

    def _table(self, table_name: str) -> dict[str, Record]:
        if table_name not in TABLES:
            raise KeyError(table_name)
        return self._consultations if table_name == "consultations" else self._sessions

    def records(self, table_name: str) -> Iterator[Record]:
        with self._lock:
            found = [copy.deepcopy(r) for _, r in sorted(self._table(table_name).items())]
        yield from found

    def ids(self, table_name: str) -> set[str]:
        with self._lock:
            return set(self._table(table_name))

    def insert_new(self, table_name: str, records: list[Record]) -> int:
        with self._lock:
            table = self._table(table_name)
            fresh = [r for r in records if r["id"] not in table]
            for record in fresh:
                table[record["id"]] = copy.deepcopy(record)
            return len(fresh)

    def import_new(self, batches: Iterable[Batch], source: str) -> dict[str, int]:
        """Every batch read first, then added at once: a failure part-way adds nothing."""
        staged: dict[str, dict[str, Record]] = {table: {} for table in TABLES}
        for table_name, records in batches:
            self._table(table_name)  # an unknown table fails before anything is added
            for record in records:
                staged[table_name].setdefault(record["id"], copy.deepcopy(record))
        with self._lock:
            added = dict.fromkeys(TABLES, 0)
            for table_name, records in staged.items():
                table = self._table(table_name)
                for record_id, record in records.items():
                    if record_id not in table:
                        table[record_id] = record
                        added[table_name] += 1
            return added

    def delete_workspace(self, workspace: str) -> dict[str, int]:
        prefix = key_prefix(workspace)
        with self._lock:
            counts: dict[str, int] = {}
            for name, table in (("consultations", self._consultations), ("sessions", self._sessions)):
                gone = [rid for rid, r in table.items() if workspace_of(r) == workspace]
                for rid in gone:
                    del table[rid]
                counts[name] = len(gone)
            owners = [user for user in self._prefs if user.startswith(prefix)]
            for user in owners:
                del self._prefs[user]
            counts["preferences"] = len(owners)
        self.seen.forget(lambda key: key.startswith(prefix))
        return counts

    # --- preferences -------------------------------------------------------------------------

    def get_pref(self, user: str, key: str) -> Any:
        with self._lock:
            return copy.deepcopy(self._prefs.get(user, {}).get(key))

    def set_pref(self, user: str, key: str, value: Any) -> None:
        with self._lock:
            self._prefs.setdefault(user, {})[key] = copy.deepcopy(value)

    def close(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._consultations.clear()
            self._prefs.clear()
