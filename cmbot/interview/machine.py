"""A flow as `transitions` data: its states, and one `answer` trigger whose transitions carry the
flow's branching as conditions.

This is the one place a flow's path is decided. The engine builds its live machine from these
transitions (adding the callbacks that record answers), `cmbot flows graph` draws them with
transitions' diagrams extension, and `walk` follows them to tell which questions a person with
given answers meets — for "question 4 of 12", the summary, and forgetting answers that fell off
the path. Nothing else re-derives where an answer leads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from .conditions import Condition
from .model import Flow
from .session import DONE

ANSWER = "answer"


@dataclass(frozen=True)
class Holds:
    """A flow condition as a `transitions` condition: true when the model's answers meet it.

    Its `__name__` is the condition as the author wrote it, which is what transitions' diagrams
    print next to the transition."""

    condition: Condition

    @property
    def __name__(self) -> str:
        return describe(self.condition)

    def __call__(self, event: EventData) -> bool:
        return self.condition.holds(event.model.values())


def confirmed(event: EventData) -> bool:
    """The confirm step's answer ends the interview only when it is "confirm" (not "edit")."""
    return event.kwargs["answer"].value == "confirm"


def answer_transitions(flow: Flow) -> list[dict[str, Any]]:
    """The `answer` transitions of a flow, in the flow's order: for each question, its `next`
    rules (the first whose conditions hold wins), and the confirm step's way to `done`."""
    found: list[dict[str, Any]] = []
    for question in flow.states.values():
        if question.kind == "confirm":
            found.append({"trigger": ANSWER, "source": question.id, "dest": DONE, "conditions": [confirmed]})
        for rule in question.next:
            conditions = [Holds(rule.when)] if rule.when else []
            found.append({"trigger": ANSWER, "source": question.id, "dest": rule.goto,
                          "conditions": conditions})
    return found


class _Answers:
    """The model `walk` moves: only the answers that conditions read."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = values

    def values(self) -> Mapping[str, Any]:
        return self._values


def walk(machine: Machine, start: str, stop: str, values: Mapping[str, Any]) -> list[str]:
    """The states a person with `values` goes through from `start` to `stop` (or a loop's end),
    as the machine's `answer` transitions and their conditions decide."""
    answer = machine.events[ANSWER]  # its `transitions`: source state -> transitions, in order
    event = EventData(None, answer, machine, _Answers(values), args=(), kwargs={})
    path: list[str] = []
    state: str | None = start
    while state is not None and state not in path:
        path.append(state)
        if state == stop:
            break
        state = next((t.dest for t in answer.transitions.get(state, [])
                      if all(c.check(event) for c in t.conditions)), None)
    return path


def describe(condition: Condition, nested: bool = False) -> str:
    """`objectives has other`, `size in small, large`, `not (a is x)`, `a is x and b has y`."""
    if condition.op == "not":
        return f"not ({describe(condition.parts[0])})"
    if condition.op in ("all", "any"):
        joined = (" and " if condition.op == "all" else " or ").join(
            describe(p, nested=True) for p in condition.parts)
        return f"({joined})" if nested and len(condition.parts) > 1 else joined
    return f"{condition.answer} {condition.op} {', '.join(condition.values)}"


def mermaid(flow: Flow) -> str:
    """The flow's `answer` transitions drawn by transitions' diagrams extension, as Mermaid text
    (conditions as written, `answer [confirmed]` to `done`).

    A fresh graph of the machine rather than its model's: no state is highlighted as current.
    Imported here, not at start-up: diagrams are for authors, never needed while serving."""
    from transitions.extensions import GraphMachine

    machine = GraphMachine(states=[*flow.states, DONE], initial=flow.start, auto_transitions=False,
                           transitions=answer_transitions(flow), graph_engine="mermaid",
                           show_conditions=True, title=flow.id, send_event=True)
    drawn = str(machine.graph_cls(machine).get_graph().draw(None))
    return "".join(line.rstrip() + "\n" for line in drawn.splitlines())
