"""Answer validation: every kind gives back a clean value or a reason to ask again
(a `Problem` whose key is a message in both catalogues) — never an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmbot.interview import load_flow, load_flows, parse_number, validate
from cmbot.interview.wording import say_problem

FLOW = load_flows()["community_manager"]
Q = FLOW.states
ALL_DEPARTMENTS = ["communication", "marketing", "web", "sales", "customer_service", "product",
                   "hr"]


def check(state: str, raw: Any, answers: dict[str, Any] | None = None):
    return validate(FLOW, Q[state], raw, answers or {})


def value_of(state: str, raw: Any, answers: dict[str, Any] | None = None) -> Any:
    verdict = check(state, raw, answers)
    assert verdict.ok, verdict.problem
    assert verdict.problem is None
    return verdict.value


def problem_of(state: str, raw: Any, answers: dict[str, Any] | None = None) -> str:
    verdict = check(state, raw, answers)
    assert not verdict.ok
    assert verdict.value is None
    # What the person reads: a real sentence in both languages, not a key.
    for lang in ("en", "fr"):
        sentence = say_problem(verdict.problem, lang, FLOW, state)
        assert sentence.strip() and sentence != verdict.problem.key
        assert "{" not in sentence
    return verdict.problem.key


# --- choice ----------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["micro", "small", "medium", "large"])
def test_choice_accepts_each_option(option):
    assert value_of("org_size", option) == option


def test_choice_tolerates_surrounding_spaces_and_a_one_item_list():
    assert value_of("org_size", "  small ") == "small"
    assert value_of("org_size", ["large"]) == "large"


@pytest.mark.parametrize("raw", ["huge", "", "Small", "1", 1, None, ["small", "large"], {"a": 1},
                                 3.5])
def test_choice_refuses_anything_else(raw):
    assert problem_of("org_size", raw) == "answer.choice_unknown"


def test_choice_problem_lists_the_options_offered():
    verdict = check("org_size", "huge")
    assert verdict.problem.params["options"] == ["micro", "small", "medium", "large"]


def test_yaml_booleans_are_the_yes_and_no_options():
    # An answers file saying `dedicated_possible: yes` reaches validation as True.
    assert value_of("dedicated_possible", True) == "yes"
    assert value_of("dedicated_possible", False) == "no"
    assert value_of("dedicated_possible", "maybe") == "maybe"


def test_proposed_host_offers_only_the_departments_picked():
    answers = {"departments": ["web", "sales"]}
    for ok in ("web", "sales", "management", "undecided"):
        assert value_of("proposed_host", ok, answers) == ok
    assert problem_of("proposed_host", "marketing", answers) == "answer.choice_unknown"
    assert check("proposed_host", "hr", answers).problem.params["options"] == [
        "web", "sales", "management", "undecided"]


# --- multi -----------------------------------------------------------------------------------


def test_multi_keeps_the_flow_order_whatever_the_order_picked():
    assert value_of("departments", ["sales", "communication", "web"]) == [
        "communication", "web", "sales"]
    assert value_of("objectives", ["other", "fans"]) == ["fans", "other"]


def test_multi_accepts_a_comma_separated_string():
    assert value_of("departments", "sales, web") == ["web", "sales"]


def test_multi_departments_needs_at_least_one():
    assert problem_of("departments", []) == "answer.multi_too_few"
    assert check("departments", []).problem.params["min"] == 1
    assert problem_of("objectives", None) == "answer.multi_too_few"


def test_collaboration_may_be_empty():
    assert value_of("collaboration", [], {"departments": ["web"]}) == []


def test_collaboration_offers_only_the_departments_picked():
    answers = {"departments": ["web", "sales"]}
    assert value_of("collaboration", ["sales", "web"], answers) == ["web", "sales"]
    assert problem_of("collaboration", ["hr"], answers) == "answer.multi_unknown"


def test_multi_refuses_unknown_options_and_names_them():
    verdict = check("departments", ["sales", "legal", "it"])
    assert verdict.problem.key == "answer.multi_unknown"
    assert verdict.problem.params["unknown"] == ["legal", "it"]
    assert problem_of("departments", ["Sales"]) == "answer.multi_unknown"


def test_multi_refuses_duplicates():
    assert problem_of("departments", ["sales", "web", "sales"]) == "answer.multi_duplicate"


def test_multi_refuses_a_non_list():
    assert problem_of("departments", 3) == "answer.multi_not_list"
    assert problem_of("departments", {"sales": True}) == "answer.multi_not_list"


MINMAX_FLOW = """\
id: minmax
version: 1
languages: [en, fr]
title: {en: T, fr: T}
start: pick
states:
  - id: pick
    kind: multi
    min: 2
    max: 3
    prompt: {en: Pick, fr: Choisir}
    options:
      - {id: a, label: {en: A, fr: A}}
      - {id: b, label: {en: B, fr: B}}
      - {id: c, label: {en: C, fr: C}}
      - {id: d, label: {en: D, fr: D}}
    next: confirm
  - id: confirm
    kind: confirm
    prompt: {en: OK, fr: OK}
    options:
      - {id: confirm, label: {en: Go, fr: Go}}
      - {id: edit, label: {en: Edit, fr: Modifier}}
"""


@pytest.fixture
def minmax(tmp_path: Path):
    path = tmp_path / "minmax.yaml"
    path.write_text(MINMAX_FLOW, encoding="utf-8")
    return load_flow(path)


def test_multi_min_and_max_from_the_flow(minmax):
    pick = minmax.states["pick"]
    too_few = validate(minmax, pick, ["a"], {})
    assert too_few.problem.key == "answer.multi_too_few"
    assert too_few.problem.params["min"] == 2
    too_many = validate(minmax, pick, ["a", "b", "c", "d"], {})
    assert too_many.problem.key == "answer.multi_too_many"
    assert too_many.problem.params["max"] == 3
    assert validate(minmax, pick, ["c", "a"], {}).value == ["a", "c"]
    assert validate(minmax, pick, ["d", "c", "b"], {}).value == ["b", "c", "d"]
    for lang in ("en", "fr"):
        assert "2" in say_problem(too_few.problem, lang, minmax, "pick")
        assert "3" in say_problem(too_many.problem, lang, minmax, "pick")


# --- number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12000", 12_000),
        ("12 000", 12_000),
        ("12\u00a0000", 12_000),  # no-break space, as French keyboards and copy-paste give
        ("12\u202f000", 12_000),  # narrow no-break space
        ("12,000", 12_000),
        ("12.000", 12_000),
        ("12k", 12_000),
        ("12K", 12_000),
        ("12 000 €", 12_000),
        ("€12,000", 12_000),
        ("12 000 euros", 12_000),
        ("1.5k", 1_500),
        ("1,5k", 1_500),
        ("0", 0),
        (" 0 ", 0),
        ("1m", 1_000_000),
        ("1 000 000 000", 1_000_000_000),
        (12_000, 12_000),
        (12_000.0, 12_000),
    ],
)
def test_number_as_people_type_it(raw, expected):
    assert value_of("budget_amount", raw) == expected


@pytest.mark.parametrize("raw", ["12.5", "12,5", "abc", "", "   ", "twelve", "1e3", "12 000,50",
                                 "k", "€", None, True, [12], 12.5, "1,2,3"])
def test_number_refuses_what_is_not_a_whole_amount(raw):
    assert problem_of("budget_amount", raw) == "answer.number_invalid"


@pytest.mark.parametrize("raw", ["-1", -1, "1 000 000 001", "1000000001", "2md", 10**12])
def test_number_out_of_range(raw):
    assert problem_of("budget_amount", raw) == "answer.number_range"
    params = check("budget_amount", raw).problem.params
    assert (params["min"], params["max"]) == (0, 1_000_000_000)


# Regression: float arithmetic once refused these (16.1 * 1000 = 16100.000000000002).
@pytest.mark.parametrize(("raw", "expected"),
                         [("16.1k", 16_100), ("32.2k", 32_200), ("2.01k", 2_010),
                          ("4.1m", 4_100_000)])
def test_decimal_with_suffix_is_exact(raw, expected):
    assert parse_number(raw) == expected
    assert value_of("budget_amount", raw) == expected


# --- text ------------------------------------------------------------------------------------


def test_text_is_trimmed():
    assert value_of("objectives_other", "  Train our partners  ") == "Train our partners"


def test_text_length_limits():
    assert value_of("objectives_other", "a") == "a"
    assert value_of("objectives_other", "x" * 500) == "x" * 500
    verdict = check("objectives_other", "x" * 501)
    assert verdict.problem.key == "answer.text_length"
    assert (verdict.problem.params["min"], verdict.problem.params["max"]) == (1, 500)


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01\x7f", None, ["a"], {"a": 1}, True])
def test_text_refuses_empty_and_non_text(raw):
    assert problem_of("objectives_other", raw) == "answer.text_length"


def test_text_control_characters_are_stripped():
    assert value_of("objectives_other", "a\x00b\x07c\x1b[31md\x7f") == "abc[31md"
    assert value_of("objectives_other", "a\rb") == "ab"
    # Stripping happens before counting: 500 letters plus control bytes still fit.
    assert value_of("objectives_other", "x" * 500 + "\x00" * 10) == "x" * 500


# Regression: C1 controls (U+0080-U+009F, e.g. U+009B CSI) were once kept.
def test_text_c1_control_characters_are_stripped():
    assert value_of("objectives_other", "a\x9bb\x85c") == "abc"


# --- never raises ----------------------------------------------------------------------------

ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["sales", "other", "yes", "12k", "12 000 €", "management"]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10,
)


@given(state=st.sampled_from(list(Q)), raw=ANYTHING,
       departments=st.lists(st.sampled_from(ALL_DEPARTMENTS), unique=True))
def test_validation_never_raises_and_problems_are_sentences(state, raw, departments):
    verdict = validate(FLOW, Q[state], raw, {"departments": departments})
    assert verdict.ok == (verdict.problem is None)
    if verdict.problem is not None:
        for lang in ("en", "fr"):
            assert say_problem(verdict.problem, lang, FLOW, state).strip()


@given(amount=st.integers(0, 1_000_000_000))
def test_every_amount_in_range_round_trips_as_people_write_it(amount):
    plain = str(amount)
    grouped_en = f"{amount:,}"
    grouped_fr = grouped_en.replace(",", " ")
    for raw in (plain, grouped_en, grouped_fr, grouped_fr + " €"):
        assert value_of("budget_amount", raw) == amount, raw


# --- free text is cleaned of what nobody means to type ------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    pytest.param("half a \ud800pair", "half a pair", id="lone-surrogate"),
    pytest.param("\u202egnitekram\u202c team", "gnitekram team", id="right-to-left-override"),
    pytest.param("\u2067isolate\u2069 and \u200fmark", "isolate and mark", id="bidi-isolates-marks"),
    pytest.param("zero\u200bwidth\ufeff\u2060", "zerowidth", id="zero-width"),
    pytest.param("\u200dstray joiner\u200c", "stray joiner", id="stray-joiners"),
    pytest.param("dev \U0001F469\u200d\U0001F4BB", "dev \U0001F469\u200d\U0001F4BB",
                 id="emoji-sequence-kept"),
    pytest.param("cafe\u0301", "caf\u00e9", id="composed"),
])
def test_free_text_is_cleaned_before_it_is_accepted(raw, clean):
    assert value_of("objectives_other", raw, {"objectives": ["other"]}) == clean


def test_free_text_of_only_invisible_characters_is_asked_again():
    invisible = "\u200b\u202e\ud800 "
    assert problem_of("objectives_other", invisible, {"objectives": ["other"]}) == "answer.text_length"


@given(st.text())
def test_any_accepted_free_text_can_be_saved_as_utf8(raw):
    verdict = check("objectives_other", raw, {"objectives": ["other"]})
    if verdict.ok:
        verdict.value.encode("utf-8")  # no lone surrogate ever reaches a file or Slack
