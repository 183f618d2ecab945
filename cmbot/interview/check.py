"""The flow checker behind `cmbot flows check`: every problem of a file at once, each with a line.

Two passes. The published JSON Schema (`flows/schema.json`) checks the file's shape — keys,
types, kinds, ids, the condition syntax — so editors that read JSON Schema can help authors too.
Then the rules of `flow.py` check what a schema cannot say: targets, reachability, dead ends,
duplicate ids, conditions naming unknown states or options, a text for every language, reserved
ids. Those are the rules `load_flow` applies at start-up, so a file that passes here loads there.
When both passes see the same shape mistake in a state, the schema's words are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .flow import (
    TOP_HINTS,
    Flow,
    FlowError,
    builtin_flows_dir,
    did_you_mean,
    flow_files,
    inspect_flow,
    read_flow_text,
)

if TYPE_CHECKING:
    from jsonschema import ValidationError

BUILT_IN, USER, NAMED = "built-in", "user", "file"
Where = tuple[str | int, ...]  # a place in the data: ("states", 3, "options", 0, "id")


@dataclass(frozen=True)
class FlowFile:
    path: Path
    origin: str  # built-in, user (CMBOT_FLOWS) or file (named on the command line)


@dataclass
class Checked:
    file: FlowFile
    flow: Flow | None  # None when the file has problems
    errors: list[FlowError] = field(default_factory=list)


def known_files(extra_dir: str | Path | None) -> list[FlowFile]:
    """Built-in flow files then the user's, in the order `load_flows` reads them."""
    files = [FlowFile(p, BUILT_IN) for p in flow_files(builtin_flows_dir())]
    return files + ([FlowFile(p, USER) for p in flow_files(extra_dir)] if extra_dir else [])


@cache
def schema() -> dict[str, Any]:
    return json.loads((builtin_flows_dir() / "schema.json").read_text(encoding="utf-8"))


def check_text(text: str, source: str) -> tuple[Flow | None, list[FlowError]]:
    """(the flow if it is sound, every problem sorted by line)."""
    flow, problems = inspect_flow(text, source)
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None, problems  # inspect_flow reported the YAML error with its line
    found = schema_errors(data, tree, source)
    covered = {e.state for e in found}
    found += [p for p in problems if not (p.structural and p.state in covered)]
    found.sort(key=lambda e: e.line or 0)
    return (None if found else flow), found


def check_files(files: Sequence[FlowFile]) -> list[Checked]:
    """Each file checked; two files of one folder with the same flow id are an error too, since
    the later one would silently hide the other."""
    results: list[Checked] = []
    seen: dict[tuple[Path, str], Path] = {}
    for file in files:
        try:
            text = read_flow_text(file.path)
        except FlowError as exc:
            results.append(Checked(file, None, [exc]))
            continue
        flow, errors = check_text(text, str(file.path))
        if flow is not None:
            key = (file.path.resolve().parent, flow.id)
            if key in seen:
                errors.append(FlowError(str(file.path), f"flow id '{flow.id}' is also the id of {seen[key]}",
                                        line=_line_at(yaml.compose(text, Loader=yaml.SafeLoader), ("id",)),
                                        hint="rename one; only the later file would be used"))
                flow = None
            seen.setdefault(key, file.path)
        results.append(Checked(file, flow, errors))
    return results


# --- JSON Schema errors in the author's words ---------------------------------------------------

TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "array": "a list",
              "object": "a mapping", "boolean": "true or false", "null": "empty"}
BOOLEAN_HINT = "YAML reads yes/no/on/off/true/false as booleans: quote it, e.g. \"yes\""


def schema_errors(data: Any, tree: yaml.Node | None, source: str) -> list[FlowError]:
    from jsonschema import Draft202012Validator  # here, so `cmbot chat` starts without it (~50 ms)

    errors = list(Draft202012Validator(schema()).iter_errors(data))
    # A place that breaks a plain keyword also fails the oneOf around it: say the plain thing once.
    plain = {tuple(e.absolute_path) for e in errors if e.validator not in ("oneOf", "anyOf")}
    # A key that is no language code is one mistake, not also "its value must be text".
    bad_keys = {(*e.absolute_path, e.instance) for e in errors if "propertyNames" in e.schema_path}
    found = []
    for error in errors:
        path: Where = tuple(error.absolute_path)
        if (error.validator in ("oneOf", "anyOf") and path in plain) or path in bad_keys:
            continue
        state = _state_of(data, path)
        message, hint, at = _explain(error, _name(path, state is not None))
        found.append(FlowError(source, message, state, _line_at(tree, path + at), hint))
    return found


def _explain(error: ValidationError, name: str) -> tuple[str, str | None, Where]:
    """(message, hint, where below the error's path the line is) for one schema error."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    if not error.absolute_path:  # the schema's own description is too long for a hint
        described = "a flow is a mapping with id, version, languages, title, start and states"
    elif described:  # a sentence in the schema, a clause in the message
        described = described[0].lower() + described[1:].rstrip(".")
    at = f"{name}: " if name else ""
    if kind == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        missing = match.group(1) if match else str(value)
        hint = TOP_HINTS.get(missing) if not error.absolute_path else described
        return f"{at}missing '{missing}'", hint, ()
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in instance if k not in known)
        hint = did_you_mean(extra[0], known) or f"allowed here: {', '.join(known)}"
        return f"{at}unknown key {', '.join(repr(k) for k in extra)}", hint, (extra[0],)
    subject = name or ("the flow" if not error.absolute_path else "the state")
    if kind in ("enum", "const"):
        allowed = value if kind == "enum" else [value]
        hint = did_you_mean(str(instance), [str(v) for v in allowed]) or described
        return f"{subject} must be one of {', '.join(map(str, allowed))}, not {instance!r}", hint, ()
    if kind == "type":
        expected = " or ".join(TYPE_WORDS.get(t, t) for t in ([value] if isinstance(value, str) else value))
        hint = BOOLEAN_HINT if isinstance(instance, bool) else described
        return f"{subject} must be {expected}, not {_type_word(instance)}", hint, ()
    if "propertyNames" in error.schema_path:
        return (f"{subject}: {instance!r} is not a language code", "in {...} a comma ends a text: "
                "quote texts with commas or ': ', e.g. {en: \"Some, regularly\", fr: ...}", (instance,))
    if kind == "pattern":
        return f"{subject}: {instance!r} is not valid", described, ()
    if kind == "minItems":
        return f"{subject} must not be empty", described, ()
    if kind == "uniqueItems":
        return f"{subject} lists the same item twice", described, ()
    if kind in ("minimum", "minLength", "minProperties"):
        return f"{subject} is too small (at least {value})", described, ()
    if kind in ("maximum", "maxLength"):
        return f"{subject} is too large (at most {value})", described, ()
    if kind == "not" and isinstance(value, dict) and "required" in value:
        return f"{at}'{value['required'][0]}' is not allowed here", described, (value["required"][0],)
    title = error.schema.get("title", "value") if isinstance(error.schema, dict) else "value"
    return f"{subject} is not a valid {title}", described, ()


def _type_word(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


def _state_of(data: Any, path: Where) -> str | None:
    """The id of the state an error sits in, when it has a usable one."""
    if len(path) >= 2 and path[0] == "states" and isinstance(path[1], int) and isinstance(data, dict):
        node = data["states"][path[1]]
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            return node["id"]
    return None


def _name(path: Where, in_state: bool) -> str:
    """The place below the state (or the file): 'options[2].label', 'next[1].if'."""
    tail = path[2:] if in_state else path
    text = ""
    for key in tail:
        text += f"[{key + 1}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return f"'{text}'" if text else ""


def _line_at(tree: yaml.Node | None, path: Where) -> int | None:
    """The line of the deepest YAML node on `path` (a mapping entry: its key's line)."""
    if tree is None:
        return None
    node, line = tree, tree.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            entry = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
