"""Reading an objective typed in the manager's own words, in English or French.

"Doubler le nombre d'inscrits à la newsletter" is a volume target as surely as "as many fans as
possible", so it must raise the same risks and get the same kind of reframe; "train our
resellers" is not, and deserves a reframe about resellers rather than a generic instruction.
The vocabulary is data (`free_text.yaml`): whoever edits the advice can extend it without code,
and nothing is downloaded or guessed by a model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..safe_yaml import load_shipped

VOCABULARY = Path(__file__).with_name("free_text.yaml")
NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Reading:
    """What a free-text objective is about (`theme`) and whether it is a volume target."""

    theme: str
    quantitative: bool


@dataclass(frozen=True)
class Theme:
    id: str
    quantitative: bool
    words: tuple[re.Pattern[str], ...]
    counted: tuple[re.Pattern[str], ...]


def normalise(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe: « Abonnés » and "abonnes" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pattern(entry: str) -> re.Pattern[str]:
    whole = entry.startswith("=")
    word = re.escape(normalise(entry.lstrip("=")))
    return re.compile(rf"(?<!\w){word}" + (r"(?!\w)" if whole else ""))


@cache
def vocabulary() -> tuple[tuple[re.Pattern[str], ...], tuple[Theme, ...], str]:
    data = load_shipped(VOCABULARY.read_text(encoding="utf-8"))
    growth = tuple(_pattern(w) for w in data["growth"])
    themes = tuple(
        Theme(t["id"], bool(t.get("quantitative")), tuple(_pattern(w) for w in t.get("words", [])),
              tuple(_pattern(w) for w in t.get("counted", [])))
        for t in data["themes"]
    )
    return growth, themes, data["fallback"]


def _mentions_any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(p.search(text) for p in patterns)


@cache
def read(text: str) -> Reading:
    """The first theme whose words appear; counted things ("members") only make a volume target
    when something says how many ("double", "10 000")."""
    growth, themes, fallback = vocabulary()
    plain = normalise(text)
    target = _mentions_any(growth, plain) or bool(NUMBER.search(plain))
    for theme in themes:
        if _mentions_any(theme.words, plain) or (target and _mentions_any(theme.counted, plain)):
            return Reading(theme.id, theme.quantitative)
    return Reading(fallback, False)
