"""A finished interview and its advice: the record people list, reopen, export and delete."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .advisor import advise
from .advisor.explain import explain
from .advisor.model import from_dict, to_dict
from .interview import Flow, Session
from .interview.session import now_iso


@dataclass
class Consultation:
    id: str
    flow_id: str
    flow_version: int
    lang: str
    answers: dict[str, Any]
    answered_by: dict[str, str]
    recommendation: dict[str, Any]
    started_by: str = "local"
    where: dict[str, Any] = field(default_factory=dict)
    team: bool = False
    parent_id: str | None = None
    created_at: str = field(default_factory=now_iso)
    finished_at: str = field(default_factory=now_iso)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Consultation:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


def conclude(session: Session, flow: Flow) -> Consultation:
    """Advice for a finished session, with the session's answers in the flow's order."""
    values = session.values()
    ordered = {sid: values[sid] for sid in flow.path(values) if sid in values}
    return Consultation(
        id=session.id,
        flow_id=flow.id,
        flow_version=flow.version,
        lang=session.lang,
        answers=ordered,
        answered_by={sid: session.answers[sid].by for sid in ordered},
        recommendation=to_dict(advise(ordered)),
        started_by=session.started_by,
        where=dict(session.where),
        team=session.team,
        parent_id=session.parent_id,
        created_at=session.created_at,
    )


def report(consultation: Consultation, flow: Flow, lang: str | None = None) -> dict[str, Any]:
    """The consultation as the terminal contract's JSON object, words in `lang`."""
    lang = lang or consultation.lang
    return {
        "consultation_id": consultation.id,
        "flow": consultation.flow_id,
        "flow_version": consultation.flow_version,
        "lang": lang,
        "answers": consultation.answers,
        "answered_by": consultation.answered_by,
        "started_by": consultation.started_by,
        "where": consultation.where,
        "parent_id": consultation.parent_id,
        "created_at": consultation.created_at,
        "finished_at": consultation.finished_at,
        **explain(from_dict(consultation.recommendation), flow, lang),
    }
