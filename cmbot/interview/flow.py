"""Flow files (YAML) -> a validated, immutable `Flow`.

A flow is plain data so people can change the interview without touching Python. Loading is
strict: any mistake is a `FlowError` naming the file, the state and the line, never a half-loaded
interview. The parser notes every problem rather than stopping at the first, so the same rules
serve `load_flow` (raises the first) and `cmbot flows check` (lists them all, see `check.py`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..i18n import LANGUAGES
from .conditions import Condition, ConditionError, parse_condition
from .model import KINDS, OUTCOMES, RESERVED, Flow, Option, Question, Rule, Text


class FlowError(ValueError):
    """A flow file that cannot be used: `FILE:LINE: state 'X': reason (hint: …)`."""

    def __init__(self, source: str, message: str, state: str | None = None, line: int | None = None,
                 hint: str | None = None, structural: bool = False):
        self.source, self.state, self.line, self.reason, self.hint = source, state, line, message, hint
        # A shape mistake the JSON Schema reports too; the checker then shows the schema's words.
        self.structural = structural
        where = source + (f":{line}" if line else "")
        text = f"{where}: " + (f"state '{state}': " if state else "") + message
        super().__init__(text + (f" (hint: {hint})" if hint else ""))


# --- loading --------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, so errors can point at it, and of
    each top-level key (`__keys__`), so "start names unknown state" points at `start:`."""

    def construct_document(self, node: yaml.Node) -> Any:
        self.root = node
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        if node is getattr(self, "root", None):
            mapping["__keys__"] = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        return mapping


def builtin_flows_dir() -> Path:
    """Flows shipped in the wheel (`cmbot/flows`), or the repository's `flows/` in a checkout."""
    packaged = Path(str(resources.files("cmbot"))) / "flows"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "flows"


def flow_files(folder: str | Path) -> list[Path]:
    """A folder's flow files in the order `load_flows` reads them (a later id wins)."""
    folder = Path(folder)
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def read_flow_text(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FlowError(str(path), f"cannot read the file ({reason})",
                        hint="give the path of a UTF-8 YAML file") from exc


def load_flow(path: str | Path) -> Flow:
    """A flow ready to run, or the first `FlowError` (`cmbot flows check` lists all of them)."""
    return parse_flow(read_flow_text(path), str(Path(path)))


def parse_flow(text: str, source: str) -> Flow:
    flow, problems = inspect_flow(text, source)
    if problems:
        raise problems[0]
    assert flow is not None
    return flow


def inspect_flow(text: str, source: str) -> tuple[Flow | None, list[FlowError]]:
    """Every problem of a flow file, in the order found; the `Flow` only when there is none."""
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        error = FlowError(source, f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
                          line=mark.line + 1 if mark else None, hint=YAML_HINT)
        return None, [error]
    parser = _Parser(source)
    flow = parser.flow(raw)
    return (None if parser.errors else flow), parser.errors


YAML_HINT = "check the indentation, and quote values that contain ': ' or start with { [ * & ! | >"
CONDITION_SYNTAX = ("{answer: STATE, is: OPTION}, {answer: STATE, in: [OPTION, ...]}, "
                    "{answer: STATE, has: OPTION}, {not: COND}, {all: [COND, ...]} or {any: [COND, ...]}")
TOP_HINTS = {
    "id": "id: my_flow (what `cmbot chat --flow` takes)",
    "version": "version: 1 (raise it when you change the questions)",
    "languages": "languages: [en, fr]",
    "title": "title: {en: ..., fr: ...}",
    "start": "start: the id of the first question",
    "states": "states: a list of questions, the last of kind confirm",
}


def _line(node: Any, key: str | None = None) -> int | None:
    if not isinstance(node, Mapping):
        return None
    return node.get("__keys__", {}).get(key) or node.get("__line__")


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """A hint for a probable typo: the nearest known id, if one is close."""
    match = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean '{match[0]}'?" if match else None


def _leaves(condition: Condition | None) -> Iterator[Condition]:
    """The `is`/`in`/`has` tests inside a condition, however deeply nested."""
    if condition is None:
        return
    if condition.parts:
        for part in condition.parts:
            yield from _leaves(part)
    else:
        yield condition


ID = re.compile(r"[A-Za-z0-9_]+")  # safe in Slack block ids, option values and Mermaid diagrams
ID_HINT = "ids use letters, digits and _; quote yes/no/on/off, which YAML reads as true/false"


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Parser:
    """Reads a flow file's data, noting every problem instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.errors: list[FlowError] = []
        self.languages: tuple[str, ...] = LANGUAGES

    def error(self, message: str, state: str | None = None, node: Any = None, hint: str | None = None,
              structural: bool = False, key: str | None = None) -> None:
        self.errors.append(FlowError(self.source, message, state, _line(node, key), hint, structural))

    def flow(self, raw: Any) -> Flow | None:
        if not isinstance(raw, Mapping):
            self.error("the file must be a mapping with id, version, languages, title, start and states",
                       hint="start from the minimal flow in the README", structural=True)
            return None
        for key, hint in TOP_HINTS.items():
            if key not in raw:
                self.error(f"missing '{key}'", node=raw, hint=hint, structural=True)
        if "id" in raw and not _is_id(raw["id"]):
            self.error(f"flow id {raw['id']!r} is not a valid id", node=raw, hint=ID_HINT, structural=True,
                       key="id")
        self.read_languages(raw)
        version = raw.get("version", 0)
        if not _whole(version):
            self.error("'version' must be a whole number", node=raw, hint="version: 1", structural=True,
                       key="version")
            version = 0
        outcome = raw.get("outcome", "full")
        if outcome not in OUTCOMES:
            self.error(f"'outcome' must be one of {', '.join(OUTCOMES)}", node=raw, structural=True,
                       key="outcome", hint="full (placement, scores, risks, objectives) or objectives "
                                           "(risks and objectives only)")
        states, nodes = self.states(raw)
        flow = Flow(
            id=str(raw.get("id", "")),
            version=version,
            title=self.text(raw, "title", None) if "title" in raw else {},
            description=self.text(raw, "description", None, required=False),
            languages=self.languages,
            start=str(raw.get("start", "")),
            outcome=str(outcome),
            states=states,
            source=self.source,
        )
        if states:
            self.check(flow, nodes, raw)
        return flow

    def read_languages(self, raw: Mapping) -> None:
        if "languages" not in raw:
            return
        languages = raw["languages"]
        if not isinstance(languages, list) or not languages or not all(map(_is_id, languages)):
            self.error("'languages' must be a non-empty list, e.g. [en, fr]", node=raw, key="languages",
                       hint="languages: [en, fr]", structural=True)
            return
        self.languages = tuple(languages)
        missing = [lang for lang in LANGUAGES if lang not in languages]
        if missing:
            self.error(f"'languages' lacks {' and '.join(missing)}", node=raw, key="languages",
                       hint=f"cmbot asks every flow in {' and '.join(LANGUAGES)}; translate every text")

    def text(self, node: Mapping, key: str, state: str | None, required: bool = True) -> Text:
        value = node.get(key)
        if value is None and not required:
            return {lang: "" for lang in self.languages}
        if not isinstance(value, Mapping):
            example = ", ".join(f"{lang}: ..." for lang in self.languages)
            self.error(f"'{key}' must give a text for each language", state, node,
                       hint=f"{key}: {{{example}}}", structural=True)
            return {lang: "" for lang in self.languages}
        for lang in self.languages:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.error(f"'{key}' has no {lang} text", state, value,
                           hint=f"add a non-empty '{lang}: ...' to this {key}")
        return {lang: str(value.get(lang) or "") for lang in self.languages}

    def states(self, raw: Mapping) -> tuple[dict[str, Question], dict[str, Mapping]]:
        states: dict[str, Question] = {}
        nodes: dict[str, Mapping] = {}
        items = raw.get("states")
        if not isinstance(items, list) or not items:
            if "states" in raw:
                self.error("'states' must be a non-empty list", node=raw, hint=TOP_HINTS["states"],
                           key="states", structural=True)
            return states, nodes
        for node in items:
            question = self.question(node)
            if question is None:
                continue
            if question.id in states:
                self.error("duplicate state id", question.id, node,
                           hint=f"another '{question.id}' starts at line {_line(nodes[question.id])}; "
                                "rename one of them")
                continue
            states[question.id], nodes[question.id] = question, node
        return states, nodes

    def question(self, node: Any) -> Question | None:
        if not isinstance(node, Mapping) or not _is_id(node.get("id")):
            has_id = isinstance(node, Mapping) and "id" in node
            message = f"state id {node['id']!r} is not a valid id" if has_id else "every state needs an 'id'"
            self.error(message, node=node, structural=True,
                       hint=f"begin each state with '- id: some_name'; {ID_HINT}")
            return None
        sid = node["id"]
        if sid in RESERVED:
            self.error(f"'{sid}' is reserved for the end of an interview", sid, node,
                       hint=f"rename the state, e.g. '{sid}_step'")
        kind = node.get("kind")
        if kind not in KINDS:
            self.error(f"'kind' must be one of {', '.join(KINDS)}", sid, node, structural=True,
                       hint=did_you_mean(str(kind), KINDS) or "add kind: choice (or another kind)")
        limits = {}
        for key in ("min", "max", "min_length", "max_length"):
            if key in node and not _whole(node[key]):
                self.error(f"'{key}' must be a whole number", sid, node, structural=True,
                           hint=f"{key}: 1")
            limits[key] = node[key] if _whole(node.get(key)) else None
        return Question(
            id=sid,
            kind=str(kind),
            prompt=self.text(node, "prompt", sid),
            help=self.text(node, "help", sid, required=False),
            options=self.options(node, sid),
            options_from=str(node["options_from"]) if node.get("options_from") is not None else None,
            next=self.rules(node, sid, kind),
            min=limits["min"],
            max=limits["max"],
            min_length=limits["min_length"] if limits["min_length"] is not None else 1,
            max_length=limits["max_length"] if limits["max_length"] is not None else 500,
            unit=node.get("unit"),
            line=_line(node),
        )

    def options(self, node: Mapping, sid: str) -> tuple[Option, ...]:
        raw = node.get("options")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.error("'options' must be a list of {id, label}", sid, node, structural=True,
                       hint="options:\n  - id: some_option\n    label: {en: ..., fr: ...}")
            return ()
        options: list[Option] = []
        for opt in raw:
            if not isinstance(opt, Mapping) or not _is_id(opt.get("id")):
                has_id = isinstance(opt, Mapping) and "id" in opt
                message = f"option id {opt['id']!r} is not valid" if has_id else "every option needs an 'id'"
                self.error(message, sid, opt if isinstance(opt, Mapping) else node, hint=ID_HINT,
                           structural=True)
                continue
            oid = opt["id"]
            if any(o.id == oid for o in options):
                self.error(f"duplicate option id '{oid}'", sid, opt, hint="give each option its own id")
                continue
            options.append(Option(oid, self.text(opt, "label", sid)))
        return tuple(options)

    def rules(self, node: Mapping, sid: str, kind: Any) -> tuple[Rule, ...]:
        raw = node.get("next")
        if kind == "confirm":
            if raw is not None:
                self.error("a confirm state ends the flow and has no 'next'", sid, node,
                           hint="remove its 'next'", structural=True)
            return ()
        if _is_id(raw):
            return (Rule(raw),)
        if not isinstance(raw, list) or not raw:
            self.error("'next' must be a state id or a list of {if, goto}", sid, node, structural=True,
                       hint="next: other_state, or next: [{if: CONDITION, goto: a_state}, {goto: other}]")
            return ()
        rules: list[Rule] = []
        items = [item for item in raw if isinstance(item, Mapping)]
        for item in raw:
            if not isinstance(item, Mapping) or not _is_id(item.get("goto")):
                self.error("each 'next' entry needs a 'goto' (a state id)", sid,
                           item if isinstance(item, Mapping) else node, structural=True,
                           hint="- {if: CONDITION, goto: a_state}, and last - {goto: a_state}")
                continue
            when = None
            if "if" in item:
                try:
                    when = parse_condition(item["if"])
                except ConditionError as exc:
                    self.error(f"bad condition: {exc}", sid, item, hint=CONDITION_SYNTAX, structural=True)
            rules.append(Rule(item["goto"], when))
        defaults = [n for n, item in enumerate(items) if "if" not in item]
        if items and not defaults:
            self.error("the last 'next' entry must have no 'if' (the default)", sid, node,
                       hint="end the list with '- goto: a_state', for answers no condition matches")
        elif defaults and defaults[0] != len(items) - 1:
            self.error("'next' entries after the one with no 'if' are never used", sid,
                       items[defaults[0] + 1], hint="put the entry with no 'if' last")
        return tuple(rules)

    # --- rules across states ----------------------------------------------------------------

    def check(self, flow: Flow, nodes: Mapping[str, Mapping], raw: Mapping) -> None:
        """Targets exist, conditions read earlier answers, and every state leads to confirm."""
        states = flow.states
        if "start" in raw and flow.start not in states:
            self.error(f"'start' names unknown state '{flow.start}'", node=raw, key="start",
                       hint=did_you_mean(flow.start, states) or "start: the id of the first question")
        confirms = [q.id for q in states.values() if q.kind == "confirm"]
        if not confirms:
            self.error("a flow needs exactly one state of kind 'confirm' (its last step)", node=raw,
                       hint="end with a state of kind confirm offering the options 'confirm' and 'edit'")
        for extra in confirms[1:]:
            self.error("a flow needs exactly one state of kind 'confirm'; this is a second one", extra,
                       nodes[extra], hint=f"keep one confirm step ('{confirms[0]}') and make this a choice")
        for question in states.values():
            self.check_question(flow, question, nodes[question.id])
        self.check_paths(flow, nodes, confirms[0] if confirms else None)

    def check_question(self, flow: Flow, q: Question, node: Mapping) -> None:
        if q.kind in ("choice", "multi", "confirm") and not q.options and not q.options_from:
            self.error("a choice needs 'options' or 'options_from'", q.id, node,
                       hint="options: [{id: ..., label: {en: ..., fr: ...}}], or options_from: a multi state")
        if q.kind in ("number", "text") and (q.options or q.options_from):
            self.error(f"a {q.kind} question shows no options", q.id, node,
                       hint="remove 'options'/'options_from', or make it kind choice")
        if q.options_from:
            source = flow.states.get(q.options_from)
            if source is None or source.kind != "multi":
                multis = [s for s, other in flow.states.items() if other.kind == "multi"]
                self.error(f"'options_from' must name a multi state, not '{q.options_from}'", q.id, node,
                           hint=did_you_mean(q.options_from, multis) or "name a multi question asked earlier")
            elif source.id == q.id or not _reaches(flow, source.id, q.id):
                self.error(f"'options_from' reads '{source.id}', which is not asked before this state",
                           q.id, node, hint="move the question, or read a multi question asked earlier")
        if q.kind == "confirm" and {o.id for o in q.options} != {"confirm", "edit"}:
            self.error("a confirm state offers exactly 'confirm' and 'edit'", q.id, node,
                       hint="options: [{id: confirm, label: ...}, {id: edit, label: ...}]")
        if q.min is not None and q.max is not None and q.min > q.max:
            self.error(f"'min' ({q.min}) is above 'max' ({q.max})", q.id, node, hint="swap them")
        if q.min_length > q.max_length:
            self.error(f"'min_length' ({q.min_length}) is above 'max_length' ({q.max_length})", q.id, node,
                       hint="swap them")
        if q.kind == "multi" and not q.options_from and (q.min or 0) > len(q.options):
            self.error(f"'min' asks for {q.min} picks out of {len(q.options)} options", q.id, node,
                       hint="lower 'min' or add options")
        for rule in q.next:
            if rule.goto not in flow.states:
                self.error(f"'next' goes to unknown state '{rule.goto}'", q.id, node,
                           hint=did_you_mean(rule.goto, flow.states) or "name a state of this flow")
            for leaf in _leaves(rule.when):
                self.check_reference(flow, q, node, leaf)

    def check_reference(self, flow: Flow, q: Question, node: Mapping, leaf: Condition) -> None:
        ref = leaf.answer or ""
        target = flow.states.get(ref)
        if target is None:
            self.error(f"condition names unknown state '{ref}'", q.id, node,
                       hint=did_you_mean(ref, flow.states) or "a condition reads the answer of a state")
            return
        if ref != q.id and not _reaches(flow, ref, q.id):
            self.error(f"condition reads '{ref}', which is not asked before this state", q.id, node,
                       hint="a condition reads this state's answer or one given earlier")
        if leaf.op == "has" and target.kind != "multi":
            self.error(f"'has' reads a multi answer, but '{ref}' is a {target.kind} question", q.id, node,
                       hint=f"use {{answer: {ref}, is: ...}} or in: [...]")
        if leaf.op in ("is", "in") and target.kind == "multi":
            self.error(f"'{leaf.op}' never matches '{ref}', a multi question (its answer is a list)",
                       q.id, node, hint=f"use {{answer: {ref}, has: ...}}")
        known = {o.id for o in target.options}
        if target.options_from in flow.states:
            known |= {o.id for o in flow.states[target.options_from].options}
        for value in leaf.values:
            if known and value not in known:
                listed = f"options of '{ref}': {', '.join(sorted(known))}"
                self.error(f"condition names unknown option '{value}' of '{ref}'", q.id, node,
                           hint=did_you_mean(value, known) or listed)

    def check_paths(self, flow: Flow, nodes: Mapping[str, Mapping], confirm: str | None) -> None:
        reachable = _walk(flow, flow.start) if flow.start in flow.states else set(flow.states)
        for sid in flow.states:
            if sid not in reachable:
                self.error("unreachable: no 'next' leads here", sid, nodes[sid],
                           hint="point a 'next' of an earlier state here, or delete this state")
        if confirm is None:
            return
        for sid in flow.states:
            if not _leads_to(flow, sid, confirm):
                self.error("dead end: never reaches the confirm step", sid, nodes[sid],
                           hint=f"every path must end at '{confirm}'; follow this state's 'next' (a loop?)")


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


def load_flows(extra_dir: str | Path | None = None) -> dict[str, Flow]:
    """Built-in flows, then the user's folder (`CMBOT_FLOWS`), which may override one by id."""
    flows: dict[str, Flow] = {}
    for folder in [builtin_flows_dir()] + ([Path(extra_dir)] if extra_dir else []):
        for path in flow_files(folder):
            flow = load_flow(path)
            flows[flow.id] = flow
    return flows
