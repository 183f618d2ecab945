"""The housekeeping thread of `cmbot serve`: edited flow files picked up, interviews whose
question or result was never posted shown (once, at start-up), and interviews left half-way:
one gentle reminder after `CMBOT_REMIND_AFTER`, closed after `CMBOT_EXPIRE_AFTER`.

The sweep runs in its own thread, never before serving, and costs what the interviews it acts
on cost: it walks the index of sessions and reads a session only when its file (written at
each step) is old enough to need a reminder. What it did is saved with each session
(`reminded` = the idle period it reminded about) and the file's time set back to the last
activity, so a restart neither repeats a reminder nor loses one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from ..interview import Session
from .effects import Plan
from .state import SlackState
from .workspaces import Conductors

log = logging.getLogger("cmbot.slack")


def idle_for(session: Session, now: datetime) -> timedelta:
    return now - datetime.fromisoformat(session.updated_at)


class Reminders:
    def __init__(self, conductors: Conductors, remind_after: timedelta, expire_after: timedelta,
                 every: float):
        self.conductors = conductors  # each session is reminded in its workspace, with its token
        self.remind_after, self.expire_after, self.every = remind_after, expire_after, every
        self._quiet_until: dict[str, float] = {}  # reminded sessions: nothing to do before then
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._swept = threading.Condition()
        self._rounds = 0  # rounds (start-up recovery, then each sweep) finished so far
        self._running = False  # a round is under way

    def recover(self) -> int:
        """Show, once, what interviews were waiting for when the bot stopped."""
        shown = 0
        for session_id in self.conductors.desk.pending_sessions():
            try:
                conductor = self.conductors.for_session(session_id)
                shown += conductor.recover(session_id) if conductor else 0
            except Exception:
                log.exception("could not recover session %s", session_id)
        # Said even when nothing was: the operator (and a test) knows the start-up check is over.
        log.info("start-up check done: %d interviews whose question or result was never posted "
                 "shown again", shown)
        return shown

    def sweep(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        desk = self.conductors.desk
        oldest = now.timestamp() - self.remind_after.total_seconds()
        for session_id in desk.session_ids():
            saved = desk.idle_since(session_id)
            if saved is None or saved > oldest or self._quiet_until.get(session_id, 0) > now.timestamp():
                continue
            self._sweep_one(session_id, now)

    def _sweep_one(self, session_id: str, now: datetime) -> None:
        conductor = self.conductors.for_session(session_id)
        if conductor is None:  # its workspace uninstalled cmbot: nobody to remind
            return
        touched: float | None = None

        def decide(session: Session | None, state: SlackState | None) -> Plan:
            nonlocal touched
            if (session is None or state is None or session.state == "done"
                    or not session.where.in_slack):
                return Plan()
            idle = idle_for(session, now)
            if idle >= self.expire_after:
                return conductor.expire(session, state)
            if idle >= self.remind_after and state.reminded != session.updated_at:
                touched = datetime.fromisoformat(session.updated_at).timestamp()
                return conductor.remind(session, state)
            if state.reminded == session.updated_at:
                wake = datetime.fromisoformat(session.updated_at) + self.expire_after
                self._quiet_until[session.id] = wake.timestamp()
            return Plan()  # nothing saved: a session moved to a new flow version is told so first
        conductor.step(session_id, "", decide)
        if touched is not None:
            conductor.desk.set_idle_since(session_id, touched)

    def run(self) -> None:
        with self._round():
            try:
                self.recover()
            except Exception:
                log.exception("recovery at start-up failed")
        while not self._stopped.is_set():
            with self._round():
                try:
                    self.conductors.desk.reload_flows()
                    self.sweep()
                except Exception:  # a bad sweep must not end the thread
                    log.exception("reminder sweep failed")
            self._stopped.wait(self.every)

    @contextmanager
    def _round(self) -> Iterator[None]:
        with self._swept:
            self._running = True
        try:
            yield
        finally:
            with self._swept:
                self._running, self._rounds = False, self._rounds + 1
                self._swept.notify_all()

    def wait_sweep(self, timeout: float | None = None) -> bool:
        """Block until a sweep that begins after this call has ended: then whatever a sweep
        would do about the interviews as they are now (a reminder, a closing) is done. For
        whoever must know that rather than guess it from the clock: the tests, a health check."""
        with self._swept:
            target = self._rounds + (2 if self._running else 1)
            return self._swept.wait_for(lambda: self._rounds >= target, timeout)

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until the start-up round (showing what was never posted) has ended."""
        with self._swept:
            return self._swept.wait_for(lambda: self._rounds >= 1, timeout)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="cmbot-reminders", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """End the sweeps (a bot stopped inside a longer-lived process: the tests' in-process
        bot); a sweep under way finishes first, so nothing is left half-done."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
