"""The shape of a flow file, owned by the published JSON Schema (`flows/schema.json`).

Keys, types, kinds, ids and the condition syntax are checked here and nowhere else, so editors
that read JSON Schema help authors with the very rules cmbot applies. Each schema error is told
in the author's words, at the line of the YAML it is about, with a hint (from the schema's own
descriptions where it has one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from ..i18n import LANGUAGES
from .source import DataPath, Document, FlowError, builtin_flows_dir, did_you_mean

if TYPE_CHECKING:
    from jsonschema import ValidationError

TOP_HINTS = {
    "id": "id: my_flow (what `cmbot chat --flow` takes)",
    "version": "version: 1 (raise it when you change the questions)",
    "languages": f"languages: [{', '.join(LANGUAGES)}] (every language cmbot speaks)",
    "title": "title: {" + ", ".join(f"{lang}: ..." for lang in LANGUAGES) + "}",
    "start": "start: the id of the first question",
    "states": "states: a list of questions, the last of kind confirm",
}
TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "array": "a list",
              "object": "a mapping", "boolean": "true or false", "null": "empty"}
BOOLEAN_HINT = "YAML reads yes/no/on/off/true/false as booleans: quote it, e.g. \"yes\""
COMMA_HINT = ("in {...} a comma ends a text: quote texts with commas or ': ', "
              "e.g. {en: \"Some, regularly\", fr: ...}")

Explained = tuple[str, str | None, DataPath]  # (message, hint, where below the error's path the line is)


@cache
def schema() -> dict[str, Any]:
    return json.loads((builtin_flows_dir() / "schema.json").read_text(encoding="utf-8"))


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # here, so importing cmbot stays quick

    return Draft202012Validator(schema())


def shape_errors(doc: Document) -> list[FlowError]:
    """Every place the file's data breaks the schema, one error each."""
    errors = list(_validator().iter_errors(doc.data))
    # A place that breaks a plain keyword also fails the oneOf around it: say the plain thing once.
    plain = {tuple(e.absolute_path) for e in errors if e.validator not in ("oneOf", "anyOf")}
    # A key that is no language code is one mistake, not also "its value must be text".
    bad_keys = {(*e.absolute_path, e.instance) for e in errors if "propertyNames" in e.schema_path}
    found = []
    for error in errors:
        path: DataPath = tuple(error.absolute_path)
        if (error.validator in ("oneOf", "anyOf") and path in plain) or path in bad_keys:
            continue
        state = state_of(doc.data, path)
        message, hint, below = _explain(error, _name(path, state is not None))
        found.append(doc.error(path + below, message, state, hint))
    return found


def state_of(data: Any, path: DataPath) -> str | None:
    """The id of the state a place sits in, when it has a usable one."""
    if len(path) >= 2 and path[0] == "states" and isinstance(path[1], int) and isinstance(data, dict):
        node = data["states"][path[1]]
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            return node["id"]
    return None


# --- one schema error in the author's words ------------------------------------------------------


def _explain(error: ValidationError, name: str) -> Explained:
    if "propertyNames" in error.schema_path:
        return (f"{name or 'the text'}: {error.instance!r} is not a language code", COMMA_HINT,
                (error.instance,))
    explain = _EXPLAIN.get(str(error.validator), _invalid)
    return explain(error, name, _described(error))


def _described(error: ValidationError) -> str | None:
    """The schema's description of the failing place, as a clause for a hint."""
    if not error.absolute_path:  # the schema's own description is too long for a hint
        return "a flow is a mapping with id, version, languages, title, start and states"
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    return described[0].lower() + described[1:].rstrip(".") if described else None


def _subject(error: ValidationError, name: str) -> str:
    return name or ("the flow" if not error.absolute_path else "the state")


def _required(error: ValidationError, name: str, described: str | None) -> Explained:
    match = re.match(r"'(.+)' is a required property", error.message)
    missing = match.group(1) if match else str(error.validator_value)
    hint = TOP_HINTS.get(missing) if not error.absolute_path else described
    return f"{name + ': ' if name else ''}missing '{missing}'", hint, ()


def _unknown_key(error: ValidationError, name: str, described: str | None) -> Explained:
    known = list(error.schema.get("properties", {}))
    extra = sorted(str(k) for k in error.instance if k not in known)
    title = error.schema.get("title") if error.absolute_path else None
    hint = did_you_mean(extra[0], known) or f"allowed here: {', '.join(known)}"
    message = f"unknown key {', '.join(repr(k) for k in extra)}" + (f" in the {title}" if title else "")
    return f"{name + ': ' if name else ''}{message}", hint, (extra[0],)


def _one_of(error: ValidationError, name: str, described: str | None) -> Explained:
    value, instance = error.validator_value, error.instance
    allowed = value if error.validator == "enum" else [value]
    hint = did_you_mean(str(instance), [str(v) for v in allowed]) or described
    listed = ", ".join(map(str, allowed))
    return f"{_subject(error, name)} must be one of {listed}, not {instance!r}", hint, ()


def _wrong_type(error: ValidationError, name: str, described: str | None) -> Explained:
    value = error.validator_value
    expected = " or ".join(TYPE_WORDS.get(t, t) for t in ([value] if isinstance(value, str) else value))
    hint = BOOLEAN_HINT if isinstance(error.instance, bool) else described
    return f"{_subject(error, name)} must be {expected}, not {_type_word(error.instance)}", hint, ()


def _not_allowed(error: ValidationError, name: str, described: str | None) -> Explained:
    value = error.validator_value
    if isinstance(value, dict) and "required" in value:
        key = value["required"][0]
        return f"{name + ': ' if name else ''}'{key}' is not allowed here", described, (key,)
    return _invalid(error, name, described)


def _invalid(error: ValidationError, name: str, described: str | None) -> Explained:
    title = error.schema.get("title", "value") if isinstance(error.schema, dict) else "value"
    return f"{_subject(error, name)} is not a valid {title}", described, ()


def _worded(words: str) -> Callable[[ValidationError, str, str | None], Explained]:
    """A plain keyword: `'options' must not be empty`, `'max_length' is too small (at least 1)`."""

    def explain(error: ValidationError, name: str, described: str | None) -> Explained:
        text = words.format(instance=error.instance, value=error.validator_value)
        return f"{_subject(error, name)}{text}", described, ()

    return explain


_EXPLAIN: dict[str, Callable[[ValidationError, str, str | None], Explained]] = {
    "required": _required,
    "additionalProperties": _unknown_key,
    "enum": _one_of,
    "const": _one_of,
    "type": _wrong_type,
    "not": _not_allowed,
    "pattern": _worded(": {instance!r} is not valid"),
    "minItems": _worded(" must not be empty"),
    "uniqueItems": _worded(" lists the same item twice"),
    "minimum": _worded(" is too small (at least {value})"),
    "minLength": _worded(" is too small (at least {value})"),
    "minProperties": _worded(" is too small (at least {value})"),
    "maximum": _worded(" is too large (at most {value})"),
    "maxLength": _worded(" is too large (at most {value})"),
}


def _type_word(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


def _name(path: DataPath, in_state: bool) -> str:
    """The place below the state (or the file): 'options[2].label', 'next[1].if'."""
    tail = path[2:] if in_state else path
    text = ""
    for key in tail:
        text += f"[{key + 1}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return f"'{text}'" if text else ""
