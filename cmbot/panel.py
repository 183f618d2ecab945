"""A panel consultation in words: the record kept with the consultation, the merge rule, the
members' table and the disagreements, in one language — what the terminal, the Markdown memo
and Slack show.

The stored record keeps the inputs (the organisation facts, each member's answers); the merge
is recomputed from them when shown, since it is pure and deterministic, while the merged
recommendation itself is the one stored with the consultation.
"""

from __future__ import annotations

from typing import Any

from .advisor.explain import place_label
from .advisor.panel import Disagreement, Member, PanelAdvice, Split, merge
from .i18n import catalogue, join, t
from .interview import Flow
from .interview.wording import describe
from .report import AloneAdvice, PanelDisagreement, PanelReport, PanelRow, PanelSplit, PanelVote


def record(advice: PanelAdvice, starter: str, langs: dict[str, str] | None = None
           ) -> dict[str, Any]:
    """What a consultation keeps of its panel: who, the facts, and each member's own answers."""
    return {"members": list(advice.members), "starter": starter,
            "organisation": advice.organisation, "opinions": advice.opinions,
            "langs": dict(langs or {})}


def remerge(panel: dict[str, Any], flow: Flow) -> PanelAdvice:
    members = [Member(name, panel["opinions"].get(name, {})) for name in panel["members"]]
    return merge(flow, panel["organisation"], members)


def topic(flow: Flow, state: str, lang: str) -> str:
    """A question's short name ("the host"), or its prompt for a flow cmbot has no name for."""
    key = f"panel.topic.{state}"
    return t(key, lang) if key in catalogue(lang) else flow.states[state].prompt[lang]


def rule_lines(advice: PanelAdvice, flow: Flow, starter: str, lang: str) -> list[str]:
    """The merge rule, said for the questions this panel actually merged."""
    facts = [topic(flow, s, lang) for s in advice.organisation if s in flow.states]
    lines = [t("panel.rule.organisation", lang, topics=join(facts, lang), starter=starter)] \
        if facts else []
    for rule in ("majority", "union", "median", "texts"):
        topics = [topic(flow, s.state, lang) for s in advice.splits if s.rule == rule]
        if topics:
            lines.append(t(f"panel.rule.{rule}", lang, topics=join(topics, lang)))
    return [_capital(line) for line in lines]


def _views(flow: Flow, disagreement: Disagreement, lang: str) -> str:
    def label(value: Any) -> str:
        if disagreement.id == "payer_disagreement":
            return t(f"panel.payer.{value}", lang) if value in ("management", "shared",
                                                                 "dedicated") \
                else place_label(value, lang)
        return place_label(value, lang)

    return t("panel.views_sep", lang).join(
        t("panel.view", lang, member=m, value=label(v)) for m, v in disagreement.views)


def disagreement_text(flow: Flow, disagreement: Disagreement, lang: str) -> PanelDisagreement:
    if disagreement.id == "objectives_conflict":
        volume = [m for m, v in disagreement.views if v]
        participation = [m for m, v in disagreement.views if not v]
        params = {"volume": join(volume, lang), "participation": join(participation, lang)}
    else:
        params = {"views": _views(flow, disagreement, lang)}
    return PanelDisagreement(disagreement.id, t(f"panel.risk.{disagreement.id}.title", lang),
                             t(f"panel.risk.{disagreement.id}.explain", lang, **params),
                             dict(disagreement.views))


def _cell(flow: Flow, state: str, answers: dict[str, Any], lang: str) -> str:
    return describe(flow, state, answers[state], lang) if state in answers \
        else t("panel.not_asked", lang)


def _merged_cell(flow: Flow, split_: Split | None, state: str, merged: dict[str, Any],
                 lang: str) -> str:
    text = _cell(flow, state, merged, lang)
    return t("panel.tie", lang, value=text) if split_ is not None and split_.tie else text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def table(advice: PanelAdvice, flow: Flow, lang: str) -> tuple[PanelRow, ...]:
    """One row per opinion: what each member said, what the panel keeps, and whether they differ."""
    splits = {s.state: s for s in advice.splits}
    states = [s for s in flow.states if any(s in a for a in advice.opinions.values())]
    return tuple(PanelRow(s, _capital(topic(flow, s, lang)),
                          {m: _cell(flow, s, advice.opinions[m], lang) for m in advice.members},
                          _merged_cell(flow, splits.get(s), s, advice.merged, lang),
                          s in advice.divergences)
                 for s in states)


def panel_report(panel: dict[str, Any], flow: Flow, lang: str) -> PanelReport:
    """The panel part of a consultation's report, words in `lang`."""
    advice = remerge(panel, flow)
    return PanelReport(
        members=tuple(advice.members),
        starter=panel.get("starter", ""),
        rule=tuple(rule_lines(advice, flow, panel.get("starter", ""), lang)),
        opinions=advice.opinions,
        table=table(advice, flow, lang),
        alone={m: AloneAdvice(p, place_label(p, lang)) for m, p in advice.alone.items()},
        divergences=tuple(advice.divergences),
        splits=tuple(PanelSplit(s.state, s.rule, s.value, s.tie,
                                tuple(PanelVote(v, tuple(who)) for v, who in s.votes))
                     for s in advice.splits),
        disagreements=tuple(disagreement_text(flow, d, lang) for d in advice.disagreements),
    )
