"""A `Recommendation` in words: every id turned into text from the catalogues, in one language.

Kept apart from the rules so the same stored advice can be shown in English or French. Advice
on a role already in place (`rec.in_place`) speaks in the present tense: a message key with a
`_now` twin is read from the twin.
"""

from __future__ import annotations

from typing import Any

from ..i18n import catalogue, join, t
from ..interview.model import Flow
from .model import Budget, Recommendation, Reframe
from .rules import BUSINESS, DEPARTMENTS
from .words import (
    Advice,
    Evidence,
    Funding,
    Placement,
    ReasonLine,
    ReframeText,
    RiskText,
    RunnerUp,
    ScoreLine,
)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def inline(text: str) -> str:
    """A label inside a sentence, after a colon: « Rattachement recommandé : la direction générale »."""
    return text[:1].lower() + text[1:]


def place_label(place: str | None, lang: str) -> str:
    return t(f"place.{place}", lang) if place else t("advice.no_alternative_short", lang)


def place_why(place: str, lang: str, facts: dict[str, Any] | None = None) -> str:
    facts = facts or {}
    if place in DEPARTMENTS:
        return t("place_why.department", lang, place=t(f"place_in.{place}", lang))
    if place == "dedicated" and facts.get("dedicated_possible") == "maybe":
        return t("place_why.dedicated_maybe", lang)
    if place == "management" and facts.get("org_size") == "micro":
        return t("place_why.management_micro", lang)
    return t(f"place_why.{place}", lang)


def say(key: str, lang: str, in_place: bool, **params: Any) -> Any:
    """`key`, or its present-tense twin `key_now` for a role already in place."""
    if in_place and f"{key}_now" in catalogue(lang):
        key = f"{key}_now"
    return t(key, lang, **params)


def objective_label(objective: str, facts: dict[str, Any], flow: Flow, lang: str) -> str:
    if objective == "other" and facts.get("objectives_other"):
        return str(facts["objectives_other"])
    return flow.label("objectives", objective, lang)


def risk_params(rec: Recommendation, flow: Flow, lang: str) -> dict[str, Any]:
    facts = rec.facts
    quantitative = [objective_label(o, facts, flow, lang) for o in facts.get("quantitative") or []]
    host = facts.get("proposed_host")
    business = next((p for p in (host, facts.get("payer"), rec.placement) if p in BUSINESS), None)
    linked = facts.get("linked") or []
    return {
        "quantitative": join([t("format.quote", lang, text=q) for q in quantitative], lang),
        "count": len(quantitative),
        "business": t(f"place_in.{business}", lang) if business else "",
        "host": place_label(host, lang) if host in DEPARTMENTS else "",
        "content": t(f"risk_words.content.{facts.get('content')}", lang)
        if facts.get("content") in ("none", "little") else "",
        "brand": t(f"risk_words.brand.{facts.get('brand_reach') or 'niche'}", lang),
        "reporting": t(f"risk_words.reporting.{facts.get('reporting') or 'none'}", lang),
        "linked": join([t(f"place_with.{d}", lang) for d in linked], lang),
    }


def risk_text(risk: str, rec: Recommendation, flow: Flow, lang: str) -> RiskText:
    params = risk_params(rec, flow, lang)
    key = f"risk.{risk}.explain"
    if risk == "isolated_role" and not rec.facts.get("linked"):
        key = f"risk.{risk}.explain_none"
    return RiskText(risk, say(f"risk.{risk}.title", lang, rec.in_place),
                    say(key, lang, rec.in_place, **params))


def budget_words(budget: Budget, lang: str, in_place: bool) -> Funding:
    """The payer, and the reasoning from "whoever pays sets the targets"."""
    home = budget.home
    params = {
        "home": place_label(home, lang),
        "home_of": t(f"place_of.{home}", lang) if home in DEPARTMENTS else "",
        "home_in": t(f"place_in.{home}", lang) if home in DEPARTMENTS else "",
        "payer": t(f"place_of.{budget.payer}", lang) if budget.payer in DEPARTMENTS else "",
    }
    label = t(f"budget.owner.{budget.owner}", lang, **params)
    why = [say(f"budget.why.{budget.case}", lang, in_place, **params),
           say(f"budget.named.{budget.named}", lang, in_place, **params)]
    if budget.zero:
        why.append(t("budget.zero", lang))
    return Funding(budget.owner, cap(label), t("budget.line", lang, label=inline(label)),
                   " ".join(why))


def tie_text(rec: Recommendation, lang: str) -> str | None:
    if rec.tie is None:
        return None
    first = next(s for s in rec.scores if s.place == rec.placement)
    second = next(s for s in rec.scores if s.eligible and s.place != rec.placement)
    return t(f"tie.{rec.tie}", lang, first=cap(place_label(first.place, lang)),
             second=inline(place_label(second.place, lang)), score=first.score)


def reframe_words(item: Reframe, facts: dict[str, Any], flow: Flow, lang: str) -> ReframeText:
    key = f"reframe_other.{item.theme}" if item.objective == "other" and item.theme else \
        f"reframe.{item.objective}"
    text = item.text or ""
    return ReframeText(item.objective, objective_label(item.objective, facts, flow, lang),
                       t(f"{key}.to", lang, text=text), t(f"{key}.gain", lang, text=text),
                       tuple(t(f"{key}.indicators", lang)), t(f"{key}.why", lang),
                       item.theme, item.quantitative)


def explain(rec: Recommendation, flow: Flow, lang: str) -> Advice:
    """The advice in words: what `--json`, Slack and exports show."""
    scores = {s.place: s.score for s in rec.scores}
    label = place_label(rec.placement, lang)
    runner_up = (t("advice.runner_up_line", lang, runner_up=inline(place_label(rec.runner_up, lang)))
                 if rec.runner_up else t("advice.no_runner_up", lang))
    return Advice(
        placement=Placement(rec.placement, label,
                            t("advice.placement_line", lang, placement=inline(label)),
                            place_why(rec.placement, lang, rec.facts), scores[rec.placement],
                            rec.tie, tie_text(rec, lang)),
        runner_up=RunnerUp(rec.runner_up, place_label(rec.runner_up, lang), runner_up,
                           scores.get(rec.runner_up) if rec.runner_up else None),
        funding=budget_words(rec.budget, lang, rec.in_place) if rec.budget else None,
        scores=tuple(ScoreLine(s.place, place_label(s.place, lang), s.score, s.eligible,
                               tuple(ReasonLine(t(f"reason.{r.key}", lang), r.points)
                                     for r in s.reasons))
                     for s in rec.scores),
        risks=tuple(risk_text(r, rec, flow, lang) for r in rec.risks),
        reframed=tuple(reframe_words(r, rec.facts, flow, lang) for r in rec.reframed),
        evidence=tuple(Evidence(e, t(f"evidence.{e}.text", lang), t(f"evidence.{e}.source", lang))
                       for e in rec.evidence),
    )
