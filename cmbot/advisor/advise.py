"""Answers -> `Recommendation`: pure and deterministic, so the same answers give the same advice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Reason, Recommendation, Reframe, Score
from .rules import ADJUSTMENTS, BASE_SCORE, OBJECTIVE_FIT, PLACES, RISKS, Facts, excluded


def candidates(facts: Facts) -> list[str]:
    """A unit of its own, general management, and every department the company has."""
    return [p for p in PLACES if p in ("dedicated", "management") or p in facts.departments]


def score_place(facts: Facts, place: str) -> Score:
    reasons = [Reason(f"base.{place}", BASE_SCORE[place])]
    reasons += [Reason(a.reason, a.points) for a in ADJUSTMENTS if a.applies(facts, place)]
    for objective in facts.objectives:
        points = OBJECTIVE_FIT.get(objective, {}).get(place)
        if points:
            reasons.append(Reason(f"fits.{objective}", points))
    eligible = not excluded(facts, place)
    if not eligible:
        reasons.append(Reason("excluded_business_payer", 0))
    total = max(0, min(100, sum(r.points for r in reasons)))
    return Score(place, total, tuple(reasons), eligible)


def advise(answers: Mapping[str, Any]) -> Recommendation:
    facts = Facts.of(answers)
    scores = [score_place(facts, place) for place in candidates(facts)]
    if facts.get("dedicated_possible") == "yes":
        # The article's ideal, and a DESIGN invariant: a unit of its own when it can have one.
        top = max(s.score for s in scores)
        scores = [
            Score(s.place, top, (*s.reasons, Reason("unit_preferred", top - s.score)), True)
            if s.place == "dedicated" and s.score < top else s
            for s in scores
        ]
    order = {place: i for i, place in enumerate(PLACES)}
    ranked = sorted((s for s in scores if s.eligible), key=lambda s: (-s.score, order[s.place]))
    if facts.get("dedicated_possible") == "yes":
        ranked.sort(key=lambda s: s.place != "dedicated")
    placement, runner_up = ranked[0].place, ranked[1].place
    risks = tuple(risk.id for risk in RISKS if risk.applies(facts, placement))
    reframed = tuple(
        Reframe(o, facts.get("objectives_other") if o == "other" else None)
        for o in facts.objectives
    )
    cited = {k: facts.get(k) for k in ("proposed_host", "budget_amount", "content", "brand_reach",
                                        "reporting")}
    cited["quantitative"] = facts.quantitative
    cited["collaboration"] = facts.collaboration
    return Recommendation(
        placement=placement,
        runner_up=runner_up,
        scores=tuple(sorted(scores, key=lambda s: (-s.score, order[s.place]))),
        risks=risks,
        reframed=reframed,
        facts=cited,
    )
