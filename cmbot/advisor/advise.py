"""Answers -> `Recommendation`: pure and deterministic, so the same answers give the same advice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .budget import recommend
from .model import Reason, Recommendation, Reframe, Score
from .rules import (
    ADJUSTMENTS,
    CREDIBLE,
    HOME,
    OBJECTIVE_FIT,
    PAYERS,
    PLACES,
    RISKS,
    START,
    THEME_FIT,
    Facts,
    ruled_out,
    tie_key,
    tie_rule,
)

# Survey figures (texts and sources in the catalogues, `evidence.<id>`) and when they bear on
# a case: (id, test on the facts, where the role sits, who should pay).
EVIDENCE: tuple[tuple[str, Callable[[Facts, str, str], bool]], ...] = (
    ("marketing_home", lambda f, home, owner: "marketing" in (f.host, home)),
    ("own_department", lambda f, home, owner: home == "dedicated"),
    # Vice-presidents exist in companies of some size: these figures say nothing to a start-up.
    ("leads_report_high", lambda f, home, owner: home in ("dedicated", "management")
     and not f.small),
    ("budget_approved_high", lambda f, home, owner: owner in ("dedicated", "management")
     and not f.small),
    ("reports_to_leaders", lambda f, home, owner: f.get("reporting") in ("volume", "sales", "none")
     and not f.small),
    ("no_full_time", lambda f, home, owner: f.size in ("micro", "small")),
)


def candidates(facts: Facts) -> list[str]:
    """A unit of its own, general management, and every department the company has."""
    return [p for p in PLACES if p in ("dedicated", "management") or p in facts.departments]


def score_place(facts: Facts, place: str) -> Score:
    reasons = [Reason("start", START)]
    if HOME[place]:
        reasons.append(Reason(f"home.{place}", HOME[place]))
    reasons += [Reason(a.reason, a.points) for a in ADJUSTMENTS if a.applies(facts, place)]
    for objective in facts.objectives:
        points = OBJECTIVE_FIT.get(objective, {}).get(place)
        if points:
            reasons.append(Reason(f"fits.{objective}", points))
    other = facts.other
    points = THEME_FIT.get(other.theme, {}).get(place) if other else None
    if points:
        reasons.append(Reason("fits.other", points))
    excluded = ruled_out(facts, place)
    if excluded:
        reasons.append(Reason(excluded, 0))
    total = max(0, min(100, sum(r.points for r in reasons)))
    return Score(place, total, tuple(reasons), excluded is None)


def reframe(facts: Facts, objective: str) -> Reframe:
    reading = facts.other if objective == "other" else None
    if reading is None:
        return Reframe(objective)
    return Reframe(objective, facts.get("objectives_other"), reading.theme, reading.quantitative)


def advise(answers: Mapping[str, Any], in_place: bool = False) -> Recommendation:
    """The advice for a set of answers. `in_place`: the role already exists and sits where the
    answers say (the objectives review); the budget and the risks are then about that home."""
    facts = Facts.of(answers)
    ranked = sorted((score_place(facts, place) for place in candidates(facts)),
                    key=lambda s: (not s.eligible, -s.score, tie_key(facts, s.place)))
    top, *others = [s for s in ranked if s.eligible]  # general management is never ruled out
    second = others[0] if others else None
    home = facts.host if in_place and facts.host in PAYERS else top.place
    budget = recommend(facts, home)
    cited = {k: facts.get(k) for k in ("proposed_host", "budget_amount", "content", "brand_reach",
                                        "reporting", "objectives_other", "org_size",
                                        "dedicated_possible")}
    cited.update(quantitative=facts.quantitative, collaboration=facts.collaboration,
                 linked=facts.linked, payer=facts.payer)
    return Recommendation(
        placement=top.place,
        runner_up=second.place if second and second.score >= CREDIBLE else None,
        scores=tuple(ranked),
        risks=tuple(risk.id for risk in RISKS if risk.applies(facts, home)),
        reframed=tuple(reframe(facts, o) for o in facts.objectives),
        facts=cited,
        budget=budget,
        tie=tie_rule(facts, top.place, second.place) if second and second.score == top.score else None,
        evidence=tuple(e for e, bears in EVIDENCE if bears(facts, home, budget.owner)),
        in_place=in_place,
    )
