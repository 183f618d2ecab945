"""The advice in words, as typed values: what `explain` makes of a `Recommendation` in one language.

Every front door (the terminal, the Markdown memo, Slack) reads these attributes; `to_dict` gives
the JSON shape `--json` and the JSON export print (flat `placement_*` and `runner_up_*` keys, as
the terminal contract has always had them), and `from_dict` reads that shape back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Placement:
    """The recommended home, and how a tie between equal scores was settled (if one was)."""

    place: str
    label: str
    line: str  # "Recommended placement: …"
    why: str
    score: int
    tie: str | None = None  # the tie rule's id
    tie_text: str | None = None


@dataclass(frozen=True)
class RunnerUp:
    """The alternative, or (`place` None) the sentence saying there is no good one."""

    place: str | None
    label: str
    line: str
    score: int | None


@dataclass(frozen=True)
class Funding:
    """Who should pay: `owner` is the id Slack metadata carries, `line` and `why` the words."""

    owner: str
    label: str
    line: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "label": self.label, "line": self.line, "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Funding:
        return cls(data["owner"], data["label"], data["line"], data["why"])


@dataclass(frozen=True)
class ReasonLine:
    text: str
    points: int  # 0 for the sentence that says why a home is ruled out


@dataclass(frozen=True)
class ScoreLine:
    place: str
    label: str
    score: int
    eligible: bool
    reasons: tuple[ReasonLine, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"place": self.place, "label": self.label, "score": self.score,
                "eligible": self.eligible,
                "reasons": [{"text": r.text, "points": r.points} for r in self.reasons]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreLine:
        return cls(data["place"], data["label"], data["score"], data["eligible"],
                   tuple(ReasonLine(r["text"], r["points"]) for r in data["reasons"]))


@dataclass(frozen=True)
class RiskText:
    id: str
    title: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "explanation": self.explanation}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskText:
        return cls(data["id"], data["title"], data["explanation"])


@dataclass(frozen=True)
class ReframeText:
    """One objective reframed. `theme` and `quantitative` say how an objective typed in the
    person's own words (`other`) was read; the JSON carries them for `other` only."""

    objective: str
    label: str  # the objective as the person chose or typed it
    to: str
    gain: str  # what the community's members gain
    indicators: tuple[str, ...]
    why: str
    theme: str | None = None
    quantitative: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"from": self.objective, "from_label": self.label, "to": self.to,
                                "gain": self.gain, "indicators": list(self.indicators),
                                "why": self.why}
        if self.objective == "other":
            data |= {"theme": self.theme, "quantitative": self.quantitative}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReframeText:
        return cls(data["from"], data["from_label"], data["to"], data["gain"],
                   tuple(data["indicators"]), data["why"], data.get("theme"),
                   data.get("quantitative", False))


@dataclass(frozen=True)
class Evidence:
    """A survey figure, with its source."""

    id: str
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(data["id"], data["text"], data["source"])


@dataclass(frozen=True)
class Advice:
    placement: Placement
    runner_up: RunnerUp
    funding: Funding | None  # None only for advice a flow without a payer question gives
    scores: tuple[ScoreLine, ...]
    risks: tuple[RiskText, ...]
    reframed: tuple[ReframeText, ...]
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        p, r = self.placement, self.runner_up
        return {
            "placement": p.place, "placement_label": p.label, "placement_line": p.line,
            "placement_why": p.why, "placement_score": p.score,
            "runner_up": r.place, "runner_up_label": r.label, "runner_up_line": r.line,
            "runner_up_score": r.score,
            "tie": p.tie, "tie_text": p.tie_text,
            "budget": self.funding.to_dict() if self.funding else None,
            "scores": [s.to_dict() for s in self.scores],
            "risks": [risk.id for risk in self.risks],
            "risk_details": [risk.to_dict() for risk in self.risks],
            "reframed": [item.to_dict() for item in self.reframed],
            "evidence": [e.to_dict() for e in self.evidence],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Advice:
        return cls(
            Placement(data["placement"], data["placement_label"], data["placement_line"],
                      data["placement_why"], data["placement_score"], data.get("tie"),
                      data.get("tie_text")),
            RunnerUp(data["runner_up"], data["runner_up_label"], data["runner_up_line"],
                     data["runner_up_score"]),
            Funding.from_dict(data["budget"]) if data.get("budget") else None,
            tuple(map(ScoreLine.from_dict, data["scores"])),
            tuple(map(RiskText.from_dict, data["risk_details"])),
            tuple(map(ReframeText.from_dict, data["reframed"])),
            tuple(map(Evidence.from_dict, data.get("evidence") or ())),
        )
