"""Message catalogues (YAML, one file per language) and number/plural formatting (Babel).

Every sentence a person reads that is not in a flow file lives in `cmbot/locales/<lang>.yaml`.
`t("risk.isolated_role.title", "fr")` looks a key up; a mapping with `one`/`other` is a plural
chosen by the `count` parameter with the language's own rule (French: 0 and 1 are singular).
"""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

from .safe_yaml import load_shipped

LANGUAGES = ("en", "fr")
DEFAULT_LANG = "en"
LOCALES_DIR = Path(__file__).parent / "locales"


class CatalogueError(ValueError):
    """A catalogue file that is missing or not valid YAML."""


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not set(value) <= {"one", "other"}:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@cache
def catalogue(lang: str) -> dict[str, Any]:
    path = LOCALES_DIR / f"{lang}.yaml"
    try:
        return _flatten(load_shipped(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot load the message catalogue ({exc})") from exc


def normalise_lang(lang: str | None) -> str | None:
    """`fr-FR`, `fr_CA.UTF-8`, `FR` -> `fr`; None for a language cmbot does not speak."""
    if not lang:
        return None
    short = lang.replace("_", "-").split("-")[0].split(".")[0].lower()
    return short if short in LANGUAGES else None


def system_lang() -> str | None:
    """The language of the user's locale, read as gettext reads it: `LC_ALL`, then `LC_MESSAGES`,
    then `LANG` (the first one set decides), and `LANGUAGE` before them unless that locale is C.

    Read from the environment rather than `locale.getlocale()`: in a container whose system
    locale is C.UTF-8, Python reports `en_US` even when the user set `LANG=fr_FR.UTF-8`.
    """
    chosen = next((os.environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG")
                   if os.environ.get(name)), "")
    if chosen.split(".")[0] in ("", "C", "POSIX"):
        return None
    for candidate in (*os.environ.get("LANGUAGE", "").split(":"), chosen):
        lang = normalise_lang(candidate)
        if lang:
            return lang
    return None


def env_lang_problem() -> str | None:
    """A `CMBOT_LANG` cmbot cannot speak, as a one-line message (None when it is fine or unset):
    a typo there must not silently become English."""
    value = os.environ.get("CMBOT_LANG")
    if not value or normalise_lang(value):
        return None
    return t("cli.env_lang_unknown", system_lang() or DEFAULT_LANG, lang=value)


def default_lang() -> str:
    """`CMBOT_LANG`, else the user's locale, else English."""
    return normalise_lang(os.environ.get("CMBOT_LANG")) or system_lang() or DEFAULT_LANG


def t(key: str, lang: str, /, **params: Any) -> Any:
    """The text for `key` in `lang` with `params` filled in (a list stays a list)."""
    entries = catalogue(lang if lang in LANGUAGES else DEFAULT_LANG)
    if key not in entries:
        raise KeyError(f"no message '{key}' in the {lang} catalogue")
    value = entries[key]
    if isinstance(value, dict):  # plural forms
        value = value[Locale(lang).plural_form(params.get("count", 0))]
    if isinstance(value, list):
        return [str(v).format(**params) for v in value]
    return str(value).format(**params) if params else str(value)


def amount(value: int, lang: str) -> str:
    """`€12,000` in English, `12 000 €` in French."""
    return format_currency(value, "EUR", locale=lang, format=t("format.currency", lang),
                           currency_digits=False)


def number(value: int, lang: str) -> str:
    """`1,000,000,000` in English, `1 000 000 000` (narrow no-break spaces) in French."""
    return format_decimal(value, locale=lang)


def join(items: list[str], lang: str) -> str:
    """`a, b and c` / `a, b et c`, by the CLDR list pattern of the catalogue's `format.list_locale`
    (British English has no comma before "and")."""
    return format_list(items, locale=t("format.list_locale", lang)) if items else ""


def long_date(iso: str, lang: str) -> str:
    """`on 1 December 2026` / « le 1er décembre 2026 » from an ISO timestamp."""
    day = date.fromisoformat(iso[:10])
    number = t("format.first_day", lang) if day.day == 1 else str(day.day)
    return t("format.date", lang, day=number, month=format_date(day, "MMMM", locale=lang),
             year=day.year)
