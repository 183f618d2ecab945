"""The layering ARCHITECTURE.md describes, checked on the source: a layer imports only the layers
below it (front doors, service, storage, core, words), no module imports itself back through
others, and a front door reaches storage through named `Desk` methods, never `desk.store`."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cmbot"
# Top to bottom, as in ARCHITECTURE.md's table; a module belongs to its longest prefix.
LAYERS = {
    "front doors": ("cmbot.slack", "cmbot.terminal", "cmbot.cli", "cmbot.flows_cli",
                    "cmbot.db_cli", "cmbot.export", "cmbot.output", "cmbot.help"),
    "service": ("cmbot.service", "cmbot.consultation", "cmbot.panel_hub", "cmbot.report",
                "cmbot.summary", "cmbot.panel"),
    "storage": ("cmbot.store",),
    "core": ("cmbot.interview", "cmbot.advisor"),
    "words": ("cmbot", "cmbot.i18n", "cmbot.safe_yaml"),
}
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


@functools.cache
def tree_of(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def imported(module: str, top_level_only: bool) -> set[str]:
    """The cmbot modules `module` imports (a name imported from a package counts as the
    package, unless it is a module of its own)."""
    path, tree = MODULES[module], tree_of(module)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                      for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name in MODULES and name != module}


def layer_of(module: str) -> str:
    return max(((len(p), name) for name, prefixes in LAYERS.items() for p in prefixes
                if module == p or module.startswith(p + ".")))[1]


def test_every_module_belongs_to_a_layer():
    assert all(layer_of(m) in LAYERS for m in MODULES)


def test_no_layer_imports_a_layer_above_it():
    upward = [f"{m} ({layer_of(m)}) imports {d} ({layer_of(d)})"
              for m in sorted(MODULES) for d in sorted(imported(m, top_level_only=False))
              if ORDER.index(layer_of(d)) < ORDER.index(layer_of(m))]
    assert upward == []


def test_no_import_cycle():
    graph = {m: imported(m, top_level_only=True) for m in MODULES}
    for module, deps in graph.items():  # importing a.b.c runs a and a.b first
        for dep in list(deps):
            parts = dep.split(".")
            deps |= {".".join(parts[:i]) for i in range(1, len(parts))
                     if not module.startswith(".".join(parts[:i]))}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in visiting:
            pytest.fail("import cycle: " + " -> ".join([*visiting[visiting.index(module):], module]))
        if module in done:
            return
        visiting.append(module)
        for dep in sorted(graph[module]):
            visit(dep)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_front_doors_never_reach_the_storage_behind_the_desk():
    reaching = [f"{m}:{n}" for m in sorted(MODULES) if layer_of(m) == "front doors"
                for n, line in enumerate(MODULES[m].read_text(encoding="utf-8").splitlines(), 1)
                if re.search(r"\bdesk\.store\b", line)]
    assert reaching == []
