"""The housekeeping thread of `cmbot serve`: edited flow files picked up, and interviews left
half-way: one gentle reminder after `CMBOT_REMIND_AFTER`, closed after
`CMBOT_EXPIRE_AFTER`.

A thread inside `cmbot serve` sweeps the sessions in progress; what it did is saved with each
session (`meta.reminded` = the idle period it reminded about), so a restart neither repeats a
reminder nor loses one — the first sweep after start-up catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from ..i18n import t
from ..interview import Session
from . import blocks as bk
from .conversation import Conductor

log = logging.getLogger("cmbot.slack")


def idle_for(session: Session, now: datetime) -> timedelta:
    return now - datetime.fromisoformat(session.updated_at)


class Reminders:
    def __init__(self, conductor: Conductor, remind_after: timedelta, expire_after: timedelta,
                 every: float):
        self.conductor = conductor
        self.remind_after, self.expire_after, self.every = remind_after, expire_after, every

    def sweep(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        desk = self.conductor.desk
        for record in desk.store.sessions(lambda r: r.get("where", {}).get("kind") in ("dm", "channel")):
            with desk.session(record["id"]) as session:
                if session is None:
                    continue
                if "migrated_from" in session.meta:
                    desk.save(session)  # moved to a new flow version: keep it that way
                idle = idle_for(session, now)
                if idle >= self.expire_after:
                    self.conductor.expire(session)
                elif idle >= self.remind_after and session.meta.get("reminded") != session.updated_at:
                    self.remind(session)

    def remind(self, session: Session) -> None:
        lang = session.lang
        text = t("slack.reminder", lang, user=session.started_by,
                 title=self.conductor.desk.flow(session.flow_id).title[lang])
        blocks = [bk.section(text), {"type": "actions", "block_id": "cmbot_reminder", "elements": [
            bk.button(t("slack.home_resume", lang), "cmbot_resume", session.id, "primary"),
            bk.button(t("nav.cancel", lang), "cmbot_cancel", session.id, "danger")]}]
        session.meta["reminded"] = session.updated_at
        self.conductor.desk.save(session)  # saved first: a crash now never means a second reminder
        self.conductor.post(session, blocks, text)

    def run(self) -> None:
        while True:
            time.sleep(self.every)
            try:
                self.conductor.desk.reload_flows()
                self.sweep()
            except Exception:  # a bad sweep must not end the thread
                log.exception("reminder sweep failed")

    def start(self) -> threading.Thread:
        try:
            self.sweep()
        except Exception:
            log.exception("reminder sweep failed")
        thread = threading.Thread(target=self.run, name="cmbot-reminders", daemon=True)
        thread.start()
        return thread
