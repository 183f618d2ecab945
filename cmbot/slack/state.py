"""What the Slack door keeps with a session (in `session.meta["slack"]`), as one typed value.

The core stores `meta` without reading it; everything Slack-specific about an interview lives
here: which question message is on screen, the channel root message, checkbox ticks not yet
submitted, the replies already handled, the reminder already sent and, for a panel member's
interview, the panel it answers for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..interview import Session

KEY = "slack"
HANDLED_KEEP = 50  # message ts remembered per session, so a re-delivered reply is ignored


@dataclass
class SlackState:
    asked: str | None = None  # the state whose question (or edit menu) is on screen
    asked_ts: str | None = None  # that message's ts: a click on any other message is stale
    root_ts: str | None = None  # a channel interview's root message
    ticks: dict[str, list[str]] = field(default_factory=dict)  # checkbox changes, by state
    handled: list[str] = field(default_factory=list)  # replies already taken (message ts)
    reminded: str | None = None  # the `updated_at` a reminder was sent for
    panel: str | None = None  # the panel (`panel_hub.Hub` id) a member's interview answers for
    # Not stored: the service moved the session onto a new version of its flow as it loaded it
    # for this step, so the question on screen may be out of date (`Desk.hold`).
    moved: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, session: Session, moved: bool = False) -> SlackState:
        """The session's state (read from the loose keys sessions of older versions kept)."""
        meta = session.meta
        data = meta.get(KEY)
        if isinstance(data, dict):
            known = set(cls.__dataclass_fields__) - {"moved"}
            found = {k: v for k, v in data.items() if k in known}
            found.setdefault("panel", meta.get("panel"))  # saved when it was kept beside "slack"
            return cls(**found, moved=moved)
        messages = meta.get("messages") or {}
        ts = meta.get("question_ts")
        return cls(asked=messages.get(ts) if ts else None, asked_ts=ts, root_ts=meta.get("root_ts"),
                   ticks=meta.get("ticks") or {}, handled=meta.get("handled") or [],
                   reminded=meta.get("reminded"), panel=meta.get("panel"), moved=moved)

    def store(self, session: Session) -> None:
        for old in ("messages", "question_ts", "root_ts", "ticks", "handled", "reminded", "origin",
                    "panel"):
            session.meta.pop(old, None)
        data = asdict(self)
        del data["moved"]
        session.meta[KEY] = data

    def shown(self, state: str, ts: str) -> None:
        self.asked, self.asked_ts = state, ts

    def handle(self, ts: str) -> bool:
        """Remember a reply; False when it was already handled (Slack delivered it twice)."""
        if ts in self.handled:
            return False
        self.handled = [*self.handled, ts][-HANDLED_KEEP:]
        return True

    def pending(self, session: Session) -> bool:
        """The session's current question (or result) was never shown: a crash or a failed
        post came between saving the step and posting it."""
        return session.state == "done" or self.asked != session.state or self.asked_ts is None

