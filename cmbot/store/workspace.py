"""One workspace's view of a database shared by many (a Slack app installed in several).

User and channel ids are unique only within a Slack workspace, so a bot installed in two of
them must never let `U1` of one see, resume, export or delete what `U1` of the other did.
`WorkspaceStore` is the storage interface narrowed to one workspace: what it saves carries the
workspace (`workspace` field, see `protocol.with_workspace`), what it finds by person or place
is looked up within the workspace, and a record of another workspace asked for by id (an id
typed by hand in `/cmbot show`) is as absent as an unknown one. Preferences (and panel hubs
kept among them) and handled event ids are keyed `<workspace>:<key>`.

The default workspace `""` (the terminal, a bot run with one `SLACK_BOT_TOKEN`) keeps records
exactly as before workspaces existed, so existing databases keep working unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from .protocol import Batch, Record, SeenKeys, Storage, with_workspace, workspace_of

DEFAULT = ""
WORKSPACE_ID = re.compile(r"[TE][A-Z0-9]{1,31}")


def valid_workspace(workspace: str) -> bool:
    """A Slack team id (`T…`) or Enterprise Grid organisation id (`E…`)."""
    return bool(WORKSPACE_ID.fullmatch(workspace))


def scoped_key(workspace: str, key: str) -> str:
    """A preference owner or an event id within a workspace."""
    return f"{workspace}:{key}" if workspace else key


def key_prefix(workspace: str) -> str:
    """What every scoped key of a (non-default) workspace starts with."""
    return f"{workspace}:"


class ScopedSeen:
    """Handled event ids and starts, kept apart per workspace."""

    def __init__(self, seen: SeenKeys, workspace: str):
        self._seen, self._workspace = seen, workspace

    def claim(self, key: str) -> bool:
        return self._seen.claim(scoped_key(self._workspace, key))

    def release(self, key: str) -> None:
        self._seen.release(scoped_key(self._workspace, key))

    def done(self, key: str) -> None:
        self._seen.done(scoped_key(self._workspace, key))


class WorkspaceStore:
    """The storage interface over one workspace of `base` (see the module docstring)."""

    def __init__(self, base: Storage, workspace: str = DEFAULT):
        self.base, self.workspace = base, workspace
        self.seen = ScopedSeen(base.seen, workspace)

    def _if_ours(self, record: Record | None) -> Record | None:
        return record if record is not None and workspace_of(record) == self.workspace else None

    # --- sessions ----------------------------------------------------------------------------

    def save_session(self, session: Record, pending: bool | None = None) -> None:
        self.base.save_session(with_workspace(session, self.workspace), pending)

    def get_session(self, session_id: str) -> Record | None:
        return self._if_ours(self.base.get_session(session_id))

    def id_taken(self, record_id: str) -> bool:
        return self.base.id_taken(record_id)  # ids are unique across workspaces

    def delete_session(self, session_id: str) -> None:
        if self.get_session(session_id) is not None:
            self.base.delete_session(session_id)

    def sessions(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        return self.base.sessions(lambda r: workspace_of(r) == self.workspace and where(r))

    def hold(self, session_id: str) -> AbstractContextManager[None]:
        return self.base.hold(session_id)

    def session_at(self, channel: str, thread_ts: str | None = None, workspace: str = "") -> str | None:
        return self.base.session_at(channel, thread_ts, self.workspace)

    def sessions_of(self, user: str, workspace: str = "") -> list[str]:
        return self.base.sessions_of(user, self.workspace)

    def session_ids(self) -> list[str]:
        return [sid for sid in self.base.session_ids() if self.get_session(sid) is not None]

    def session_idle_since(self, session_id: str) -> float | None:
        return self.base.session_idle_since(session_id)

    def touch_session(self, session_id: str, at: float) -> None:
        self.base.touch_session(session_id, at)

    def pending_sessions(self) -> list[str]:
        return [sid for sid in self.base.pending_sessions() if self.get_session(sid) is not None]

    # --- consultations -----------------------------------------------------------------------

    def add_consultation(self, consultation: Record, finished_session: str | None = None) -> None:
        self.base.add_consultation(with_workspace(consultation, self.workspace), finished_session)

    def get_consultation(self, consultation_id: str) -> Record | None:
        return self._if_ours(self.base.get_consultation(consultation_id))

    def delete_consultation(self, consultation_id: str) -> bool:
        if self.get_consultation(consultation_id) is None:
            return False
        return self.base.delete_consultation(consultation_id)

    def consultations(self, where: Callable[[Record], bool] = lambda _: True) -> list[Record]:
        return self.base.consultations(lambda s: workspace_of(s) == self.workspace and where(s))

    def consultations_for(self, user: str | None, channel_ok: Callable[[str], bool] | None = None,
                          workspace: str = "") -> Sequence[Record]:
        return self.base.consultations_for(user, channel_ok, self.workspace)

    # --- transfer ----------------------------------------------------------------------------

    def records(self, table_name: str) -> Iterator[Record]:
        return (r for r in self.base.records(table_name) if workspace_of(r) == self.workspace)

    def ids(self, table_name: str) -> set[str]:
        return self.base.ids(table_name)  # an id is taken whichever workspace has it

    def insert_new(self, table_name: str, records: list[Record]) -> int:
        return self.base.insert_new(table_name, [with_workspace(r, self.workspace) for r in records])

    def import_new(self, batches: Iterable[Batch], source: str) -> dict[str, int]:
        return self.base.import_new(((table, [with_workspace(r, self.workspace) for r in records])
                                     for table, records in batches), source)

    def delete_workspace(self, workspace: str) -> dict[str, int]:
        """A view deletes only its own workspace."""
        return self.base.delete_workspace(self.workspace) if workspace == self.workspace else {}

    # --- preferences -------------------------------------------------------------------------

    def get_pref(self, user: str, key: str) -> Any:
        return self.base.get_pref(scoped_key(self.workspace, user), key)

    def set_pref(self, user: str, key: str, value: Any) -> None:
        self.base.set_pref(scoped_key(self.workspace, user), key, value)

    def close(self) -> None:
        """Nothing: the database is shared by every workspace's view; its opener closes it."""
