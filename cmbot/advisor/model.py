"""The advisor's output as plain, immutable data (no words: texts come from the catalogues)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reason:
    key: str
    points: int


@dataclass(frozen=True)
class Score:
    place: str
    score: int
    reasons: tuple[Reason, ...]
    eligible: bool = True


@dataclass(frozen=True)
class Reframe:
    objective: str
    text: str | None = None  # the person's own words, for `other`
    theme: str | None = None  # what those words are about (`freetext.read`), for `other`
    quantitative: bool = False  # `other` read as a volume target


@dataclass(frozen=True)
class Budget:
    """Who should pay for the role, and why, as ids the catalogues turn into words.

    `owner` is the value the JSON report and Slack metadata carry; `case` picks the explanation,
    `named` what the manager said about the payer (kept, unknown, or what changes if they keep it)."""

    owner: str  # dedicated | management | shared | host
    home: str  # where the role sits: the placement, or the current host of a role in place
    case: str
    named: str
    payer: str  # the payer as the manager named it (`Facts.payer`)
    zero: bool = False  # no budget at all for community actions


@dataclass(frozen=True)
class Recommendation:
    placement: str
    runner_up: str | None
    scores: tuple[Score, ...]
    risks: tuple[str, ...]
    reframed: tuple[Reframe, ...]
    facts: dict[str, Any] = field(default_factory=dict)  # values the risk texts cite
    budget: Budget | None = None
    tie: str | None = None  # the tie rule that chose between equal scores, if any
    evidence: tuple[str, ...] = ()  # survey figures that bear on this case
    in_place: bool = False  # advice on a role already in place (present tense, no placement)


def to_dict(rec: Recommendation) -> dict[str, Any]:
    """Plain JSON shape, stored with each consultation (ids and numbers, no words)."""
    budget = rec.budget
    return {
        "placement": rec.placement,
        "runner_up": rec.runner_up,
        "scores": [
            {"place": s.place, "score": s.score, "eligible": s.eligible,
             "reasons": [{"key": r.key, "points": r.points} for r in s.reasons]}
            for s in rec.scores
        ],
        "risks": list(rec.risks),
        "reframed": [{"from": r.objective, "text": r.text, "theme": r.theme,
                      "quantitative": r.quantitative} for r in rec.reframed],
        "facts": rec.facts,
        "budget": None if budget is None else {
            "owner": budget.owner, "home": budget.home, "case": budget.case,
            "named": budget.named, "payer": budget.payer, "zero": budget.zero},
        "tie": rec.tie,
        "evidence": list(rec.evidence),
        "in_place": rec.in_place,
    }


def from_dict(data: dict[str, Any]) -> Recommendation:
    """A stored recommendation; one saved before budgets existed comes back with `budget` None
    (the caller advises again from the answers)."""
    budget = data.get("budget")
    return Recommendation(
        placement=data["placement"],
        runner_up=data.get("runner_up"),
        scores=tuple(
            Score(s["place"], s["score"], tuple(Reason(r["key"], r["points"]) for r in s["reasons"]),
                  s.get("eligible", True))
            for s in data["scores"]
        ),
        risks=tuple(data["risks"]),
        reframed=tuple(Reframe(r["from"], r.get("text"), r.get("theme"), r.get("quantitative", False))
                       for r in data["reframed"]),
        facts=data.get("facts", {}),
        budget=Budget(**budget) if budget else None,
        tie=data.get("tie"),
        evidence=tuple(data.get("evidence", ())),
        in_place=data.get("in_place", False),
    )
