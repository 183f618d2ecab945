"""Panel consultations: several stakeholders answer on their own; one merged advice shows where
they disagree.

The article's argument is a conflict between departments — whoever pays sets the targets — so a
placement is negotiated between their heads. Merging their answers must not hide that conflict:
every rule below is stated in the memo, the split behind each merged answer is kept, and the
disagreements that matter (who pays, who hosts, volume or participation) become risks of their
own. The merged answers then go through the same advisor as one person's answers, so a
unanimous panel gets exactly the advice one person would.

Pure functions: no Slack, terminal or storage here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median_low
from typing import Any

from ..interview.engine import Interview
from ..interview.model import Flow
from .advise import advise
from .model import Recommendation

# The states whose merged value is "not settled" when the panel is evenly split: a tie between
# two hosts or two payers is no decision, and the advice is then built on an open question
# rather than on whoever happened to be listed first.
UNSETTLED = {"proposed_host": "undecided", "current_host": "undecided",
             "budget_owner": "unknown", "dedicated_possible": "maybe"}


@dataclass(frozen=True)
class Member:
    """One stakeholder and their own answers (opinions only; facts come from the organisation)."""

    name: str
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class Split:
    """How the panel answered one question and what the merge kept.

    `votes` pairs each distinct answer (or, for several-answer questions, each picked option)
    with the members who gave it; `tie` says the even-split rule chose `value`."""

    state: str
    rule: str
    value: Any
    votes: tuple[tuple[Any, tuple[str, ...]], ...]
    tie: bool = False


@dataclass(frozen=True)
class Disagreement:
    """A disagreement risk: `views` says what each member who took a side wants."""

    id: str
    views: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class PanelAdvice:
    members: tuple[str, ...]
    organisation: dict[str, Any]
    opinions: dict[str, dict[str, Any]]
    merged: dict[str, Any]
    splits: tuple[Split, ...]
    divergences: tuple[str, ...]
    disagreements: tuple[Disagreement, ...]
    recommendation: Recommendation
    alone: dict[str, str]  # the placement each member's own answers would get

    @property
    def risks(self) -> tuple[str, ...]:
        """The advisor's risks on the merged answers, then the panel's disagreements."""
        return (*self.recommendation.risks, *(d.id for d in self.disagreements))


def organisation_states(flow: Flow) -> list[str]:
    """The flow's organisation facts (`scope: organisation`), in its order: asked once, of the
    person who started the panel. Every other question is an opinion, asked of every member."""
    return [s for s, q in flow.states.items() if q.scope == "organisation"]


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _option_order(flow: Flow, state: str, answers: Mapping[str, Any]) -> list[str]:
    question = flow.states[state]
    return [o.id for o in flow.options(question, answers)]


def _ranked(order: list[str], values: Sequence[Any]) -> list[Any]:
    """Distinct values in the question's order (unknown ones last, sorted), never input order."""
    known = [v for v in order if v in values]
    return known + sorted({str(v) for v in values if v not in order})


def _choice(flow: Flow, state: str, given: dict[str, Any], context: Mapping[str, Any]) -> Split:
    order = _option_order(flow, state, context)
    options = _ranked(order, list(given.values()))
    votes = tuple((o, tuple(m for m, v in given.items() if v == o)) for o in options)
    top = max(len(who) for _, who in votes)
    leaders = [o for o, who in votes if len(who) == top]
    if len(leaders) == 1:
        return Split(state, "majority", leaders[0], votes)
    fallback = UNSETTLED.get(state)
    value = fallback if fallback in order else leaders[0]
    return Split(state, "majority", value, votes, tie=True)


def _union(flow: Flow, state: str, given: dict[str, Any], context: Mapping[str, Any]) -> Split:
    picked = [o for value in given.values() for o in value or []]
    options = _ranked(_option_order(flow, state, context), picked)
    votes = tuple((o, tuple(m for m, v in given.items() if o in (v or []))) for o in options)
    return Split(state, "union", [o for o, _ in votes], votes)


def _median(state: str, given: dict[str, Any]) -> Split:
    values = sorted(set(given.values()))
    votes = tuple((v, tuple(m for m, x in given.items() if x == v)) for v in values)
    return Split(state, "median", median_low(list(given.values())), votes)


def _texts(state: str, given: dict[str, Any]) -> Split:
    texts = sorted({str(v) for v in given.values()}, key=lambda s: (s.casefold(), s))
    votes = tuple((s, tuple(m for m, v in given.items() if str(v) == s)) for s in texts)
    return Split(state, "texts", " / ".join(texts), votes)


def split(flow: Flow, state: str, given: dict[str, Any], context: Mapping[str, Any]) -> Split:
    """Merge the members' answers to one question (`given`: member -> answer) by its kind's rule.

    Every rule depends on who said what, never on the order the members are listed in."""
    kind = flow.states[state].kind
    if kind == "choice":
        return _choice(flow, state, given, context)
    if kind == "multi":
        return _union(flow, state, given, context)
    if kind == "number":
        return _median(state, given)
    return _texts(state, given)


def _opinion_states(flow: Flow, members: Sequence[Member]) -> list[str]:
    answered = {s for m in members for s in m.answers}
    return [s for s in flow.states if s in answered and flow.states[s].kind != "confirm"]


def _payer(answers: Mapping[str, Any]) -> str | None:
    """Who actually pays in a member's view: `host` means the host they named. None: no view."""
    owner = answers.get("budget_owner")
    if owner == "host":
        host = answers.get("proposed_host") or answers.get("current_host")
        return None if host in (None, "undecided") else host
    return None if owner in (None, "unknown") else owner


def _host(answers: Mapping[str, Any]) -> str | None:
    host = answers.get("proposed_host", answers.get("current_host"))
    return None if host in (None, "undecided") else host


def _views(members: Sequence[Member], view: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((m.name, v) for m in members if (v := view(m)) is not None)


def disagreements(organisation: Mapping[str, Any], members: Sequence[Member]
                  ) -> tuple[Disagreement, ...]:
    """The disagreements that decide the role's fate, in the article's terms.

    Someone who does not know (an unknown payer, an undecided host) takes no side. Volume or
    participation is read the way the advisor reads objectives (free text included)."""
    found: list[Disagreement] = []
    for risk, view in (("payer_disagreement", lambda m: _payer(m.answers)),
                       ("host_disagreement", lambda m: _host(m.answers))):
        views = _views(members, view)
        if len({v for _, v in views}) > 1:
            found.append(Disagreement(risk, views))

    def volume(m: Member) -> bool | None:
        if not m.answers.get("objectives"):
            return None
        return bool(advise({**organisation, **m.answers}).facts.get("quantitative"))

    views = _views(members, volume)
    if len({v for _, v in views}) > 1:
        found.append(Disagreement("objectives_conflict", views))
    return tuple(found)


def merge(flow: Flow, organisation: Mapping[str, Any], members: Sequence[Member]) -> PanelAdvice:
    """The panel's merged answers and advice.

    `organisation` holds the facts (asked once); each member's `answers` their opinions. The
    merged answers keep only the states a person with those answers would have been asked, so
    they read like one person's answers and go through `advise` unchanged."""
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise ValueError(f"a panel member is listed twice: {names}")
    merged: dict[str, Any] = dict(organisation)
    splits: list[Split] = []
    divergences: list[str] = []
    for state in _opinion_states(flow, members):
        given = {m.name: m.answers[state] for m in members if state in m.answers}
        merged_split = split(flow, state, given, merged)
        splits.append(merged_split)
        merged[state] = merged_split.value
        if len({_key(m.answers.get(state)) for m in members}) > 1:
            divergences.append(state)
    merged = {s: merged[s] for s in Interview(flow).path(merged) if s in merged}
    return PanelAdvice(
        members=tuple(names),
        organisation=dict(organisation),
        opinions={m.name: dict(m.answers) for m in members},
        merged=merged,
        splits=tuple(s for s in splits if s.state in merged),
        divergences=tuple(divergences),
        disagreements=disagreements(organisation, members),
        recommendation=advise(merged, in_place=not flow.full_advice),
        alone={m.name: advise({**organisation, **m.answers}).placement for m in members},
    )
