"""What a schema cannot say about a flow: targets exist, every state is reachable and leads to the
confirm step, ids are unique, conditions read earlier answers and known options, every text is
written in every language, end-state ids are reserved.

These rules read the `Flow` as built (whatever its shape mistakes, which are the schema's to
report) and the document only for the lines errors point at. `load_flow` and `cmbot flows check`
apply the same ones, so a file that passes the check loads at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..i18n import LANGUAGES
from .conditions import Condition
from .model import Flow, Question
from .session import CANCELLED, DONE
from .source import DataPath, Document, FlowError, did_you_mean


def rule_errors(flow: Flow, doc: Document) -> list[FlowError]:
    return _Rules(flow, doc).run()


class _Rules:
    def __init__(self, flow: Flow, doc: Document):
        self.flow, self.doc = flow, doc
        self.errors: list[FlowError] = []
        data = doc.data if isinstance(doc.data, dict) else {}
        self.data = data
        nodes = data.get("states") if isinstance(data.get("states"), list) else []
        # Each state's place in the file (the first one, for a duplicated id).
        self.places: dict[str, int] = {}
        for index, node in enumerate(nodes):
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                self.places.setdefault(node["id"], index)
        self.nodes: list[Any] = nodes

    def error(self, where: DataPath, message: str, state: str | None = None, hint: str | None = None) -> None:
        self.errors.append(self.doc.error(where, message, state, hint))

    def at(self, state: str, *below: str | int) -> DataPath:
        return ("states", self.places[state], *below)

    def run(self) -> list[FlowError]:
        self.languages()
        self.translations((), self.data, ("title", "description"), None)
        for index, node in enumerate(self.nodes):
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                self.state_node(index, node)
        if self.flow.states:
            self.across_states()
        return self.errors

    # --- one state as written ---------------------------------------------------------------

    def languages(self) -> None:
        listed = self.data.get("languages")
        missing = [lang for lang in LANGUAGES if isinstance(listed, list) and listed and lang not in listed]
        if missing:
            self.error(("languages",), f"'languages' lacks {' and '.join(missing)}",
                       hint=f"cmbot asks every flow in {' and '.join(LANGUAGES)}; translate every text")

    def translations(self, where: DataPath, node: Mapping, keys: tuple[str, ...], state: str | None) -> None:
        for key in keys:
            text = node.get(key)
            if not isinstance(text, dict):
                continue  # absent (optional) or not a mapping (the schema says so)
            for lang in self.flow.languages:
                if not isinstance(text.get(lang), str) or not text[lang].strip():
                    self.error((*where, key), f"'{key}' has no {lang} text", state,
                               hint=f"add a non-empty '{lang}: ...' to this {key}")

    def state_node(self, index: int, node: Mapping) -> None:
        sid = node["id"]
        where: DataPath = ("states", index)
        if self.places[sid] != index:
            first = self.doc.line(self.at(sid))
            self.error(where, "duplicate state id", sid,
                       hint=f"another '{sid}' starts at line {first}; rename one of them")
        if sid in (DONE, CANCELLED):  # the machine's own end states
            self.error(where, f"'{sid}' is reserved for the end of an interview", sid,
                       hint=f"rename the state, e.g. '{sid}_step'")
        self.translations(where, node, ("prompt", "help"), sid)
        self.options(where, node.get("options"), sid)
        self.default_rule(where, node.get("next"), sid)

    def options(self, where: DataPath, options: Any, sid: str) -> None:
        seen: set[str] = set()
        for n, option in enumerate(options if isinstance(options, list) else []):
            if not isinstance(option, dict):
                continue
            self.translations((*where, "options", n), option, ("label",), sid)
            oid = option.get("id")
            if isinstance(oid, str) and oid in seen:
                self.error((*where, "options", n), f"duplicate option id '{oid}'", sid,
                           hint="give each option its own id")
            seen.add(str(oid))

    def default_rule(self, where: DataPath, rules: Any, sid: str) -> None:
        """A list of rules ends with the one with no `if`, which catches every other answer."""
        if not isinstance(rules, list):
            return
        items = [item for item in rules if isinstance(item, dict)]
        defaults = [n for n, item in enumerate(items) if "if" not in item]
        if items and not defaults:
            self.error(where, "the last 'next' entry must have no 'if' (the default)", sid,
                       hint="end the list with '- goto: a_state', for answers no condition matches")
        elif defaults and defaults[0] != len(items) - 1:
            self.error((*where, "next", defaults[0] + 1), "'next' entries after the one with no 'if' are "
                       "never used", sid, hint="put the entry with no 'if' last")

    # --- rules across states ----------------------------------------------------------------

    def across_states(self) -> None:
        flow = self.flow
        if "start" in self.data and flow.start not in flow.states:
            self.error(("start",), f"'start' names unknown state '{flow.start}'",
                       hint=did_you_mean(flow.start, flow.states) or "start: the id of the first question")
        confirms = [q.id for q in flow.states.values() if q.kind == "confirm"]
        if not confirms:
            self.error((), "a flow needs exactly one state of kind 'confirm' (its last step)",
                       hint="end with a state of kind confirm offering the options 'confirm' and 'edit'")
        for extra in confirms[1:]:
            self.error(self.at(extra), "a flow needs exactly one state of kind 'confirm'; this is a second "
                       "one", extra, hint=f"keep one confirm step ('{confirms[0]}') and make this a choice")
        for question in flow.states.values():
            self.offers(question)
            self.limits(question)
            self.targets(question)
        self.paths(confirms[0] if confirms else None)

    def offers(self, q: Question) -> None:
        """What a question offers fits its kind."""
        where = self.at(q.id)
        if q.kind in ("choice", "multi", "confirm") and not q.options and not q.options_from:
            self.error(where, "a choice needs 'options' or 'options_from'", q.id,
                       hint="options: [{id: ..., label: {en: ..., fr: ...}}], or options_from: a multi state")
        if q.kind in ("number", "text") and (q.options or q.options_from):
            self.error(where, f"a {q.kind} question shows no options", q.id,
                       hint="remove 'options'/'options_from', or make it kind choice")
        if q.kind == "confirm" and {o.id for o in q.options} != {"confirm", "edit"}:
            self.error(where, "a confirm state offers exactly 'confirm' and 'edit'", q.id,
                       hint="options: [{id: confirm, label: ...}, {id: edit, label: ...}]")
        if q.options_from:
            self.options_source(q, q.options_from)

    def options_source(self, q: Question, name: str) -> None:
        """`options_from` reads a multi question asked earlier."""
        source = self.flow.states.get(name)
        if source is None or source.kind != "multi":
            multis = [s for s, other in self.flow.states.items() if other.kind == "multi"]
            self.error(self.at(q.id), f"'options_from' must name a multi state, not '{name}'", q.id,
                       hint=did_you_mean(name, multis) or "name a multi question asked earlier")
        elif source.id == q.id or not _reaches(self.flow, source.id, q.id):
            self.error(self.at(q.id), f"'options_from' reads '{source.id}', which is not asked before "
                       "this state", q.id, hint="move the question, or read a multi question asked earlier")

    def limits(self, q: Question) -> None:
        where = self.at(q.id)
        if q.min is not None and q.max is not None and q.min > q.max:
            self.error(where, f"'min' ({q.min}) is above 'max' ({q.max})", q.id, hint="swap them")
        if q.min_length > q.max_length:
            self.error(where, f"'min_length' ({q.min_length}) is above 'max_length' ({q.max_length})", q.id,
                       hint="swap them")
        if q.kind == "multi" and not q.options_from and (q.min or 0) > len(q.options):
            self.error(where, f"'min' asks for {q.min} picks out of {len(q.options)} options", q.id,
                       hint="lower 'min' or add options")

    def targets(self, q: Question) -> None:
        for rule in q.next:
            if rule.goto not in self.flow.states:
                self.error(self.at(q.id), f"'next' goes to unknown state '{rule.goto}'", q.id,
                           hint=did_you_mean(rule.goto, self.flow.states) or "name a state of this flow")
            for leaf in _leaves(rule.when):
                self.reference(q, leaf)

    def reference(self, q: Question, leaf: Condition) -> None:
        """A condition reads this answer or an earlier one, with the test its kind allows,
        naming options it has."""
        where, ref = self.at(q.id), leaf.answer or ""
        target = self.flow.states.get(ref)
        if target is None:
            self.error(where, f"condition names unknown state '{ref}'", q.id,
                       hint=did_you_mean(ref, self.flow.states) or "a condition reads the answer of a state")
            return
        if ref != q.id and not _reaches(self.flow, ref, q.id):
            self.error(where, f"condition reads '{ref}', which is not asked before this state", q.id,
                       hint="a condition reads this state's answer or one given earlier")
        if leaf.op == "has" and target.kind != "multi":
            self.error(where, f"'has' reads a multi answer, but '{ref}' is a {target.kind} question", q.id,
                       hint=f"use {{answer: {ref}, is: ...}} or in: [...]")
        if leaf.op in ("is", "in") and target.kind == "multi":
            self.error(where, f"'{leaf.op}' never matches '{ref}', a multi question (its answer is a list)",
                       q.id, hint=f"use {{answer: {ref}, has: ...}}")
        self.named_options(q, leaf, target)

    def named_options(self, q: Question, leaf: Condition, target: Question) -> None:
        known = {o.id for o in target.options}
        if target.options_from in self.flow.states:
            known |= {o.id for o in self.flow.states[target.options_from].options}
        for value in leaf.values:
            if known and value not in known:
                listed = f"options of '{target.id}': {', '.join(sorted(known))}"
                self.error(self.at(q.id), f"condition names unknown option '{value}' of '{target.id}'", q.id,
                           hint=did_you_mean(value, known) or listed)

    def paths(self, confirm: str | None) -> None:
        flow = self.flow
        reachable = _walk(flow, flow.start) if flow.start in flow.states else set(flow.states)
        for sid in flow.states:
            if sid not in reachable:
                self.error(self.at(sid), "unreachable: no 'next' leads here", sid,
                           hint="point a 'next' of an earlier state here, or delete this state")
        if confirm is None:
            return
        for sid in flow.states:
            if not _leads_to(flow, sid, confirm):
                self.error(self.at(sid), "dead end: never reaches the confirm step", sid,
                           hint=f"every path must end at '{confirm}'; follow this state's 'next' (a loop?)")


def _leaves(condition: Condition | None) -> Iterator[Condition]:
    """The `is`/`in`/`has` tests inside a condition, however deeply nested."""
    if condition is None:
        return
    if condition.parts:
        for part in condition.parts:
            yield from _leaves(part)
    else:
        yield condition


def _walk(flow: Flow, start: str) -> set[str]:
    """Every state some answers can lead to from `start` (conditions ignored)."""
    seen, todo = {start}, [start]
    while todo:
        for rule in flow.states[todo.pop()].next:
            if rule.goto in flow.states and rule.goto not in seen:
                seen.add(rule.goto)
                todo.append(rule.goto)
    return seen


def _reaches(flow: Flow, start: str, goal: str) -> bool:
    return goal in _walk(flow, start)


def _leads_to(flow: Flow, start: str, confirm: str) -> bool:
    """Some path from `start` ends at the confirm step. A path through an unknown target or a
    state without 'next' counts as arriving: that mistake is reported once, where it is."""
    for sid in _walk(flow, start):
        q = flow.states[sid]
        if sid == confirm or (q.kind != "confirm" and not q.next):
            return True
        if any(rule.goto not in flow.states for rule in q.next):
            return True
    return False
