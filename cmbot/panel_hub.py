"""A panel in progress: who is in it, who has answered and what, until the merged result.

Front doors that run a panel over time (Slack: each member in their own DM) keep its state
here, through the desk. Each member's interview is an ordinary session; when one finishes, its
answers move into the hub (nobody else sees them) and the session goes. The starter's session
gives the organisation facts, so the others are asked only for their opinions.
The hub is stored as a preference record keyed `panel:<id>`, which every storage engine keeps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .advisor.panel import Member, merge, organisation_states
from .consultation import Consultation, conclude_panel
from .interview import DEFAULT_FLOW, Where
from .interview.session import new_id, now_iso
from .service import Desk

FACTS, OPEN, DONE, CANCELLED, ENDED = "facts", "open", "done", "cancelled", "ended"


@dataclass
class Hub:
    starter: str
    members: list[str]
    lang: str  # the starter's language: the result's
    where: Where  # where the result goes (a channel and the root message's thread)
    flow_id: str = DEFAULT_FLOW
    id: str = field(default_factory=new_id)
    # facts (the starter describes the organisation) -> open -> done, or cancelled (by the
    # starter), or ended (too few answers left to merge)
    status: str = FACTS
    organisation: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # member -> opinions
    sessions: dict[str, str] = field(default_factory=dict)  # member -> session in progress
    left: list[str] = field(default_factory=list)  # stopped their interview (cancelled, idle)
    langs: dict[str, str] = field(default_factory=dict)
    dms: dict[str, str] = field(default_factory=dict)  # member -> their DM with the bot
    consultation_id: str | None = None
    created_at: str = field(default_factory=now_iso)

    @property
    def answered(self) -> list[str]:
        return [m for m in self.members if m in self.answers]

    @property
    def pending(self) -> list[str]:
        return [m for m in self.members if m not in self.answers]

    @property
    def waiting_for(self) -> list[str]:
        """Members the panel still expects answers from."""
        return [m for m in self.pending if m not in self.left]

    @property
    def live(self) -> bool:
        return self.status in (FACTS, OPEN)

    def cancel(self) -> None:
        """The starter cancelled it: nothing is merged, nobody is waited for."""
        self.status, self.sessions = CANCELLED, {}

    def end(self) -> None:
        """Too few answers are left to merge: over, with nothing saved but the hub."""
        self.status, self.sessions = ENDED, {}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["where"] = self.where.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hub:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["where"] = Where.from_dict(data.get("where"))
        return cls(**fields)


def _key(hub_id: str) -> str:
    return f"panel:{hub_id}"


def load(desk: Desk, hub_id: str) -> Hub | None:
    found = desk.store.get_pref(_key(hub_id), "hub")
    return Hub.from_dict(found) if found else None


def save(desk: Desk, hub: Hub) -> None:
    desk.store.set_pref(_key(hub.id), "hub", hub.to_dict())


def facts(desk: Desk, flow_id: str) -> list[str]:
    """The flow's organisation facts: the starter answers them for the whole panel."""
    return organisation_states(desk.flow(flow_id))


def record_answers(desk: Desk, hub: Hub, member: str, values: dict[str, Any]) -> None:
    """A member finished: keep their opinions (and, from the starter, the organisation facts)."""
    known = facts(desk, hub.flow_id)
    hub.answers[member] = {s: v for s, v in values.items() if s not in known}
    hub.sessions.pop(member, None)
    if member == hub.starter:
        hub.organisation = {s: v for s, v in values.items() if s in known}
        hub.status = OPEN


def conclude(desk: Desk, hub: Hub) -> Consultation:
    """Merge the members who answered into one consultation; the hub is then done. Neither is
    saved here: the caller archives the consultation, then saves the hub that names it. The
    consultation takes the panel's id, so that one archived by a step whose hub save was then
    refused is what the next try finds, and shows, instead of a second one."""
    consultation = desk.consultation(hub.id) or _merged(desk, hub)
    hub.status, hub.consultation_id, hub.sessions = DONE, consultation.id, {}
    return consultation


def _merged(desk: Desk, hub: Hub) -> Consultation:
    flow = desk.flow(hub.flow_id)
    members = [Member(m, hub.answers[m]) for m in hub.answered]
    return conclude_panel(merge(flow, hub.organisation, members), flow, hub.lang, hub.starter,
                          hub.where, facts_by=hub.starter, langs=hub.langs, id=hub.id)
