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


@dataclass(frozen=True)
class Recommendation:
    placement: str
    runner_up: str
    scores: tuple[Score, ...]
    risks: tuple[str, ...]
    reframed: tuple[Reframe, ...]
    facts: dict[str, Any] = field(default_factory=dict)  # values the risk texts cite


def to_dict(rec: Recommendation) -> dict[str, Any]:
    """Plain JSON shape, stored with each consultation (ids and numbers, no words)."""
    return {
        "placement": rec.placement,
        "runner_up": rec.runner_up,
        "scores": [
            {"place": s.place, "score": s.score, "eligible": s.eligible,
             "reasons": [{"key": r.key, "points": r.points} for r in s.reasons]}
            for s in rec.scores
        ],
        "risks": list(rec.risks),
        "reframed": [{"from": r.objective, "text": r.text} for r in rec.reframed],
        "facts": rec.facts,
    }


def from_dict(data: dict[str, Any]) -> Recommendation:
    return Recommendation(
        placement=data["placement"],
        runner_up=data["runner_up"],
        scores=tuple(
            Score(s["place"], s["score"], tuple(Reason(r["key"], r["points"]) for r in s["reasons"]),
                  s.get("eligible", True))
            for s in data["scores"]
        ),
        risks=tuple(data["risks"]),
        reframed=tuple(Reframe(r["from"], r.get("text")) for r in data["reframed"]),
        facts=data.get("facts", {}),
    )
