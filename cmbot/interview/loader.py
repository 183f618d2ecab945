"""Flow files (YAML) -> a checked, immutable `Flow`.

A flow is plain data so people can change the interview without touching Python. Loading is
strict: any mistake is a `FlowError` naming the file, the state and the line, never a half-loaded
interview. Two passes find every problem at once: the JSON Schema checks the shape
(`schema.py`), then the rules check what a schema cannot say (`rules.py`), on a `Flow` built
from whatever parts of the file are usable. `load_flow` raises the first problem;
`cmbot flows check` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..i18n import LANGUAGES
from .conditions import parse_condition
from .model import Flow, Option, Question, Rule, Text
from .rules import rule_errors
from .schema import shape_errors
from .source import Document, FlowError, builtin_flows_dir, flow_files, parse_document, read_flow_text


def load_flow(path: str | Path) -> Flow:
    """A flow ready to run, or the first `FlowError` (`cmbot flows check` lists all of them)."""
    return _checked(read_flow_text(path), str(Path(path)))


@lru_cache(maxsize=64)
def _checked(text: str, source: str) -> Flow:
    """A flow is immutable and the same text always gives the same one, so a text already
    checked is not checked again: every `Desk` loads the flows (each workspace's, each reload
    after one file of several changed) and the schema check is most of a command's start.
    A file with problems is not kept: it raises again, as it was."""
    flow, problems = inspect_flow(text, source)
    if problems:
        raise problems[0]
    assert flow is not None
    return flow


def inspect_flow(text: str, source: str) -> tuple[Flow | None, list[FlowError]]:
    """(the flow if it is sound, every problem of the file: shape first, then the rules — the
    order `load_flow` reports the first of)."""
    try:
        doc = parse_document(text, source)
    except FlowError as exc:
        return None, [exc]
    flow = build(doc)
    problems = shape_errors(doc) + rule_errors(flow, doc)
    return (None if problems else flow), problems


def load_flows(extra_dir: str | Path | None = None) -> dict[str, Flow]:
    """Built-in flows, then the user's folder (`CMBOT_FLOWS`), which may override one by id."""
    flows: dict[str, Flow] = {}
    for folder in [builtin_flows_dir()] + ([Path(extra_dir)] if extra_dir else []):
        for path in flow_files(folder):
            flow = load_flow(path)
            flows[flow.id] = flow
    return flows


# --- data -> Flow --------------------------------------------------------------------------------
# The builder reads what is usable and skips the rest without a word: saying what is wrong with
# the shape is the schema's job, and a Flow built from a file with problems is never run.


def build(doc: Document) -> Flow:
    data = _mapping(doc.data)
    listed = data.get("languages")
    languages = tuple(map(str, listed)) if isinstance(listed, list) and listed else LANGUAGES
    states: dict[str, Question] = {}
    for node in _list(data.get("states")):
        if isinstance(node, dict) and isinstance(node.get("id"), str) and node["id"] not in states:
            states[node["id"]] = _question(node, languages)
    return Flow(
        id=str(data.get("id", "")),
        version=_whole(data.get("version")) or 0,
        title=_text(data.get("title"), languages),
        description=_text(data.get("description"), languages),
        languages=languages,
        start=str(data.get("start", "")),
        outcome=str(data.get("outcome", "full")),
        states=states,
    )


def _question(node: Mapping[str, Any], languages: tuple[str, ...]) -> Question:
    options_from = node.get("options_from")
    return Question(
        id=node["id"],
        kind=str(node.get("kind")),
        prompt=_text(node.get("prompt"), languages),
        help=_text(node.get("help"), languages),
        options=tuple(Option(o["id"], _text(o.get("label"), languages)) for o in _list(node.get("options"))
                      if isinstance(o, dict) and isinstance(o.get("id"), str)),
        options_from=options_from if isinstance(options_from, str) else None,
        next=_rules(node.get("next")),
        min=_whole(node.get("min")),
        max=_whole(node.get("max")),
        min_length=_whole(node.get("min_length"), 1),
        max_length=_whole(node.get("max_length"), 500),
        unit=node.get("unit"),
        scope=str(node.get("scope", "person")),
    )


def _rules(raw: Any) -> tuple[Rule, ...]:
    if isinstance(raw, str):
        return (Rule(raw),)
    rules = []
    for item in _list(raw):
        if isinstance(item, dict) and isinstance(item.get("goto"), str):
            rules.append(Rule(item["goto"], _condition(item.get("if"))))
    return tuple(rules)


def _condition(raw: Any) -> Any:
    try:
        return parse_condition(raw) if raw is not None else None
    except (KeyError, TypeError, AttributeError, StopIteration):
        return None  # a malformed condition: the schema names it


def _text(value: Any, languages: tuple[str, ...]) -> Text:
    value = _mapping(value)
    return {lang: str(value.get(lang) or "") for lang in languages}


def _whole(value: Any, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
