"""Flow files (YAML) -> a validated, immutable `Flow`.

A flow is plain data so people can change the interview without touching Python. Loading is
strict: any mistake is a `FlowError` naming the file, the state and the line, never a half-loaded
interview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .conditions import Condition, ConditionError, parse_condition

KINDS = ("choice", "multi", "number", "text", "confirm")
OUTCOMES = ("full", "objectives")
Text = Mapping[str, str]  # language -> sentence


class FlowError(ValueError):
    """A flow file that cannot be used; the message names the file, line and state."""

    def __init__(self, source: str, message: str, state: str | None = None, line: int | None = None):
        self.source, self.state, self.line, self.reason = source, state, line, message
        where = source + (f":{line}" if line else "")
        super().__init__(f"{where}: " + (f"state '{state}': " if state else "") + message)


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
    line: int | None = None


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: Text
    description: Text
    languages: tuple[str, ...]
    start: str
    outcome: str
    states: dict[str, Question] = field(hash=False)
    source: str = ""

    def question(self, state_id: str) -> Question:
        return self.states[state_id]

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

    def next_state(self, state_id: str, answers: Mapping[str, Any]) -> str | None:
        """Where the flow goes after `state_id` given `answers` (None after the last state)."""
        for rule in self.states[state_id].next:
            if rule.when is None or rule.when.holds(answers):
                return rule.goto
        return None

    def path(self, answers: Mapping[str, Any]) -> list[str]:
        """The states a person with these answers walks through, from start to the end."""
        seen: list[str] = []
        state: str | None = self.start
        while state is not None and state not in seen:
            seen.append(state)
            state = self.next_state(state, answers)
        return seen

    @property
    def questions(self) -> list[Question]:
        return [q for q in self.states.values() if q.kind != "confirm"]


# --- loading --------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, so errors can point at it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def builtin_flows_dir() -> Path:
    """Flows shipped in the wheel (`cmbot/flows`), or the repository's `flows/` in a checkout."""
    packaged = Path(str(resources.files("cmbot"))) / "flows"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "flows"


def load_flow(path: str | Path) -> Flow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlowError(str(path), f"cannot read the file ({exc.strerror})") from exc
    return parse_flow(text, str(path))


def parse_flow(text: str, source: str) -> Flow:
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else None
        raise FlowError(source, f"not valid YAML ({getattr(exc, 'problem', exc)})", line=line) from exc
    return _Parser(source).flow(raw)


class _Parser:
    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, state: str | None = None, node: Any = None) -> FlowError:
        line = node.get("__line__") if isinstance(node, Mapping) else None
        return FlowError(self.source, message, state, line)

    def flow(self, raw: Any) -> Flow:
        if not isinstance(raw, Mapping):
            raise self.fail("the file must be a mapping with id, version, languages and states")
        for key in ("id", "version", "languages", "start", "states"):
            if key not in raw:
                raise self.fail(f"missing '{key}'", node=raw)
        languages = tuple(raw["languages"]) if isinstance(raw["languages"], list) else ()
        if not languages:
            raise self.fail("'languages' must be a non-empty list, e.g. [en, fr]", node=raw)
        self.languages = languages
        if not isinstance(raw["version"], int):
            raise self.fail("'version' must be a whole number", node=raw)
        outcome = raw.get("outcome", "full")
        if outcome not in OUTCOMES:
            raise self.fail(f"'outcome' must be one of {', '.join(OUTCOMES)}", node=raw)
        if not isinstance(raw["states"], list) or not raw["states"]:
            raise self.fail("'states' must be a non-empty list", node=raw)
        states: dict[str, Question] = {}
        for node in raw["states"]:
            question = self.question(node)
            if question.id in states:
                raise self.fail("duplicate state id", question.id, node)
            states[question.id] = question
        flow = Flow(
            id=str(raw["id"]),
            version=raw["version"],
            title=self.text(raw, "title", None),
            description=self.text(raw, "description", None, required=False),
            languages=languages,
            start=str(raw["start"]),
            outcome=outcome,
            states=states,
            source=self.source,
        )
        self.check(flow, raw)
        return flow

    def text(self, node: Mapping, key: str, state: str | None, required: bool = True) -> Text:
        value = node.get(key)
        if value is None and not required:
            return {lang: "" for lang in self.languages}
        if not isinstance(value, Mapping):
            raise self.fail(f"'{key}' must give a text for each language", state, node)
        for lang in self.languages:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(f"'{key}' has no {lang} text", state, value)
        return {lang: value[lang] for lang in self.languages}

    def question(self, node: Any) -> Question:
        if not isinstance(node, Mapping) or "id" not in node:
            raise self.fail("every state needs an 'id'", node=node)
        sid = str(node["id"])
        kind = node.get("kind")
        if kind not in KINDS:
            raise self.fail(f"'kind' must be one of {', '.join(KINDS)}", sid, node)
        options = []
        for opt in node.get("options") or []:
            if not isinstance(opt, Mapping) or "id" not in opt:
                raise self.fail("every option needs an 'id'", sid, opt)
            oid = str(opt["id"])
            if any(o.id == oid for o in options):
                raise self.fail(f"duplicate option id '{oid}'", sid, opt)
            options.append(Option(oid, self.text(opt, "label", sid)))
        rules = self.rules(node, sid, kind)
        return Question(
            id=sid,
            kind=kind,
            prompt=self.text(node, "prompt", sid),
            help=self.text(node, "help", sid, required=False),
            options=tuple(options),
            options_from=node.get("options_from"),
            next=rules,
            min=node.get("min"),
            max=node.get("max"),
            min_length=node.get("min_length", 1),
            max_length=node.get("max_length", 500),
            unit=node.get("unit"),
            line=node.get("__line__"),
        )

    def rules(self, node: Mapping, sid: str, kind: str) -> tuple[Rule, ...]:
        raw = node.get("next")
        if kind == "confirm":
            if raw is not None:
                raise self.fail("a confirm state ends the flow and has no 'next'", sid, node)
            return ()
        if isinstance(raw, str):
            return (Rule(raw),)
        if not isinstance(raw, list) or not raw:
            raise self.fail("'next' must be a state id or a list of {if, goto}", sid, node)
        rules = []
        for item in raw:
            if not isinstance(item, Mapping) or "goto" not in item:
                raise self.fail("each 'next' entry needs a 'goto'", sid, item)
            try:
                when = parse_condition(item["if"]) if "if" in item else None
            except ConditionError as exc:
                raise self.fail(f"bad condition: {exc}", sid, item) from exc
            rules.append(Rule(str(item["goto"]), when))
        if rules[-1].when is not None:
            raise self.fail("the last 'next' entry must have no 'if' (the default)", sid, node)
        return tuple(rules)

    def check(self, flow: Flow, raw: Mapping) -> None:
        """Cross-state rules: targets exist, conditions make sense, everything is reachable."""
        nodes = {str(n.get("id")): n for n in raw["states"]}
        if flow.start not in flow.states:
            raise self.fail(f"'start' names unknown state '{flow.start}'", node=raw)
        confirms = [q.id for q in flow.states.values() if q.kind == "confirm"]
        if len(confirms) != 1:
            raise self.fail("a flow needs exactly one state of kind 'confirm' (its last step)", node=raw)
        for q in flow.states.values():
            node = nodes[q.id]
            if q.kind in ("choice", "multi", "confirm") and not q.options and not q.options_from:
                raise self.fail("a choice needs 'options' or 'options_from'", q.id, node)
            if q.options_from and (
                q.options_from not in flow.states or flow.states[q.options_from].kind != "multi"
            ):
                raise self.fail(f"'options_from' must name a multi state, not '{q.options_from}'",
                                q.id, node)
            if q.kind == "confirm" and {o.id for o in q.options} != {"confirm", "edit"}:
                raise self.fail("a confirm state offers exactly 'confirm' and 'edit'", q.id, node)
            for rule in q.next:
                if rule.goto not in flow.states:
                    raise self.fail(f"'next' goes to unknown state '{rule.goto}'", q.id, node)
                for ref_state, ref_values in rule.when.references() if rule.when else []:
                    self.check_reference(flow, q, node, ref_state, ref_values)
        reachable = {flow.start}
        todo = [flow.start]
        while todo:
            for rule in flow.states[todo.pop()].next:
                if rule.goto not in reachable:
                    reachable.add(rule.goto)
                    todo.append(rule.goto)
        for sid in flow.states:
            if sid not in reachable:
                raise self.fail("unreachable: no 'next' leads here", sid, nodes[sid])
        for sid in flow.states:
            if not self.reaches(flow, sid, confirms[0]):
                raise self.fail("dead end: never reaches the confirm step", sid, nodes[sid])

    def check_reference(self, flow: Flow, q: Question, node: Mapping, ref: str,
                        values: tuple[str, ...]) -> None:
        if ref not in flow.states:
            raise self.fail(f"condition names unknown state '{ref}'", q.id, node)
        target = flow.states[ref]
        known = {o.id for o in target.options}
        if target.options_from:
            known |= {o.id for o in flow.states[target.options_from].options}
        for value in values:
            if known and value not in known:
                raise self.fail(f"condition names unknown option '{value}' of '{ref}'", q.id, node)

    @staticmethod
    def reaches(flow: Flow, start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            sid = todo.pop()
            if sid == goal:
                return True
            for rule in flow.states[sid].next:
                if rule.goto not in seen:
                    seen.add(rule.goto)
                    todo.append(rule.goto)
        return False


def load_flows(extra_dir: str | Path | None = None) -> dict[str, Flow]:
    """Built-in flows, then the user's folder (`CMBOT_FLOWS`), which may override one by id."""
    flows: dict[str, Flow] = {}
    folders = [builtin_flows_dir()] + ([Path(extra_dir)] if extra_dir else [])
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            flow = load_flow(path)
            flows[flow.id] = flow
    return flows
