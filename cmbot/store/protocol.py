"""The storage interface every engine implements: TinyDB files, PostgreSQL, memory.

The core's service (`Desk`) and the commands talk to this interface only, so an engine can be
swapped by configuration (`open_storage`). Records are the JSON-ready dicts of the core's
`Session.to_dict()` and `Consultation.to_dict()`; listings are *summaries* of consultations
(`id`, `flow_id`, `lang`, `started_by`, `where`, `finished_at`, `parent_id`,
`recommendation: {"placement": …}`, and `workspace` outside the default one), newest first (by
`finished_at`, then id), which the service hands to the front doors as typed `Summary` rows.

Every record belongs to a *workspace* (a Slack team id, or an Enterprise Grid organisation id
for org-wide installs): its `workspace` field, absent in the default workspace `""` of the
terminal and of a single-token bot. User and channel ids are unique only within a workspace,
so the lookups by person and by place take the workspace; `store/workspace.py` gives the
service a view of one workspace only.

`hold(session_id)` is the lock of one interview across every process sharing the database: a
step (read, apply an answer, save) runs inside it, so a Slack retry landing on another
replica waits and then sees the answer already applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

Record = dict[str, Any]
TABLES = ("consultations", "sessions")
Batch = tuple[str, list[Record]]  # a table and records for it


class SeenKeys(Protocol):
    """Work already done (Slack event ids, start requests): `claim` before the work (False:
    another delivery has it, or had it), then `done`, or `release` after a failure so that
    Slack's retry does it. Shared by every process on the database."""

    def claim(self, key: str) -> bool: ...
    def release(self, key: str) -> None: ...
    def done(self, key: str) -> None: ...


@runtime_checkable
class Storage(Protocol):
    """What the service needs from a database (see the module docstring)."""

    # --- sessions in progress
    def save_session(self, session: Record, pending: bool | None = None) -> None:
        """Save a session, and with the same write mark it as saved before what it shows was
        shown (`pending=True`: a restart shows it) or as shown (`False`); None leaves the mark
        as it was. One write, so a step costs one save before posting and one after."""
        ...

    def get_session(self, session_id: str) -> Record | None: ...
    def id_taken(self, record_id: str) -> bool:
        """Whether a session or a consultation already has this id (new ids are short)."""
        ...

    def delete_session(self, session_id: str) -> None: ...
    def sessions(self, where: Callable[[Record], bool] = ...) -> list[Record]:
        """Sessions matching `where`, most recently updated first (a rare, full read)."""
        ...

    def hold(self, session_id: str) -> AbstractContextManager[None]: ...

    # --- the Slack door's lookups, none of which reads every session
    def session_at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        """The id of the session running in this channel thread (or, with no thread, this DM)."""
        ...

    def sessions_of(self, user: str, workspace: str = "") -> list[str]:
        """Ids of the sessions `user` started, sorted."""
        ...

    def session_ids(self) -> list[str]: ...
    def session_idle_since(self, session_id: str) -> float | None:
        """When the session was last saved (epoch seconds), None when it is gone."""
        ...

    def touch_session(self, session_id: str, at: float) -> None:
        """Set the idle clock back to `at` (a save that was no activity of the person's)."""
        ...

    def pending_sessions(self) -> list[str]:
        """Sessions whose last mark (`save_session(…, pending=True)`) was never cleared."""
        ...

    seen: SeenKeys

    # --- consultations
    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        """Archive a consultation and forget the session it came from, as one change."""
        ...

    def get_consultation(self, consultation_id: str) -> Record | None: ...
    def delete_consultation(self, consultation_id: str) -> bool: ...
    def consultations(self, where: Callable[[Record], bool] = ...) -> list[Record]: ...
    def consultations_for(self, user: str | None, channel_ok: Callable[[str], bool] | None = None,
                          workspace: str = "") -> Sequence[Record]:
        """What `user` started plus the channel consultations of every channel `channel_ok`
        allows (asked once per channel), newest first; slicing a page reads only that page."""
        ...

    def delete_workspace(self, workspace: str) -> dict[str, int]:
        """Remove every session, consultation, preference and event id of a workspace, leaving
        no copy; how many of each (`sessions`, `consultations`, `preferences`) were there."""
        ...

    # --- moving data in and out (`cmbot db`)
    def records(self, table_name: str) -> Iterator[Record]:
        """Every whole record of `consultations` or `sessions`, streamed."""
        ...

    def ids(self, table_name: str) -> set[str]: ...
    def insert_new(self, table_name: str, records: list[Record]) -> int:
        """Add the records whose id is not there yet; how many were added."""
        ...

    def import_new(self, batches: Iterable[Batch], source: str) -> dict[str, int]:
        """Add, batch after batch, the records whose id is not there yet, every table as one
        change: all of them, or (an error, a killed process) none. How many were added per
        table; `source` names what is imported (a file) in the operator's messages."""
        ...

    # --- preferences
    def get_pref(self, user: str, key: str) -> Any: ...
    def set_pref(self, user: str, key: str, value: Any) -> None: ...

    def close(self) -> None: ...


def summary(record: Record) -> Record:
    """The listing fields of a whole consultation."""
    found = {"id": record["id"], "flow_id": record.get("flow_id"), "lang": record.get("lang"),
             "started_by": record.get("started_by"), "where": record.get("where") or {},
             "finished_at": record.get("finished_at", ""), "parent_id": record.get("parent_id"),
             "recommendation": {"placement": (record.get("recommendation") or {}).get("placement")}}
    return with_workspace(found, workspace_of(record))


def workspace_of(record: Record) -> str:
    """The workspace a record belongs to; `""` (the default one) when it names none."""
    found = record.get("workspace")
    return found if isinstance(found, str) else ""


def with_workspace(record: Record, workspace: str) -> Record:
    """The record marked as the workspace's (the default workspace leaves no mark)."""
    return {**record, "workspace": workspace} if workspace else record


def newest_first(record: Record) -> tuple[str, str]:
    """The listing order shared by every engine."""
    return (record.get("finished_at") or "", record["id"])
