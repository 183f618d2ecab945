"""Validation of answers: every kind returns a value or a reason to ask again, never raises.

Reasons are message keys with parameters (see `cmbot/locales`), so each front door can say
them in the person's language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .model import Flow, Question


@dataclass(frozen=True)
class Problem:
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    value: Any = None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _refused(key: str, **params: Any) -> Verdict:
    return Verdict(problem=Problem(key, params))


def validate(flow: Flow, question: Question, raw: Any, answers: Mapping[str, Any]) -> Verdict:
    """Check `raw` against `question` given earlier `answers`; return the clean value."""
    if question.kind in ("choice", "confirm"):
        return _choice(flow, question, raw, answers)
    if question.kind == "multi":
        return _multi(flow, question, raw, answers)
    if question.kind == "number":
        return _number(question, raw)
    return _text(question, raw)


def _choice(flow: Flow, q: Question, raw: Any, answers: Mapping[str, Any]) -> Verdict:
    allowed = [o.id for o in flow.options(q, answers)]
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str | int | bool) or _option_id(raw) not in allowed:
        return _refused("answer.choice_unknown", options=allowed)
    return Verdict(_option_id(raw))


def _option_id(raw: Any) -> str:
    # YAML reads a bare yes/no as a boolean; the flow's ids are the strings "yes"/"no".
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    return str(raw).strip()


def _multi(flow: Flow, q: Question, raw: Any, answers: Mapping[str, Any]) -> Verdict:
    allowed = [o.id for o in flow.options(q, answers)]
    if raw is None:
        raw = []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,\s]+", raw) if p]
    if not isinstance(raw, list | tuple):
        return _refused("answer.multi_not_list", options=allowed)
    picked = [_option_id(v) for v in raw]
    unknown = [v for v in picked if v not in allowed]
    if unknown:
        return _refused("answer.multi_unknown", unknown=unknown, options=allowed)
    if len(set(picked)) != len(picked):
        return _refused("answer.multi_duplicate")
    return _count(q, picked, allowed) or Verdict(sorted(picked, key=allowed.index))  # the flow's order


def _count(q: Question, picked: list[str], allowed: list[str]) -> Verdict | None:
    """Too few or too many picks for the question's `min`/`max` (at least one by default)."""
    lowest = q.min if q.min is not None else 1
    highest = q.max if q.max is not None else len(allowed)
    if len(picked) < lowest:
        return _refused("answer.multi_too_few", min=lowest)
    if len(picked) > highest:
        return _refused("answer.multi_too_many", max=highest)
    return None


_CURRENCY = re.compile(r"(?i)(€|\$|£|eur(os?)?|usd|dollars?)")
_SUFFIX = {"k": 1_000, "m": 1_000_000, "md": 1_000_000_000, "bn": 1_000_000_000}


def parse_number(raw: Any) -> int | None:
    """People type amounts as `12000`, `12 000`, `12,000`, `12.000`, `12k`, `1.5k` or `12 000 €`."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    text = _CURRENCY.sub("", text)
    text = re.sub(r"[\s'’_]", "", text)
    match = re.fullmatch(r"(-?)([\d.,]+)(k|m|md|bn)?", text)
    if not match:
        return None
    sign, digits, suffix = match.groups()
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):  # thousands separators
        number = Decimal(digits.replace(",", "").replace(".", ""))
    elif re.fullmatch(r"\d+([.,]\d+)?", digits):  # one decimal mark
        number = Decimal(digits.replace(",", "."))
    else:
        return None
    number *= _SUFFIX.get(suffix or "", 1)
    if number != number.to_integral_value():
        return None
    return -int(number) if sign else int(number)


def _number(q: Question, raw: Any) -> Verdict:
    value = parse_number(raw)
    if value is None:
        return _refused("answer.number_invalid")
    lowest = q.min if q.min is not None else 0
    highest = q.max if q.max is not None else 10**15
    if not lowest <= value <= highest:
        return _refused("answer.number_range", min=lowest, max=highest)
    return Verdict(value)


# Characters nobody means to type, dropped from free text before it is checked, saved or shown:
# C0, DEL and C1 controls; lone surrogates (from a bad byte in a terminal or `\ud800` in JSON: no
# file or API can encode them); bidirectional controls (a right-to-left override makes an echoed
# answer read backwards, "Trojan source" style); invisible zero-width characters and soft hyphens.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e\u00ad]")
# Zero-width (non-)joiners have real uses inside a word or an emoji sequence (Persian, 👩‍💻):
# kept between two visible characters, dropped anywhere else.
_STRAY_JOINER = re.compile("(?<!\\S)[\u200c\u200d]+|[\u200c\u200d]+(?!\\S)")


def clean_text(raw: str) -> str:
    """Free text as people meant it: invisible and direction-changing characters dropped,
    composed (NFC), trimmed."""
    text = _STRAY_JOINER.sub("", _UNWANTED.sub("", raw))
    return unicodedata.normalize("NFC", text).strip()


def _text(q: Question, raw: Any) -> Verdict:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        return _refused("answer.text_length", min=q.min_length, max=q.max_length)
    text = clean_text(str(raw))
    if not q.min_length <= len(text) <= q.max_length:
        return _refused("answer.text_length", min=q.min_length, max=q.max_length, length=len(text))
    return Verdict(text)
