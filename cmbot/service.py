"""The desk both front doors sit at: flows, one interview machine per flow, and the store.

It loads and saves sessions around each step under a per-session lock, so a Slack retry and a
click arriving together cannot interleave, and it turns a finished session into an archived
consultation. It knows nothing of Slack or the terminal.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .consultation import Consultation, conclude, report
from .interview import Flow, Interview, Session, load_flows
from .store import Store


class UnknownFlow(KeyError):
    pass


class Desk:
    def __init__(self, store: Store, flows_dir: str | Path | None = None):
        self.store = store
        self.flows: dict[str, Flow] = load_flows(flows_dir)
        self.interviews = {fid: Interview(flow) for fid, flow in self.flows.items()}
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def interview(self, flow_id: str) -> Interview:
        try:
            return self.interviews[flow_id]
        except KeyError:
            raise UnknownFlow(flow_id) from None

    def flow(self, flow_id: str) -> Flow:
        return self.interview(flow_id).flow

    def lock(self, session_id: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(session_id)
            if lock is None:
                lock = self._locks[session_id] = threading.Lock()
            return lock

    def begin(self, flow_id: str = "community_manager", **fields: Any) -> Session:
        session = self.interview(flow_id).start(**fields)
        self.store.save_session(session.to_dict())
        return session

    @contextmanager
    def session(self, session_id: str) -> Iterator[Session | None]:
        """The saved session, locked while the caller works on it (and calls `save`).

        Yields None when no such session is in progress (finished, cancelled or unknown).
        """
        with self.lock(session_id):
            saved = self.store.get_session(session_id)
            yield Session.from_dict(saved) if saved else None

    def save(self, session: Session) -> Consultation | None:
        """Persist a step; a finished session becomes a consultation, a cancelled one goes."""
        if session.state == "done":
            consultation = conclude(session, self.flow(session.flow_id))
            self.store.add_consultation(consultation.to_dict(), finished_session=session.id)
            return consultation
        if session.state == "cancelled":
            self.store.delete_session(session.id)
            return None
        self.store.save_session(session.to_dict())
        return None

    def consultation(self, consultation_id: str) -> Consultation | None:
        found = self.store.get_consultation(consultation_id)
        return Consultation.from_dict(found) if found else None

    def report(self, consultation: Consultation, lang: str | None = None) -> dict[str, Any]:
        parent = self.consultation(consultation.parent_id) if consultation.parent_id else None
        return report(consultation, self.flow(consultation.flow_id), lang, parent)

    def rerun(self, consultation: Consultation, **fields: Any) -> Session:
        """A new interview pre-filled with a consultation's answers, linked to it."""
        interview = self.interview(consultation.flow_id)
        session = interview.start(parent_id=consultation.id, **fields)
        interview.prefill(session, consultation.answers, by=session.started_by)
        self.store.save_session(session.to_dict())
        return session
