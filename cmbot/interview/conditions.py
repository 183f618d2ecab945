"""Declarative branching conditions read from flow files (no `eval`).

A condition is a small mapping, so flow authors can write branches without code:
``{answer: S, is: X}``, ``{answer: S, in: [X, Y]}``, ``{answer: S, has: X}`` (multi answers),
``{not: C}``, ``{all: [C, ...]}``, ``{any: [C, ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Condition:
    op: str  # "is" | "in" | "has" | "not" | "all" | "any"
    answer: str | None = None
    values: tuple[str, ...] = ()
    parts: tuple[Condition, ...] = ()

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """True when the condition is met by `answers` (state id -> value); missing is False."""
        if self.op == "not":
            return not self.parts[0].holds(answers)
        if self.op == "all":
            return all(p.holds(answers) for p in self.parts)
        if self.op == "any":
            return any(p.holds(answers) for p in self.parts)
        value = answers.get(self.answer)
        if value is None:
            return False
        if self.op == "has":
            return isinstance(value, list) and self.values[0] in value
        return str(value) in self.values  # "is" and "in"


def parse_condition(raw: Mapping[str, Any]) -> Condition:
    """A condition mapping, as the flow schema's `condition` shape allows it, as a `Condition`."""
    if "not" in raw:
        return Condition("not", parts=(parse_condition(raw["not"]),))
    for op in ("all", "any"):
        if op in raw:
            return Condition(op, parts=tuple(parse_condition(part) for part in raw[op]))
    op = next(key for key in ("is", "in", "has") if key in raw)
    values = raw[op] if op == "in" else [raw[op]]
    return Condition(op, answer=str(raw["answer"]), values=tuple(str(v) for v in values))
