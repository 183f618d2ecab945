"""YAML from files people hand to cmbot (answers files, flow files), read so that no file can
take the program down.

`yaml.safe_load` refuses arbitrary objects but still expands aliases: a "billion laughs" file of
a few hundred bytes (`a: &a [x, x]`, `b: &b [*a, *a]`, …) becomes a structure that takes minutes
and gigabytes for anything that walks it. Hand-written flows and answers need no aliases, so this
loader refuses them at the first `*name`, refuses nesting deeper than `MAX_DEPTH` (which would
otherwise exhaust the parser's recursion) and files over `MAX_BYTES`: any file is accepted or
refused within a fraction of a second and a few megabytes. Errors are `yaml.YAMLError`s, so
callers report them like any other YAML mistake, with the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

MAX_BYTES = 64 * 1024  # 6x the largest flow shipped; parsing stays well under a second
MAX_DEPTH = 50


_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it
_Events = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _refuse(problem: str, event: yaml.Event) -> ComposerError:
    return ComposerError(None, None, problem, event.start_mark)


def check_events(text: str) -> None:
    """Refuse aliases and deep nesting from the parser's events, before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Events):
        if isinstance(event, yaml.AliasEvent):
            raise _refuse("aliases (*name) are not allowed here; write the value out", event)
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(f"nested more than {MAX_DEPTH} levels deep", event)
        elif isinstance(event, _CLOSE):
            depth -= 1


class SafeLoader(_Parser):  # type: ignore[misc,valid-type]
    """A safe loader that refuses aliases, deep nesting and oversized input (see above)."""

    def __init__(self, stream: str):
        if len(stream) > MAX_BYTES:
            raise yaml.YAMLError(f"the file is larger than {MAX_BYTES // 1024} KB")
        check_events(stream)
        super().__init__(stream)


def load(text: str) -> Any:
    """One YAML document, safely (see `SafeLoader`)."""
    return yaml.load(text, Loader=SafeLoader)


def load_shipped(text: str) -> Any:
    """YAML that ships with cmbot (the message catalogues, the free-text vocabulary): trusted,
    and bigger than `MAX_BYTES`, so read without the limits above — by libyaml when the wheel
    has it, which parses the catalogues every command loads ten times faster than
    `yaml.safe_load`'s pure-Python parser."""
    return yaml.load(text, Loader=_Parser)


def read_text(path: str | Path) -> str:
    """A YAML file's text, reading no more than `SafeLoader` accepts (plus one byte, so an
    oversized file is refused by the loader without being read whole)."""
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return data.decode("utf-8", errors="ignore")
    return data.decode("utf-8")
