"""The desk both front doors sit at: flows, one interview machine per flow, and the store.

It loads and saves sessions around each step under a per-session lock, so a Slack retry and a
click arriving together cannot interleave, and it turns a finished session into an archived
consultation. It knows nothing of Slack or the terminal.
"""

from __future__ import annotations

import copy
import logging
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .consultation import Consultation, conclude, report
from .interview import (
    CANCELLED,
    DEFAULT_FLOW,
    DONE,
    Flow,
    FlowError,
    Interview,
    Session,
    builtin_flows_dir,
    load_flows,
)
from .interview.session import new_id
from .report import Report
from .store.installations import oauth_stores
from .store.protocol import Storage, workspace_of
from .store.workspace import WorkspaceStore
from .summary import Summaries, Summary

WORKSPACE_SETTINGS = "workspace"  # the preference owner of a workspace's own settings

log = logging.getLogger("cmbot")


class UnknownFlow(KeyError):
    pass


@dataclass(frozen=True)
class Held:
    """A session loaded under its lock (None: not in progress), and the version of its flow it
    was saved under when this load moved it onto the current one (None: it was not moved)."""

    session: Session | None
    moved_from: int | None = None


class Desk:
    def __init__(self, store: Storage, flows_dir: str | Path | None = None):
        self.store = store
        self.flows_dir = flows_dir
        self._flow_files = self._flow_stamp()
        self.flows: dict[str, Flow] = load_flows(flows_dir)
        self.interviews = {fid: Interview(flow) for fid, flow in self.flows.items()}
        self._scoped: weakref.WeakSet[Desk] = weakref.WeakSet()

    def scoped(self, workspace: str) -> Desk:
        """The desk of one workspace (a Slack team): the same flows and interview machines, the
        storage narrowed to what the workspace owns (`WorkspaceStore`)."""
        return self.over(WorkspaceStore(self.store, workspace))

    def over(self, store: Storage) -> Desk:
        """The same flows and interview machines (loaded and checked once, reloaded together)
        over another storage: a workspace's view of this one, or a test's fresh engine."""
        desk = copy.copy(self)
        desk.store = store
        desk._scoped = weakref.WeakSet()
        self._scoped.add(desk)
        return desk

    def _flow_stamp(self) -> tuple[tuple[str, int, int], ...]:
        folders = [builtin_flows_dir()] + ([Path(self.flows_dir)] if self.flows_dir else [])
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                     for folder in folders for p in sorted(folder.glob("*.y*ml")))

    def reload_flows(self) -> None:
        """Pick up edited flow files. A broken edit is refused (and logged): the last good
        flows keep serving, so one typo never takes the bot down."""
        stamp = self._flow_stamp()
        if stamp == self._flow_files:
            return
        self._flow_files = stamp
        try:
            flows = load_flows(self.flows_dir)
        except FlowError as exc:
            log.warning("flow files changed but were refused; still serving the last good ones: %s",
                        exc)
            return
        self.interviews = {fid: Interview(flow) for fid, flow in flows.items()}
        self.flows = flows
        for desk in list(self._scoped):  # every workspace's desk serves the new flows
            desk.interviews, desk.flows = self.interviews, flows
        log.info("flows reloaded: %s", ", ".join(f"{f.id} v{f.version}" for f in flows.values()))

    def migrate(self, session: Session) -> Session:
        """A session saved under an older version of its flow, replayed on the current one:
        answers that still fit are kept (with who gave them), the rest is asked again."""
        interview = self.interviews[session.flow_id]
        fresh = interview.start(id=session.id, lang=session.lang, started_by=session.started_by,
                                where=session.where, team=session.team, parent_id=session.parent_id,
                                created_at=session.created_at, meta=session.meta)
        interview.prefill(fresh, session.values(), by=session.started_by)
        for sid, answer in fresh.answers.items():
            old = session.answers.get(sid)
            if old is not None and old.value == answer.value:
                fresh.answers[sid] = old
        log.info("session %s moved from %s v%s to v%s", session.id, session.flow_id,
                 session.flow_version, fresh.flow_version)
        return fresh

    def interview(self, flow_id: str) -> Interview:
        try:
            return self.interviews[flow_id]
        except KeyError:
            raise UnknownFlow(flow_id) from None

    def flow(self, flow_id: str) -> Flow:
        return self.interview(flow_id).flow

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """One step of this interview at a time, among this process's threads and every
        process sharing the database (the storage's `hold`)."""
        return self.store.hold(session_id)

    def fresh_id(self) -> str:
        """An id no session or consultation has (ids are short: never trust chance alone)."""
        session_id = new_id()
        while self.store.id_taken(session_id):
            session_id = new_id()
        return session_id

    def start(self, flow_id: str = DEFAULT_FLOW, parent: Consultation | None = None,
              **fields: Any) -> Session:
        """A new interview (not saved yet) under an id no session or consultation has; with
        `parent`, a re-run of that consultation (its flow), pre-filled with its answers while
        they still fit, linked to it."""
        if parent is None:
            return self.interview(flow_id).start(id=self.fresh_id(), **fields)
        interview = self.interview(parent.flow_id)
        session = interview.start(id=self.fresh_id(), parent_id=parent.id, **fields)
        interview.prefill(session, parent.answers, by=session.started_by)
        return session

    @contextmanager
    def hold(self, session_id: str) -> Iterator[Held]:
        """The saved session, locked while the caller works on it (and calls `save`), and
        whether it was just moved onto the current version of its flow: a front door that
        showed a question of the old version says so (nothing about it is stored)."""
        with self.lock(session_id):
            saved = self.store.get_session(session_id)
            session = Session.from_dict(saved) if saved else None
            # cmbot 1.x stored the move as a flag until the person was told: told now.
            moved_from = session.meta.pop("migrated_from", None) if session else None
            if session is not None and session.state == CANCELLED:
                # Left: an earlier cmbot saved a cancel before forgetting it, and died between.
                self.store.delete_session(session_id)
                session = None
            elif session is not None and session.flow_id not in self.interviews:
                session = None  # its flow is gone (a user flow removed): nothing to resume
            elif (session is not None and not session.finished
                  and session.flow_version != self.flow(session.flow_id).version):
                moved_from = session.flow_version
                session = self.migrate(session)
            yield Held(session, moved_from)

    @contextmanager
    def session(self, session_id: str) -> Iterator[Session | None]:
        """The saved session, locked while the caller works on it (and calls `save`).

        Yields None when no such session is in progress (finished, cancelled or unknown).
        """
        with self.hold(session_id) as held:
            yield held.session

    def save(self, session: Session) -> Consultation | None:
        """Persist a step; a finished session becomes a consultation, a cancelled one goes."""
        if session.state == DONE:
            consultation = self.conclude(session)
            self.store.add_consultation(consultation.to_dict(), finished_session=session.id)
            return consultation
        if session.state == CANCELLED:
            self.store.delete_session(session.id)
            return None
        self.store.save_session(session.to_dict())
        return None

    # --- the steps of a front door that posts (Slack): save before anything is shown ----------

    def keep(self, session: Session, pending: bool | None = None) -> None:
        """Save a step whatever its state, a finished one included: a front door keeps the
        session until what it must show for it (the recommendation) is shown. `pending=True`
        marks it, with the same write, as not shown yet (the next interaction or the start-up
        sweep shows it); None leaves the mark as it was."""
        self.store.save_session(session.to_dict(), pending)

    def shown(self, session: Session) -> None:
        """Save a step once what it shows is shown (the message ts noted), clearing its
        pending mark with the same write."""
        self.store.save_session(session.to_dict(), pending=False)

    def conclude(self, session: Session) -> Consultation:
        """The consultation a finished session makes (not archived yet)."""
        return conclude(session, self.interview(session.flow_id))

    def archive(self, consultation: Consultation) -> None:
        if self.store.get_consultation(consultation.id) is None:
            self.store.add_consultation(consultation.to_dict())

    def forget(self, session_id: str) -> None:
        self.store.delete_session(session_id)

    def consultation(self, consultation_id: str) -> Consultation | None:
        found = self.store.get_consultation(consultation_id)
        return Consultation.from_dict(found) if found else None

    def report(self, consultation: Consultation, lang: str | None = None) -> Report:
        parent = self.consultation(consultation.parent_id) if consultation.parent_id else None
        return report(consultation, self.flow(consultation.flow_id), lang, parent)

    def rerun(self, consultation: Consultation, **fields: Any) -> Session:
        """A new interview pre-filled with a consultation's answers, linked to it, saved."""
        session = self.start(parent=consultation, **fields)
        self.store.save_session(session.to_dict())
        return session

    # --- consultations, as the front doors list, show and delete them -------------------------

    def consultations(self) -> list[Summary]:
        """Every consultation as a listing shows it, newest first (the terminal's history)."""
        return [Summary.from_record(r) for r in self.store.consultations()]

    def consultations_for(self, user: str | None,
                          channel_ok: Callable[[str], bool] | None = None) -> Sequence[Summary]:
        """What `user` started plus the channel consultations `channel_ok` allows, as a
        listing shows them, newest first; slicing a page reads only that page."""
        return Summaries(self.store.consultations_for(user, channel_ok))

    def add(self, consultation: Consultation) -> None:
        """Archive a consultation made without an interview (a panel from answer files)."""
        self.store.add_consultation(consultation.to_dict())

    def delete(self, consultation_id: str) -> bool:
        """Delete a consultation; False when there was none."""
        return self.store.delete_consultation(consultation_id)

    # --- sessions, as a front door finds them -------------------------------------------------

    def session_at(self, channel: str, thread_ts: str | None = None) -> str | None:
        """The id of the interview running in this channel thread (or, with no thread, this DM)."""
        return self.store.session_at(channel, thread_ts)

    def sessions_of(self, user: str) -> list[Session]:
        """The interviews in progress `user` started (read without their lock: for listing)."""
        records = (self.store.get_session(sid) for sid in self.store.sessions_of(user))
        return [Session.from_dict(r) for r in records if r]

    def sessions(self, where: Callable[[Session], bool]) -> list[Session]:
        """Interviews in progress matching `where`, saved last first (reads every session)."""
        return [s for s in map(Session.from_dict, self.store.sessions()) if where(s)]

    def session_ids(self) -> list[str]:
        return self.store.session_ids()

    def idle_since(self, session_id: str) -> float | None:
        """When the session was last saved (epoch seconds), None when it is gone."""
        return self.store.session_idle_since(session_id)

    def set_idle_since(self, session_id: str, at: float) -> None:
        """Set the idle clock back to `at`: a save that was no activity of the person's (a
        reminder) must not put off the next reminder or the expiry."""
        self.store.touch_session(session_id, at)

    def pending_sessions(self) -> list[str]:
        """Sessions saved whose question or result was never shown (a crash, a failed post)."""
        return self.store.pending_sessions()

    # --- work done once across deliveries and replicas (Slack event ids, start requests) -----

    def claim(self, key: str) -> bool:
        """Take a piece of work; False when another delivery has it, or had it."""
        return self.store.seen.claim(key)

    def release(self, key: str) -> None:
        """Give up a claimed piece of work after a failure, so that a retry does it."""
        self.store.seen.release(key)

    def done(self, key: str) -> None:
        self.store.seen.done(key)

    # --- workspaces (a front door installed in many places: Slack workspaces) ------------------

    def workspace_of(self, session_id: str) -> str | None:
        """The workspace a session in progress belongs to ("" the default), None if none runs."""
        record = self.store.get_session(session_id)
        return None if record is None else workspace_of(record)

    def workspace_setting(self, key: str) -> Any:
        """A setting of this desk's workspace as a whole (not of one person)."""
        return self.store.get_pref(WORKSPACE_SETTINGS, key)

    def set_workspace_setting(self, key: str, value: Any) -> None:
        self.store.set_pref(WORKSPACE_SETTINGS, key, value)

    def installation_stores(self, client_id: str) -> tuple[Any, Any]:
        """Where a front door installed in many workspaces keeps each installation (its tokens)
        and its install states: slack_sdk's stores, on the database this desk runs on."""
        return oauth_stores(getattr(self.store, "base", self.store), client_id)

    # --- preferences ----------------------------------------------------------------------------

    def language_of(self, user: str) -> str | None:
        """The language a person chose (`/cmbot lang`), None if they never did."""
        return self.store.get_pref(user, "lang")

    def set_language(self, user: str, lang: str) -> None:
        self.store.set_pref(user, "lang", lang)
