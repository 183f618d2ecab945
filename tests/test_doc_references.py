"""ARCHITECTURE.md and the README point at code by name — `slack/courier.py:Courier._save`,
`Desk.hold`, `panel._step` — so that a newcomer finds it in a minute. A name that a refactoring
moved or renamed must not outlive it there: every such reference is checked on the source."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from cmbot.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("ARCHITECTURE.md", "README.md")
SOURCES = ("cmbot", "tests", "flows", "examples")
# `path.ext` or `path.ext:Name` / `path.ext:Class.member`
FILE_REF = re.compile(r"([\w./-]+\.(?:py|yaml|json|md|toml))(?::([\w.]+))?")
# `Owner.member`, maybe called: `Desk.keep(session, pending=True)`, `Report.to_dict()`
DOTTED = re.compile(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\(.*\))?")


@functools.cache
def repo_files() -> tuple[str, ...]:
    """Every file of the repository, as a path relative to its root."""
    found = [p for folder in SOURCES for p in (ROOT / folder).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    found += [p for p in ROOT.iterdir() if p.is_file()]
    return tuple(str(p.relative_to(ROOT)) for p in found)


def resolve(path: str) -> list[str]:
    """The files a reference names: exactly, or as the tail of a path (`courier.py`,
    `listeners/actions.py`), which is how the documents shorten them."""
    return [f for f in repo_files() if f == path or f.endswith("/" + path)]


@functools.cache
def names_in(path: str) -> dict[str, frozenset[str]]:
    """A module's top-level names, each with its members when it is a class (methods, class
    attributes and fields, and what its methods set on `self`)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: dict[str, frozenset[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = {n.name for n in node.body
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            members |= {n.target.id for n in node.body
                        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
            members |= {t.id for n in node.body if isinstance(n, ast.Assign)
                        for t in n.targets if isinstance(t, ast.Name)}
            members |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                        and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                        and n.value.id == "self"}
            names[node.name] = frozenset(members)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = frozenset()
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((t.id, frozenset()) for t in targets if isinstance(t, ast.Name))
    return names


def defines(path: str, dotted: str) -> bool:
    head, _, member = dotted.partition(".")
    found = names_in(path)
    return head in found and (not member or member in found[head])


def python_files() -> list[str]:
    return [f for f in repo_files() if f.endswith(".py")]


@functools.cache
def homes_of(name: str) -> tuple[str, ...]:
    """The modules that define a class `name` (found in the text first: parsing every module
    would take seconds)."""
    pattern = re.compile(rf"^class {name}\b", re.MULTILINE)
    return tuple(f for f in python_files()
                 if pattern.search((ROOT / f).read_text(encoding="utf-8")) and name in names_in(f))


def problem(span: str) -> str | None:
    """What is wrong with one `code` span of a document, None when it is fine or not a
    reference to this repository's code (a message key, a Slack method, another library)."""
    if any(c in span for c in "<{*"):
        return None  # a pattern (`cmbot/locales/<lang>.yaml`), not a file
    ref = FILE_REF.fullmatch(span)
    if ref:
        path, name = ref.groups()
        found = resolve(path)
        if not found:
            return f"no file {path}"
        if name and not any(defines(f, name) for f in found if f.endswith(".py")):
            return f"{path} defines no {name}"
        return None
    dotted = DOTTED.fullmatch(span)
    if not dotted or span.split("(")[0] in catalogue("en"):
        return None
    owner, member = dotted.groups()
    if owner[0].isupper():  # a class of ours: `Desk.hold`, `Conductor._answer`
        homes = homes_of(owner)
        if not homes:
            return f"no class {owner}"
        return None if any(defines(f, f"{owner}.{member}") for f in homes) else \
            f"{owner} has no {member}"
    modules = [f for f in python_files() if Path(f).stem == owner]  # `panel._step`
    if modules and not any(defines(f, member) for f in modules):
        return f"no module {owner}.py defines {member}"
    return None


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_and_name_the_document_points_at_exists(doc: str):
    text = (ROOT / doc).read_text(encoding="utf-8")
    spans = sorted(set(re.findall(r"`([^`\n]+)`", text)))
    wrong = [f"`{span}`: {why}" for span in spans if (why := problem(span.strip()))]
    assert not wrong, f"{doc} points at what is not there:\n" + "\n".join(wrong)


def test_a_moved_name_is_caught():
    """The check itself: a renamed function, a missing member, a missing file."""
    assert problem("slack/courier.py:Courier._save") is None
    assert problem("slack/courier.py:Courier._saved") == "slack/courier.py defines no Courier._saved"
    assert problem("Desk.keep(session, pending=True)") is None
    assert problem("Desk.kept") == "Desk has no kept"
    assert problem("Deck.keep") == "no class Deck"
    assert problem("panel._step") is None and problem("panel._stepped") is not None
    assert problem("store/nowhere.py") == "no file store/nowhere.py"
    assert problem("cli.env_lang_unknown") is None  # a message key, not the module cli.py
