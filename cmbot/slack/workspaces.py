"""The Slack door in many workspaces: one conductor per workspace, each with its own bot token
and its own view of the database.

A request's workspace comes from Bolt's context (the team id; the Enterprise Grid organisation
id for an org-wide install). Its conductor holds a `Desk` narrowed to that workspace
(`Desk.scoped`) and a Web API client with that workspace's bot token, so an interview, a
history, an export or a reminder of one workspace never reads or writes another's, nor speaks
with another's token. With one `SLACK_BOT_TOKEN`, there is one workspace: the default one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from ..service import Desk
from .conversation import Conductor

log = logging.getLogger("cmbot.slack")
DEFAULT = ""
ENTERPRISE = "slack_enterprise_id"  # a team inside an Enterprise Grid: its organisation

MakeConductor = Callable[[Desk, WebClient], Conductor]
TokenFor = Callable[[str, str | None], str | None]  # (workspace, enterprise id) -> bot token


def workspace_key(context: BoltContext) -> str:
    """The workspace a request comes from: the organisation for an org-wide install, else the
    team (a team inside a Grid organisation is still its own workspace)."""
    if context.is_enterprise_install and context.enterprise_id:
        return context.enterprise_id
    return context.team_id or context.enterprise_id or DEFAULT


class Conductors:
    """The conductor of each workspace, made on first use and kept (its lanes are shared)."""

    def __init__(self, desk: Desk, make: MakeConductor, client: Callable[[str], WebClient],
                 token_for: TokenFor):
        self.desk = desk  # every workspace's records: the reminders walk them all
        self._make, self._client, self._token_for = make, client, token_for
        self._known: dict[str, Conductor] = {}
        self._lock = threading.Lock()
        self._fixed = False

    @classmethod
    def fixed(cls, desk: Desk, conductor: Conductor) -> Conductors:
        """One workspace (the default one) and its conductor for good: a bot with one token."""
        found = cls(desk, lambda _desk, _client: conductor, lambda _token: conductor.client,
                    lambda _workspace, _enterprise: None)
        found._known[DEFAULT], found._fixed = conductor, True
        return found

    def of(self, workspace: str, token: str | None = None,
           enterprise_id: str | None = None) -> Conductor | None:
        """The workspace's conductor speaking with `token` (a request's, fresh from Bolt's
        authorisation), or with the token the installation store gives; None when the
        workspace has no installation (uninstalled)."""
        with self._lock:
            conductor = self._known.get(workspace)
        if self._fixed:  # one token, never rotated: nothing to refresh or to make
            return conductor
        if conductor is not None and token:
            conductor.client.token = token  # a rotated token replaces the old one everywhere
            return conductor
        if conductor is None and token and enterprise_id and enterprise_id != workspace:
            self.desk.scoped(workspace).set_workspace_setting(ENTERPRISE, enterprise_id)
        token = token or self._token_for(workspace, self._enterprise_of(workspace))
        if token is None:
            return None
        if conductor is not None:
            conductor.client.token = token
            return conductor
        with self._lock:
            conductor = self._known.get(workspace)
            if conductor is None:
                conductor = self._known[workspace] = self._make(self.desk.scoped(workspace),
                                                                self._client(token))
        return conductor

    def _enterprise_of(self, workspace: str) -> str | None:
        found = self.desk.scoped(workspace).workspace_setting(ENTERPRISE)
        return found if isinstance(found, str) else None

    def for_session(self, session_id: str) -> Conductor | None:
        """The conductor of the workspace a session belongs to (the reminders' way in)."""
        workspace = self.desk.workspace_of(session_id)
        return None if workspace is None else self.of(workspace)

    def forget(self, workspace: str) -> None:
        """The workspace's tokens were revoked: nothing of it stays in memory."""
        with self._lock:
            self._known.pop(workspace, None)


class SignedStates:
    """An `OAuthStateStore` whose states carry an HMAC made with `SLACK_STATE_SECRET`: a
    forged or altered `state` on `/slack/oauth_redirect` is refused before the database is
    asked, and a state is still single-use and short-lived (the wrapped store's job)."""

    def __init__(self, store: Any, secret: str):
        self.store, self._secret = store, secret.encode("utf-8")

    def _sign(self, state: str) -> str:
        return hmac.new(self._secret, state.encode("utf-8"), hashlib.sha256).hexdigest()

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = self.store.issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = state.rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            log.warning("refused an OAuth state that cmbot did not sign")
            return False
        return bool(self.store.consume(raw))
