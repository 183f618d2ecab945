"""Answers in words (option labels, amounts), for summaries, exports and answered questions."""

from __future__ import annotations

from typing import Any

from ..i18n import amount, number, t
from .answers import Problem
from .model import Flow


def describe(flow: Flow, state_id: str, value: Any, lang: str) -> str:
    question = flow.states[state_id]
    if value is None:
        return t("export.no_answer", lang)
    if question.kind == "multi":
        return ", ".join(flow.label(state_id, v, lang) for v in value) or t("format.none", lang)
    if question.kind in ("choice", "confirm"):
        return flow.label(state_id, value, lang)
    if question.kind == "number" and question.unit == "currency":
        return amount(value, lang)
    return str(value)


def say_problem(problem: Problem, lang: str, flow: Flow | None = None,
                state_id: str | None = None) -> str:
    """A validation problem as a sentence; option ids become labels when the flow is known."""
    params: dict[str, Any] = {}
    for key, value in problem.params.items():
        if isinstance(value, list):
            labels = [flow.label(state_id, v, lang) if flow and state_id else v for v in value]
            value = ", ".join(labels)
        params[key] = value
    if "min" in params or "max" in params:
        params.setdefault("count", params.get("min", params.get("max")))
    for key in ("min", "max"):  # bounds as the person writes numbers: 1,000,000 / 1 000 000
        if isinstance(params.get(key), int) and not isinstance(params[key], bool):
            params[key] = number(params[key], lang)
    return t(problem.key, lang, **params)
