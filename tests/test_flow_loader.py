"""Flow files: the built-in interview keeps the state and option ids the advisor reads, and a
broken flow file is refused with a `FlowError` that says which file, which state and which line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cmbot.interview import FlowError, Interview, builtin_flows_dir, load_flow, load_flows
from cmbot.interview.source import parse_document

REPO_FLOW = Path(__file__).resolve().parents[1] / "flows" / "community_manager.yaml"

DEPARTMENTS = ["communication", "marketing", "web", "sales", "customer_service", "product", "hr"]

# The default flow `community_manager`: its state and option ids are a contract with the advisor,
# the Slack blocks and saved consultations.
CONTRACT: dict[str, tuple[str, list[str]]] = {
    "org_size": ("choice", ["micro", "small", "medium", "large"]),
    "departments": ("multi", DEPARTMENTS),
    "proposed_host": ("choice", [*DEPARTMENTS, "management", "undecided"]),
    "budget_owner": ("choice", ["host", "management", "shared", "dedicated", "unknown"]),
    "budget_amount": ("number", []),
    "objectives": ("multi", ["fans", "conversion", "company_news", "awareness", "support",
                             "feedback", "advocates", "other"]),
    "objectives_other": ("text", []),
    "reporting": ("choice", ["volume", "sales", "qualitative", "none"]),
    "content": ("choice", ["none", "little", "regular", "rich"]),
    "brand_reach": ("choice", ["household", "known", "niche"]),
    "collaboration": ("multi", DEPARTMENTS),
    "dedicated_possible": ("choice", ["yes", "maybe", "no"]),
    "confirm": ("confirm", ["confirm", "edit"]),
}


# --- the built-in flow -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtin():
    return load_flows()["community_manager"]


def test_builtin_flow_has_exactly_the_contract_states_in_order(builtin):
    assert list(builtin.states) == list(CONTRACT)
    assert builtin.start == "org_size"
    assert {sid: q.kind for sid, q in builtin.states.items()} == {
        sid: kind for sid, (kind, _) in CONTRACT.items()
    }


@pytest.mark.parametrize("state", list(CONTRACT))
def test_builtin_flow_offers_exactly_the_contract_option_ids(builtin, state):
    # With every department picked, the options that depend on `departments` are all offered.
    answers = {"departments": DEPARTMENTS}
    offered = [o.id for o in builtin.options(builtin.states[state], answers)]
    assert offered == CONTRACT[state][1]


def test_department_dependent_options_follow_the_departments_picked(builtin):
    answers = {"departments": ["web", "sales"]}
    host = [o.id for o in builtin.options(builtin.states["proposed_host"], answers)]
    collab = [o.id for o in builtin.options(builtin.states["collaboration"], answers)]
    assert host == ["web", "sales", "management", "undecided"]
    assert collab == ["web", "sales"]


def test_builtin_flow_speaks_english_and_french_everywhere(builtin):
    assert set(builtin.languages) >= {"en", "fr"}
    for q in builtin.states.values():
        for lang in ("en", "fr"):
            assert q.prompt[lang].strip(), (q.id, lang)
            for option in q.options:
                assert option.label[lang].strip(), (q.id, option.id, lang)
        assert q.prompt["en"] != q.prompt["fr"], q.id


def test_budget_amount_and_text_limits_are_the_contract(builtin):
    amount = builtin.states["budget_amount"]
    assert (amount.min, amount.max) == (0, 1_000_000_000)
    other = builtin.states["objectives_other"]
    assert (other.min_length, other.max_length) == (1, 500)


def test_builtin_flow_is_the_repository_file_and_builds_a_machine():
    from_repo = load_flow(REPO_FLOW)
    assert builtin_flows_dir().joinpath("community_manager.yaml").is_file()
    assert list(from_repo.states) == list(CONTRACT)
    Interview(from_repo)  # the transitions machine accepts every state and rule


# --- broken flow files -----------------------------------------------------------------------

# A small valid flow; each test below breaks it in one way. Line numbers matter: the error
# must point at the line of the state (or option) that is wrong.
BASE = (Path(__file__).parent / "data" / "tiny_flow.yaml").read_text(encoding="utf-8")


CONFIRM_STATE = "  - id: confirm\n    kind: confirm\n"
assert BASE.count(CONFIRM_STATE) == 1


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `fragment`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return hits[occurrence - 1]


def write(tmp_path: Path, text: str, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> FlowError:
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    return caught.value


def assert_points_at(error: FlowError, path: Path, state: str | None, line: int | None) -> None:
    message = str(error)
    assert str(path) in message
    if state is not None:
        assert f"'{state}'" in message
        assert error.state == state
    if line is not None:
        assert f"{path}:{line}:" in message
        assert error.line == line


def test_the_base_flow_used_below_is_valid(tmp_path):
    flow = load_flow(write(tmp_path, BASE))
    assert list(flow.states) == ["size", "detail", "confirm"]
    interview = Interview(flow)
    assert interview.path({"size": "large"}) == ["size", "detail", "confirm"]
    assert interview.path({"size": "small"}) == ["size", "confirm"]


def test_unknown_next_target(tmp_path):
    text = BASE.replace("    next: confirm\n", "    next: nowhere\n")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "detail", line_of(text, "- id: detail"))
    assert "nowhere" in str(error)


def test_unknown_goto_in_a_conditional_rule(tmp_path):
    text = BASE.replace("goto: detail", "goto: detial")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "- id: size"))
    assert "detial" in str(error)


def test_duplicate_state_id(tmp_path):
    text = BASE.replace(CONFIRM_STATE, "  - id: detail\n    kind: text\n"
                        "    prompt: {en: Again, fr: Encore}\n    next: confirm\n" + CONFIRM_STATE)
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "detail", line_of(text, "- id: detail", occurrence=2))
    assert "duplicate" in str(error)


def test_duplicate_option_id(tmp_path):
    text = BASE.replace("      - id: large\n", "      - id: small\n")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "- id: small", occurrence=2))
    assert "small" in str(error)
    assert "duplicate" in str(error)


def test_unreachable_state(tmp_path):
    text = BASE.replace(CONFIRM_STATE, "  - id: orphan\n    kind: text\n"
                        "    prompt: {en: Lost, fr: Perdu}\n    next: confirm\n" + CONFIRM_STATE)
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "orphan", line_of(text, "- id: orphan"))
    assert "unreachable" in str(error)


def test_dead_end_that_never_reaches_confirm(tmp_path):
    text = BASE.replace("    next: confirm\n", "    next: detail\n")  # detail loops on itself
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "detail", line_of(text, "- id: detail"))
    assert "dead end" in str(error)


def test_missing_label_in_one_language(tmp_path):
    text = BASE.replace("label: {en: Large, fr: Grande}", "label: {en: Large}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "label: {en: Large}"))
    assert "fr" in error.reason
    assert "label" in error.reason


def test_missing_prompt_in_one_language(tmp_path):
    text = BASE.replace("prompt: {en: Tell me more, fr: Dites-en plus}",
                        "prompt: {en: Tell me more, fr: '  '}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "detail", line_of(text, "prompt: {en: Tell me more"))
    assert "fr" in error.reason


def test_condition_with_unknown_operator(tmp_path):
    text = BASE.replace("{answer: size, is: large}", "{answer: size, equals: large}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "equals: large"))
    assert "unknown key 'equals' in the condition" in error.reason


def test_condition_that_is_not_a_mapping(tmp_path):
    text = BASE.replace("if: {answer: size, is: large}", "if: size == large")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "if: size == large"))
    assert "must be a mapping" in error.reason and error.hint.startswith("a condition: {answer: STATE")


def test_condition_naming_an_unknown_state(tmp_path):
    text = BASE.replace("{answer: size, is: large}", "{answer: sise, is: large}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "- id: size"))
    assert "'sise'" in str(error)


def test_condition_naming_an_unknown_option(tmp_path):
    text = BASE.replace("{answer: size, is: large}", "{answer: size, in: [large, huge]}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", line_of(text, "- id: size"))
    assert "'huge'" in str(error)


def test_nested_condition_naming_an_unknown_option(tmp_path):
    text = BASE.replace("{answer: size, is: large}",
                        "{any: [{answer: size, is: large}, {not: {answer: size, is: giant}}]}")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, "size", None)
    assert "'giant'" in str(error)


def test_invalid_yaml(tmp_path):
    text = BASE.replace("    kind: text\n", "    kind: [text\n")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, None, None)
    assert "YAML" in str(error)
    assert error.line is not None
    assert f"{path}:{error.line}:" in str(error)
    # The parser notices the unclosed bracket at or after the line that opened it.
    assert error.line >= line_of(text, "kind: [text")


def test_missing_languages(tmp_path):
    text = BASE.replace("languages: [en, fr]\n", "")
    path = write(tmp_path, text)
    error = load_error(path)
    assert_points_at(error, path, None, None)
    assert "languages" in str(error)


def test_empty_languages(tmp_path):
    text = BASE.replace("languages: [en, fr]\n", "languages: []\n")
    path = write(tmp_path, text)
    assert "languages" in str(load_error(path))


def test_lines_come_from_the_yaml_tree_not_from_keys_mixed_into_the_data():
    doc = parse_document(BASE, "tiny.yaml")
    assert doc.data == yaml.safe_load(BASE)
    assert doc.line(("states", 1)) == line_of(BASE, "- id: detail")
    assert doc.line(("states", 0, "options", 1, "label")) == line_of(BASE, "label: {en: Large")
    assert doc.line(("start",)) == line_of(BASE, "start: size")


def test_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "missing.yaml"
    error = load_error(path)
    assert str(path) in str(error)


def test_a_broken_flow_in_the_extra_folder_stops_load_flows(tmp_path):
    text = BASE.replace("    next: confirm\n", "    next: nowhere\n")
    path = write(tmp_path, text)
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert str(path) in str(caught.value)


def test_extra_folder_adds_a_flow_next_to_the_builtin_one(tmp_path):
    write(tmp_path, BASE)
    flows = load_flows(tmp_path)
    assert {"community_manager", "tiny"} <= set(flows)


# Regression: a state named like a machine end state once ended the interview when reached.
@pytest.mark.parametrize("reserved", ["done", "cancelled"])
def test_reserved_state_ids_are_refused(tmp_path, reserved):
    text = BASE.replace("goto: detail", f"goto: {reserved}").replace(
        "  - id: detail\n", f"  - id: {reserved}\n")
    path = write(tmp_path, text)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert f"'{reserved}'" in str(caught.value)
