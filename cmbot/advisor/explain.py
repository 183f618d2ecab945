"""A `Recommendation` in words: every id turned into text from the catalogues, in one language.

Kept apart from the rules so the same stored advice can be shown in English or French.
"""

from __future__ import annotations

from typing import Any

from ..i18n import amount, join, t
from ..interview.model import Flow
from .model import Recommendation
from .rules import DEPARTMENTS


def place_label(place: str, lang: str) -> str:
    return t(f"place.{place}", lang)


def place_why(place: str, lang: str) -> str:
    if place in DEPARTMENTS:
        return t("place_why.department", lang, place=t(f"place_in.{place}", lang))
    return t(f"place_why.{place}", lang)


def risk_text(risk: str, rec: Recommendation, flow: Flow, lang: str) -> dict[str, str]:
    facts = rec.facts
    quantitative = [flow.label("objectives", o, lang) for o in facts.get("quantitative") or []]
    params: dict[str, Any] = {
        "quantitative": join([t("format.quote", lang, text=q) for q in quantitative], lang),
        "host": place_label(facts["proposed_host"], lang)
        if facts.get("proposed_host") in DEPARTMENTS else "",
        "amount": amount(facts.get("budget_amount") or 0, lang),
        "content": t(f"risk_words.content.{facts.get('content') or 'none'}", lang),
        "brand": t(f"risk_words.brand.{facts.get('brand_reach') or 'niche'}", lang),
        "reporting": t(f"risk_words.reporting.{facts.get('reporting') or 'none'}", lang),
        "count": len(facts.get("collaboration") or []),
    }
    params["host"] = params["host"][:1].upper() + params["host"][1:]
    return {
        "id": risk,
        "title": t(f"risk.{risk}.title", lang),
        "explanation": t(f"risk.{risk}.explain", lang, **params),
    }


def explain(rec: Recommendation, flow: Flow, lang: str) -> dict[str, Any]:
    """The advice as JSON-ready data with texts: what `--json`, Slack and exports show."""
    return {
        "placement": rec.placement,
        "placement_label": place_label(rec.placement, lang),
        "placement_why": place_why(rec.placement, lang),
        "runner_up": rec.runner_up,
        "runner_up_label": place_label(rec.runner_up, lang),
        "scores": [
            {
                "place": s.place,
                "label": place_label(s.place, lang),
                "score": s.score,
                "eligible": s.eligible,
                "reasons": [
                    {"text": t(f"reason.{r.key}", lang), "points": r.points}
                    for r in s.reasons
                ],
            }
            for s in rec.scores
        ],
        "risks": list(rec.risks),
        "risk_details": [risk_text(r, rec, flow, lang) for r in rec.risks],
        "reframed": [
            {
                "from": r.objective,
                "from_label": r.text if r.objective == "other" and r.text
                else flow.label("objectives", r.objective, lang),
                "to": t(f"reframe.{r.objective}.to", lang, text=r.text or ""),
                "indicators": t(f"reframe.{r.objective}.indicators", lang),
                "why": t(f"reframe.{r.objective}.why", lang),
            }
            for r in rec.reframed
        ],
    }
