"""A flow file as read: its data, and where in the text each part of it is.

Both passes of the flow checker (the JSON Schema for the shape, `rules.py` for what a schema
cannot say) name a place as a path into the data — `("states", 2, "options", 0, "label")` — and
`Document.line` turns it into the line an author looks at. One parse gives both the data and the
node tree the lines come from, so no marker keys are mixed into the data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..safe_yaml import SafeLoader, read_text

DataPath = tuple[str | int, ...]  # a place in the data: ("states", 3, "options", 0, "id")

# The interview a start without a flow id runs (every front door): the flow the advisor reads.
DEFAULT_FLOW = "community_manager"
YAML_HINT = "check the indentation, and quote values that contain ': ' or start with { [ * & ! | >"


class FlowError(ValueError):
    """A flow file that cannot be used: `FILE:LINE: state 'X': reason (hint: …)`."""

    def __init__(self, source: str, message: str, state: str | None = None, line: int | None = None,
                 hint: str | None = None):
        self.source, self.state, self.line, self.reason, self.hint = source, state, line, message, hint
        where = source + (f":{line}" if line else "")
        text = f"{where}: " + (f"state '{state}': " if state else "") + message
        super().__init__(text + (f" (hint: {hint})" if hint else ""))


@dataclass(frozen=True)
class Document:
    source: str  # the file's path, as errors name it
    data: Any
    tree: yaml.Node | None

    def line(self, where: DataPath) -> int | None:
        """The line of the deepest node on `where` (for a mapping entry, its key's line)."""
        node = self.tree
        if node is None:
            return None
        line = node.start_mark.line + 1
        for key in where:
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

    def error(self, where: DataPath, message: str, state: str | None = None,
              hint: str | None = None) -> FlowError:
        return FlowError(self.source, message, state, self.line(where), hint)


def read_flow_text(path: str | Path) -> str:
    path = Path(path)
    try:
        return read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FlowError(str(path), f"cannot read the file ({reason})",
                        hint="give the path of a UTF-8 YAML file") from exc


def parse_document(text: str, source: str) -> Document:
    """The YAML text as data and node tree, or a `FlowError` at the line YAML stopped on."""
    try:
        loader = SafeLoader(text)  # no aliases, bounded depth and size
    except yaml.YAMLError as exc:
        raise FlowError(source, f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
                        line=_line_of(exc), hint=YAML_HINT) from exc
    try:
        tree = loader.get_single_node()
        data = loader.construct_document(tree) if tree is not None else None
    except yaml.YAMLError as exc:
        raise FlowError(source, f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
                        line=_line_of(exc), hint=YAML_HINT) from exc
    finally:
        loader.dispose()
    return Document(source, data, tree)


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else None


def builtin_flows_dir() -> Path:
    """Flows shipped in the wheel (`cmbot/flows`), or the repository's `flows/` in a checkout."""
    packaged = Path(str(resources.files("cmbot"))) / "flows"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "flows"


def flow_files(folder: str | Path) -> list[Path]:
    """A folder's flow files in the order `load_flows` reads them (a later id wins)."""
    folder = Path(folder)
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """A hint for a probable typo: the nearest known id, if one is close."""
    match = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean '{match[0]}'?" if match else None
