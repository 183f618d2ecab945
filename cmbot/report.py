"""A consultation's report as typed values: what every front door shows, in one language.

`Report` is built by the service (`consultation.report`) from a stored consultation: its facts
(who, where, when, the answers), the advice in words (`advisor.words.Advice`), what a re-run
changed and, for a panel, the members' views. The terminal, the memo and Slack read its
attributes; `to_dict` is the JSON object `--json` and `cmbot export --format json` print (the
terminal contract), `from_dict` reads one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .advisor.words import Advice
from .interview.where import Where


@dataclass(frozen=True)
class ScoreChange:
    place: str
    label: str
    before: int | None  # None: the home was not scored before (or is not any more)
    after: int | None


@dataclass(frozen=True)
class Changes:
    """What a re-run changed from the consultation it re-ran (ids, with words)."""

    parent_id: str
    answers: tuple[str, ...]  # the states whose answer changed
    answers_labels: tuple[str, ...]
    placement_before: str
    placement_after: str
    scores: tuple[ScoreChange, ...]
    risks_added: tuple[str, ...]
    risks_removed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "parent_id": self.parent_id,
            "answers": list(self.answers),
            "answers_labels": list(self.answers_labels),
            "placement": {"before": self.placement_before, "after": self.placement_after},
            "scores": [{"place": s.place, "label": s.label, "before": s.before, "after": s.after}
                       for s in self.scores],
            "risks_added": list(self.risks_added),
            "risks_removed": list(self.risks_removed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Changes:
        return cls(data["parent_id"], tuple(data["answers"]), tuple(data["answers_labels"]),
                   data["placement"]["before"], data["placement"]["after"],
                   tuple(ScoreChange(s["place"], s["label"], s["before"], s["after"])
                         for s in data["scores"]),
                   tuple(data["risks_added"]), tuple(data["risks_removed"]))


@dataclass(frozen=True)
class PanelRow:
    """One opinion question: what each member said, what the panel keeps, whether they differ."""

    state: str
    question: str
    answers: dict[str, str]  # member -> their answer in words
    merged: str
    divergent: bool

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "question": self.question, "answers": dict(self.answers),
                "merged": self.merged, "divergent": self.divergent}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PanelRow:
        return cls(data["state"], data["question"], dict(data["answers"]), data["merged"],
                   data["divergent"])


@dataclass(frozen=True)
class AloneAdvice:
    """Where one member's answers alone would place the role."""

    placement: str
    label: str


@dataclass(frozen=True)
class PanelVote:
    value: Any
    members: tuple[str, ...]


@dataclass(frozen=True)
class PanelSplit:
    """How the panel's answers to one question were merged (by `rule`), and the votes."""

    state: str
    rule: str
    value: Any
    tie: bool
    votes: tuple[PanelVote, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "rule": self.rule, "value": self.value, "tie": self.tie,
                "votes": [{"value": v.value, "members": list(v.members)} for v in self.votes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PanelSplit:
        return cls(data["state"], data["rule"], data["value"], data["tie"],
                   tuple(PanelVote(v["value"], tuple(v["members"])) for v in data["votes"]))


@dataclass(frozen=True)
class PanelDisagreement:
    id: str
    title: str
    explanation: str
    views: dict[str, Any]  # member -> what they said

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "explanation": self.explanation,
                "views": dict(self.views)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PanelDisagreement:
        return cls(data["id"], data["title"], data["explanation"], dict(data["views"]))


@dataclass(frozen=True)
class PanelReport:
    """A panel in words: its members, the merge rule, the answers side by side, and where the
    members disagree."""

    members: tuple[str, ...]
    starter: str
    rule: tuple[str, ...]  # the merge rule, one sentence per kind of question
    opinions: dict[str, dict[str, Any]]  # member -> their own answers
    table: tuple[PanelRow, ...]
    alone: dict[str, AloneAdvice]  # member -> the placement on their answers alone
    divergences: tuple[str, ...]
    splits: tuple[PanelSplit, ...]
    disagreements: tuple[PanelDisagreement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "starter": self.starter,
            "rule": list(self.rule),
            "opinions": self.opinions,
            "table": [row.to_dict() for row in self.table],
            "alone": {m: {"placement": a.placement, "label": a.label} for m, a in self.alone.items()},
            "divergences": list(self.divergences),
            "splits": [s.to_dict() for s in self.splits],
            "disagreements": [d.to_dict() for d in self.disagreements],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PanelReport:
        return cls(tuple(data["members"]), data["starter"], tuple(data["rule"]),
                   data["opinions"], tuple(map(PanelRow.from_dict, data["table"])),
                   {m: AloneAdvice(a["placement"], a["label"]) for m, a in data["alone"].items()},
                   tuple(data["divergences"]), tuple(map(PanelSplit.from_dict, data["splits"])),
                   tuple(map(PanelDisagreement.from_dict, data["disagreements"])))


@dataclass(frozen=True)
class Report:
    consultation_id: str
    flow: str
    flow_version: int
    lang: str
    answers: dict[str, Any]  # state id -> value, in the order they were asked
    answered_by: dict[str, str]
    started_by: str
    where: Where
    parent_id: str | None
    created_at: str
    finished_at: str
    advice: Advice
    changes: Changes | None = None  # a re-run: what changed from `parent_id`
    panel: PanelReport | None = None

    @property
    def risk_ids(self) -> list[str]:
        """The contract's risk ids: the advisor's, then the panel's disagreements (whose words
        are in `panel.disagreements`)."""
        found = [risk.id for risk in self.advice.risks]
        return found + [d.id for d in self.panel.disagreements] if self.panel else found

    def to_dict(self) -> dict[str, Any]:
        data = {
            "consultation_id": self.consultation_id,
            "flow": self.flow,
            "flow_version": self.flow_version,
            "lang": self.lang,
            "answers": self.answers,
            "answered_by": self.answered_by,
            "started_by": self.started_by,
            "where": self.where.to_dict(),
            "parent_id": self.parent_id,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            **self.advice.to_dict(),
        }
        data["risks"] = self.risk_ids
        if self.changes is not None:
            data["changes"] = self.changes.to_dict()
        if self.panel is not None:
            data["panel"] = self.panel.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            consultation_id=data["consultation_id"], flow=data["flow"],
            flow_version=data["flow_version"], lang=data["lang"], answers=data["answers"],
            answered_by=data["answered_by"], started_by=data["started_by"],
            where=Where.from_dict(data["where"]), parent_id=data.get("parent_id"),
            created_at=data["created_at"], finished_at=data["finished_at"],
            advice=Advice.from_dict(data),
            changes=Changes.from_dict(data["changes"]) if data.get("changes") else None,
            panel=PanelReport.from_dict(data["panel"]) if data.get("panel") else None,
        )
