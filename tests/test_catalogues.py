"""Every word cmbot says exists in English and French, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from cmbot.i18n import LANGUAGES, amount, catalogue, t
from cmbot.interview import load_flows


def placeholders(value: object) -> set[str]:
    texts = value if isinstance(value, list) else (
        list(value.values()) if isinstance(value, dict) else [value])
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(str(text)) if name}


def test_every_key_exists_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = sorted(keys[other] - keys[lang])
            assert not missing, f"{lang}.yaml lacks {missing}"


def test_placeholders_match_between_languages():
    en = catalogue("en")
    for key, value in en.items():
        for lang in LANGUAGES:
            assert placeholders(catalogue(lang)[key]) == placeholders(value), (lang, key)


def test_plurals_and_lists_keep_their_shape():
    en = catalogue("en")
    for key, value in en.items():
        for lang in LANGUAGES:
            other = catalogue(lang)[key]
            assert type(other) is type(value), (lang, key)
            if isinstance(value, list):
                assert len(other) == len(value), (lang, key)


@pytest.mark.parametrize("flow", load_flows().values(), ids=lambda f: f.id)
def test_flows_speak_both_languages(flow):
    assert set(flow.languages) == set(LANGUAGES)
    for question in flow.states.values():
        for lang in LANGUAGES:
            assert question.prompt[lang].strip()
            for option in question.options:
                assert option.label[lang].strip()


def test_french_typography():
    """Spaces before : ; ? ! are no-break spaces, never plain ones, in French texts."""
    for key, value in catalogue("fr").items():
        for text in value if isinstance(value, list) else (
                value.values() if isinstance(value, dict) else [value]):
            for mark in ":;?!":
                assert f" {mark}" not in str(text).replace("://", ""), (key, text)


def test_numbers_and_plurals_per_language():
    assert amount(12000, "en") == "€12,000"
    assert amount(12000, "fr") == "12\u202f000\u00a0€"
    assert t("answer.multi_too_few", "en", min=1, count=1) == "Please pick at least 1 option."
    assert t("answer.multi_too_few", "en", min=2, count=2) == "Please pick at least 2 options."
    assert t("answer.multi_too_few", "fr", min=1, count=1) == "Merci de choisir au moins 1 option."
    assert t("answer.multi_too_few", "fr", min=0, count=0) == "Merci de choisir au moins 0 option."


def test_values_are_texts():
    """A bare `no` or `yes` in YAML is a boolean; every message must stay a text."""
    for lang in LANGUAGES:
        for key, value in catalogue(lang).items():
            parts = value if isinstance(value, list) else (
                list(value.values()) if isinstance(value, dict) else [value])
            assert all(isinstance(p, str) for p in parts), (lang, key, value)
