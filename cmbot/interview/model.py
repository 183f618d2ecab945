"""What a flow is, once loaded: immutable values the engine, the advisor and the front doors read.

Loading and checking live apart (`loader.py`, `check.py`); where answers lead is the machine's
business (`machine.py`), so these values carry no path logic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import Condition

Text = Mapping[str, str]  # language -> sentence


@dataclass(frozen=True)
class Option:
    id: str
    label: Text


@dataclass(frozen=True)
class Rule:
    goto: str
    when: Condition | None = None


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: Text
    help: Text
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    next: tuple[Rule, ...] = ()
    min: int | None = None
    max: int | None = None
    min_length: int = 1
    max_length: int = 500
    unit: str | None = None
    scope: str = "person"  # in a panel: "organisation" is a fact asked once, "person" an opinion


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: Text
    description: Text
    languages: tuple[str, ...]
    start: str
    outcome: str  # "full": placement, budget, risks and objectives; "objectives": only those
    states: dict[str, Question] = field(hash=False)

    @property
    def full_advice(self) -> bool:
        """Whether a consultation of this flow shows the whole advice, not only objectives."""
        return self.outcome == "full"

    def options(self, question: Question, answers: Mapping[str, Any]) -> list[Option]:
        """The options offered now: those picked in `options_from`, then the fixed ones."""
        offered: list[Option] = []
        if question.options_from:
            source = self.states[question.options_from]
            picked = answers.get(source.id) or []
            offered = [o for o in source.options if o.id in picked]
        return offered + list(question.options)

    def label(self, state_id: str, option_id: str, lang: str) -> str:
        """The label of an option wherever it is defined (own options or `options_from`)."""
        question = self.states[state_id]
        pools = [question.options]
        if question.options_from:
            pools.append(self.states[question.options_from].options)
        for pool in pools:
            for option in pool:
                if option.id == option_id:
                    return option.label[lang]
        return option_id

    @property
    def questions(self) -> list[Question]:
        return [q for q in self.states.values() if q.kind != "confirm"]

    @property
    def confirm(self) -> str:
        """The id of the confirm step (a loaded flow has exactly one)."""
        return next(q.id for q in self.states.values() if q.kind == "confirm")
