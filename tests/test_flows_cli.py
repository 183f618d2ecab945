"""Flow authoring, as an author meets it: `cmbot flows check | list | graph` on flow files written
to a temporary folder (in this process through typer's runner, and once as the installed command);
a flow of one's own run through the installed `cmbot chat`; and the second built-in flow,
`objectives_review`, with the advisor's rules."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from commandline import environment, run
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cmbot.advisor import advise
from cmbot.advisor.rules import Facts
from cmbot.flows_cli import flows_app
from cmbot.interview import FlowError, Interview, builtin_flows_dir, load_flow, load_flows

# A small valid flow; the cases below break it. Errors must point at the line of the state
# (or option, or key) that is wrong.
BASE = (Path(__file__).parent / "data" / "tiny_flow.yaml").read_text(encoding="utf-8")
CONFIRM = "  - id: confirm\n    kind: confirm\n"
ORPHAN = "  - id: orphan\n    kind: text\n    prompt: {en: Lost, fr: Perdu}\n    next: confirm\n"


def cmbot(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    """The command, its database in `cwd`, no CMBOT_/SLACK_ settings but `env`."""
    return run(args, env=environment(cwd / "cmbot.json", **env), cwd=cwd, stdin=stdin)


def cmbot_flows(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`cmbot flows ...` in this process (typer's runner), with no CMBOT_FLOWS but `env`'s."""
    result = CliRunner().invoke(flows_app, list(args), env={"CMBOT_FLOWS": None, **env})
    return subprocess.CompletedProcess(["cmbot", "flows", *args], result.exit_code, result.stdout,
                                       result.stderr)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based number of the n-th line containing `fragment`."""
    return [n for n, line in enumerate(text.splitlines(), 1) if fragment in line][occurrence - 1]


def change(old: str, new: str, count: int = 1) -> str:
    assert BASE.count(old) >= count, old
    return BASE.replace(old, new, count)


# (case, broken text, state named in the error or None, fragment of the line it points at,
#  occurrence of that fragment, words the message must contain)
CASES: list[tuple[str, str, str | None, str, int, list[str]]] = [
    ("unknown_target", change("    next: confirm\n", "    next: nowhere\n"),
     "detail", "- id: detail", 1, ["unknown state 'nowhere'"]),
    ("unknown_goto_with_hint", change("goto: detail", "goto: detial"),
     "size", "- id: size", 1, ["unknown state 'detial'", "hint: did you mean 'detail'?"]),
    ("unreachable", change(CONFIRM, ORPHAN + CONFIRM), "orphan", "- id: orphan", 1, ["unreachable"]),
    ("dead_end", change("    next: confirm\n", "    next: detail\n"), "detail", "- id: detail", 1,
     ["dead end", "confirm"]),
    ("duplicate_state", change(CONFIRM, "  - id: detail\n    kind: text\n    prompt: {en: A, fr: B}\n"
                                        "    next: confirm\n" + CONFIRM),
     "detail", "- id: detail", 2, ["duplicate state id"]),
    ("duplicate_option", change("      - id: large\n", "      - id: small\n"), "size", "- id: small", 2,
     ["duplicate option id 'small'"]),
    ("condition_unknown_state", change("{answer: size, is: large}", "{answer: sise, is: large}"),
     "size", "- id: size", 1, ["condition names unknown state 'sise'", "did you mean 'size'?"]),
    ("condition_unknown_option", change("{answer: size, is: large}", "{answer: size, in: [large, huge]}"),
     "size", "- id: size", 1, ["unknown option 'huge' of 'size'"]),
    ("condition_reads_a_later_state", change("{answer: size, is: large}", "{answer: detail, is: large}"),
     "size", "- id: size", 1, ["reads 'detail'", "not asked before"]),
    ("has_on_a_choice", change("{answer: size, is: large}", "{answer: size, has: large}"),
     "size", "- id: size", 1, ["'has' reads a multi answer"]),
    ("missing_translation", change("label: {en: Large, fr: Grande}", "label: {en: Large}"),
     "size", "label: {en: Large}", 1, ["'label' has no fr text"]),
    ("missing_language", change("languages: [en, fr]", "languages: [en]"),
     None, "languages: [en]", 1, ["'languages' lacks fr"]),
    ("reserved_id", change("goto: detail", "goto: done").replace("  - id: detail\n", "  - id: done\n"),
     "done", "- id: done", 1, ["'done' is reserved"]),
    ("unknown_start", change("start: size", "start: sise"), None, "start: sise", 1,
     ["'start' names unknown state 'sise'"]),
    ("no_default_rule", change("      - goto: confirm\n", "      - {if: {answer: size, is: small}, "
                                                         "goto: confirm}\n"),
     "size", "- id: size", 1, ["must have no 'if'"]),
    ("schema_unknown_kind", change("    kind: text\n", "    kind: txt\n"), "detail", "kind: txt", 1,
     ["'kind' must be one of", "did you mean 'text'?"]),
    ("schema_unknown_key", change("    options:\n", "    optons:\n"), "size", "optons:", 1,
     ["unknown key 'optons'", "did you mean 'options'?"]),
    ("schema_boolean_id", change("      - id: small\n", "      - id: yes\n"), "size", "- id: yes", 1,
     ["must be text, not the boolean true", "quote it"]),
    ("schema_bad_condition", change("{answer: size, is: large}", "{answer: size, equals: large}"),
     "size", "equals: large", 1, ["unknown key 'equals'"]),
    ("schema_confirm_with_next", change("        label: {en: Change, fr: Modifier}\n",
                                        "        label: {en: Change, fr: Modifier}\n    next: size\n"),
     "confirm", "next: size", 1, ["'next' is not allowed here"]),
    ("schema_comma_in_a_text", change("{en: Large, fr: Grande}", "{en: Large, very, fr: Grande}"),
     "size", "label: {en: Large, very", 1, ["'very' is not a language code", "quote"]),
    ("invalid_yaml", change("    kind: text\n", "    kind: [text\n"), None, "", 0, ["not valid YAML"]),
]

OUTPUT_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?:state '(?P<state>[^']+)': )?(?P<message>.+)$")


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Every broken case in its own file, checked by one run of the installed command."""
    folder = tmp_path_factory.mktemp("broken")
    for name, text, *_ in CASES:
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    files = [str(folder / f"{name}.yaml") for name, *_ in CASES]
    return folder, cmbot_flows("check", *files)


def errors_of(result: subprocess.CompletedProcess, path: Path) -> list[dict[str, Any]]:
    found = []
    for line in result.stdout.splitlines():
        match = OUTPUT_LINE.match(line)
        if match and match["file"] == str(path):
            found.append({**match.groupdict(), "line": int(match["line"]), "text": line})
    return found


@pytest.mark.parametrize(("name", "text", "state", "fragment", "occurrence", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_problem_is_reported_with_its_file_line_state_and_hint(checked, name, text, state, fragment,
                                                                    occurrence, words):
    folder, result = checked
    assert result.returncode == 1
    errors = errors_of(result, folder / f"{name}.yaml")
    hits = [e for e in errors if all(w in e["text"] for w in words)]
    assert hits, f"{words} not in:\n" + "\n".join(e["text"] for e in errors)
    error = hits[0]
    if occurrence:
        assert error["line"] == line_of(text, fragment, occurrence), error["text"]
    else:  # a YAML error is noticed at or after the line that opened the bracket
        assert error["line"] >= line_of(text, "kind: [text")
    assert error["state"] == state
    assert "(hint: " in error["text"] and error["text"].endswith(")")
    assert f"{folder / name}.yaml: OK" not in result.stdout
    with pytest.raises(FlowError):  # the same schema and rules stop `load_flow` at start-up
        load_flow(folder / f"{name}.yaml")


def test_every_error_of_a_file_is_reported_not_only_the_first(tmp_path):
    text = (BASE.replace("goto: detail", "goto: detial")
            .replace("label: {en: Large, fr: Grande}", "label: {en: Large}")
            .replace("    kind: text\n", "    kind: txt\n")
            .replace(CONFIRM, ORPHAN + CONFIRM))
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    result = cmbot_flows("check", str(path))
    assert result.returncode == 1
    errors = errors_of(result, path)
    expected = {
        ("size", line_of(text, "- id: size"), "unknown state 'detial'"),
        ("size", line_of(text, "label: {en: Large}"), "has no fr text"),
        ("detail", line_of(text, "kind: txt"), "'kind' must be one of"),
        ("detail", line_of(text, "- id: detail"), "unreachable"),  # only 'detial' led there
        ("orphan", line_of(text, "- id: orphan"), "unreachable"),
    }
    for state, line, words in expected:
        assert any(e["state"] == state and e["line"] == line and words in e["message"] for e in errors), (
            state, line, words, result.stdout)
    assert len(errors) == len(expected), result.stdout  # and no echo of the same mistake
    assert [e["line"] for e in errors] == sorted(e["line"] for e in errors)
    assert "5 problems in 1 file" in result.stderr


def test_a_good_file_is_ok_and_exits_0(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = cmbot_flows("check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{path}: OK (tiny v1, 2 questions, 1 to 2 asked, en/fr, file)"]


def test_good_and_bad_files_together_exit_1_and_each_is_named(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(BASE, encoding="utf-8")
    bad.write_text(BASE.replace("start: size", "start: nowhere"), encoding="utf-8")
    result = cmbot_flows("check", str(good), str(bad))
    assert result.returncode == 1
    assert f"{good}: OK" in result.stdout
    assert f"{bad}:5: 'start' names unknown state 'nowhere'" in result.stdout


def test_a_missing_file_is_an_error(tmp_path):
    result = cmbot_flows("check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert f"{tmp_path / 'nope.yaml'}: cannot read the file" in result.stdout


def test_objectives_review_and_a_user_folder_pass_check(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tiny.yaml").write_text(BASE, encoding="utf-8")
    review = builtin_flows_dir() / "objectives_review.yaml"  # as `cmbot flows` in this process sees it
    result = cmbot_flows("check", str(review), str(flows / "tiny.yaml"))
    assert result.returncode == 0, result.stdout
    assert f"{review}: OK (objectives_review v1, 7 questions, 6 to 7 asked, en/fr, file)" in result.stdout


def test_two_user_files_with_one_flow_id_are_an_error(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "a.yaml").write_text(BASE, encoding="utf-8")
    (flows / "b.yaml").write_text("# the same id again\n" + BASE, encoding="utf-8")
    result = cmbot_flows("check", str(flows / "a.yaml"), str(flows / "b.yaml"))
    assert result.returncode == 1
    assert f"{flows / 'b.yaml'}:2: flow id 'tiny' is also the id of {flows / 'a.yaml'}" in result.stdout


def test_every_builtin_flow_passes_check(tmp_path):
    result = cmbot("flows", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": OK (") == len(list(builtin_flows_dir().glob("*.yaml")))


def test_the_published_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    schema = json.loads((builtin_flows_dir() / "schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    review = yaml.safe_load((builtin_flows_dir() / "objectives_review.yaml").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(schema).iter_errors(review))


# --- graph -----------------------------------------------------------------------------------


def test_graph_of_a_three_state_flow_is_exact(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tiny.yaml").write_text(BASE, encoding="utf-8")
    result = cmbot_flows("graph", "tiny", CMBOT_FLOWS=str(flows))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == ["---", "tiny", "---", "stateDiagram-v2"]
    assert [line for line in lines if line.startswith("  state ")] == [
        '  state "size" as size', '  state "detail" as detail', '  state "confirm" as confirm',
        '  state "done" as done',
    ]
    assert [line for line in lines if "-->" in line] == [
        "  size --> detail: answer [size is large]",
        "  size --> confirm: answer",
        "  detail --> confirm: answer",
        "  confirm --> done: answer [confirmed]",
        "  [*] --> size",
    ]
    assert "s_active" not in result.stdout.split("classDef s_active")[1]  # no state drawn as current
    from_file = cmbot_flows("graph", str(flows / "tiny.yaml"))
    assert from_file.stdout == result.stdout


def test_graph_of_the_default_flow(tmp_path):
    result = cmbot_flows("graph", "community_manager")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3] == "stateDiagram-v2"
    assert "  [*] --> org_size" in lines
    assert "  objectives --> objectives_other: answer [objectives has other]" in lines
    assert "  budget_owner --> objectives: answer [budget_owner is unknown]" in lines
    assert "  budget_owner --> budget_amount: answer" in lines
    assert "  confirm --> done: answer [confirmed]" in lines


def test_graph_of_an_unknown_flow_exits_2(tmp_path):
    result = cmbot_flows("graph", "nope")
    assert result.returncode == 2
    assert "Unknown flow 'nope'" in result.stderr and "community_manager" in result.stderr


# --- a flow of one's own (CMBOT_FLOWS) ---------------------------------------------------------


def list_rows(result: subprocess.CompletedProcess) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for line in result.stdout.splitlines():
        cells = line.split("\t")
        rows.setdefault(cells[0], []).append(cells)
    return rows


def test_a_user_flow_is_listed_and_runs_through_chat(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tiny.yaml").write_text(BASE, encoding="utf-8")
    listed = cmbot_flows("list", CMBOT_FLOWS=str(flows))
    assert listed.returncode == 0, listed.stderr
    rows = list_rows(listed)
    assert rows["tiny"] == [["tiny", "v1", "user", "en,fr", "Tiny", str(flows / "tiny.yaml")]]
    assert rows["community_manager"][0][2] == "built-in"
    assert rows["objectives_review"][0][2] == "built-in"

    answers = tmp_path / "answers.yaml"
    answers.write_text("size: large\ndetail: A big one\n", encoding="utf-8")
    result = cmbot("chat", "--flow", "tiny", "--answers", str(answers), "--json", cwd=tmp_path,
                   CMBOT_FLOWS=str(flows))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["flow"] == "tiny"
    assert report["answers"] == {"size": "large", "detail": "A big one"}
    assert report["reframed"] == [] and report["risks"] == []


def test_a_user_flow_overrides_a_builtin_one_by_id(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    mine = flows / "mine.yaml"
    mine.write_text(BASE.replace("id: tiny", "id: community_manager"), encoding="utf-8")
    rows = list_rows(cmbot_flows("list", CMBOT_FLOWS=str(flows)))["community_manager"]
    assert {(r[2], r[5]) for r in rows} == {
        ("built-in, overridden by user", str(builtin_flows_dir() / "community_manager.yaml")),
        ("user, overrides built-in", str(mine)),
    }
    checked = cmbot_flows("check", str(mine))
    assert checked.returncode == 0, checked.stdout
    assert "overrides the built-in 'community_manager'" in checked.stdout

    answers = tmp_path / "answers.yaml"
    answers.write_text("size: small\n", encoding="utf-8")
    result = cmbot("chat", "--answers", str(answers), "--json", cwd=tmp_path, CMBOT_FLOWS=str(flows))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["flow"], report["answers"]) == ("community_manager", {"size": "small"})
    graph = cmbot_flows("graph", "community_manager", CMBOT_FLOWS=str(flows))
    assert "  [*] --> size" in graph.stdout.splitlines()


# --- the objectives_review flow ------------------------------------------------------------------

DEPARTMENTS = ["communication", "marketing", "web", "sales", "customer_service", "product", "hr"]
OBJECTIVES = ["fans", "conversion", "company_news", "awareness", "support", "feedback", "advocates", "other"]
QUANTITATIVE = {"fans", "conversion", "company_news"}
BUSINESS = {"sales", "marketing"}

REVIEW = load_flows()["objectives_review"]

# The article's case, one year on: the CM sits in sales, paid by sales, asked for volume.
IN_SALES: dict[str, Any] = {
    "current_host": "sales",
    "budget_owner": "host",
    "objectives": ["fans", "conversion", "awareness", "other"],
    "objectives_other": "Answer every comment within the hour",
    "reporting": "volume",
    "content": "little",
    "brand_reach": "niche",
}


def test_objectives_review_shares_the_default_flows_ids():
    default = load_flows()["community_manager"]
    assert REVIEW.outcome == "objectives"
    assert list(REVIEW.states) == ["current_host", "budget_owner", "objectives", "objectives_other",
                                   "reporting", "content", "brand_reach", "confirm"]
    assert [o.id for o in REVIEW.states["current_host"].options] == [*DEPARTMENTS, "management", "dedicated"]
    for sid in ("budget_owner", "objectives", "reporting", "content", "brand_reach", "confirm"):
        assert [o.id for o in REVIEW.states[sid].options] == [o.id for o in default.states[sid].options], sid
    assert Interview(REVIEW).path({"objectives": ["other"]})[3] == "objectives_other"


def test_objectives_review_french_typography():
    for q in REVIEW.states.values():
        texts = [q.prompt["fr"], q.help["fr"], *(o.label["fr"] for o in q.options)]
        for text in texts:
            assert not re.search(r"[^\u202f][?;!]|[^\u00a0]:", text), text
            assert "'" not in text, text


def test_objectives_review_through_the_cli(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(IN_SALES), encoding="utf-8")
    result = cmbot("chat", "--flow", "objectives_review", "--answers", str(answers), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["flow"] == "objectives_review"
    assert report["answers"] == IN_SALES
    assert [r["from"] for r in report["reframed"]] == IN_SALES["objectives"]
    assert all(r["to"] and r["indicators"] and r["why"] for r in report["reframed"])
    assert IN_SALES["objectives_other"] in report["reframed"][-1]["to"]
    assert report["risks"] == ["quantitative_objectives", "budget_owner_pressure",
                               "unrealistic_audience_target", "reporting_mismatch"]
    details = {d["id"]: d["explanation"] for d in report["risk_details"]}
    assert "Sales" in details["budget_owner_pressure"]

    # In the terminal: the risks and the objectives, no placement or scores.
    shown = cmbot("chat", "--flow", "objectives_review", "--answers", str(answers), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Volume targets in a business department" in shown.stdout
    assert "Grow an active community" in shown.stdout
    assert "Recommended placement" not in shown.stdout and "/100" not in shown.stdout


def test_objectives_review_typed_at_the_numbered_prompts_in_french(tmp_path):
    keys = "4\n1\n1,2\n1\n2\n3\n1\n"  # sales, host, fans+conversion, volume, little, niche, confirm
    result = cmbot("chat", "--flow", "objectives_review", "--lang", "fr", stdin=keys, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Où votre community manager est-il rattaché aujourd’hui\u202f?" in result.stdout
    assert "/100" not in result.stdout
    saved = re.findall(r"\b([0-9a-f]{12})\b", result.stdout)[-1]
    exported = cmbot("export", saved, "--format", "json", cwd=tmp_path)
    report = json.loads(exported.stdout)
    assert report["answers"]["current_host"] == "sales"
    assert [r["from"] for r in report["reframed"]] == ["fans", "conversion"]
    assert "isolated_role" not in report["risks"]


def test_no_risk_when_the_review_finds_nothing_wrong():
    rec = advise({"current_host": "communication", "budget_owner": "management",
                  "objectives": ["awareness", "feedback"], "reporting": "qualitative",
                  "content": "regular", "brand_reach": "known"})
    assert rec.risks == ()
    assert [r.objective for r in rec.reframed] == ["awareness", "feedback"]


def test_current_host_is_the_host_the_rules_weigh():
    facts = Facts.of({"current_host": "marketing"})
    assert facts.host == "marketing" and facts.departments == ["marketing"]
    assert Facts.of({"current_host": "dedicated"}).get("dedicated_possible") == "yes"
    # The default flow's own answers are read as they are.
    assert Facts.of({"proposed_host": "web", "departments": ["web", "hr"]}).departments == ["web", "hr"]


@st.composite
def review_answers(draw) -> dict[str, Any]:
    objectives = draw(st.lists(st.sampled_from(OBJECTIVES), min_size=1, unique=True))
    answers = {
        "current_host": draw(st.sampled_from([*DEPARTMENTS, "management", "dedicated"])),
        "budget_owner": draw(st.sampled_from(["host", "management", "shared", "dedicated", "unknown"])),
        "objectives": [o for o in OBJECTIVES if o in objectives],
        "reporting": draw(st.sampled_from(["volume", "sales", "qualitative", "none"])),
        "content": draw(st.sampled_from(["none", "little", "regular", "rich"])),
        "brand_reach": draw(st.sampled_from(["household", "known", "niche"])),
    }
    if "other" in objectives:
        answers["objectives_other"] = "Something of our own"
    return answers


@given(answers=review_answers())
def test_review_risks_follow_the_design_rules_with_current_host_as_host(answers):
    rec = advise(answers)
    host, objectives = answers["current_host"], answers["objectives"]
    quantitative = bool(QUANTITATIVE & set(objectives))
    expected = {
        "quantitative_objectives": quantitative and host in BUSINESS,
        "budget_owner_pressure": answers["budget_owner"] == "host" and host in BUSINESS,
        "unrealistic_audience_target": "fans" in objectives and answers["content"] in ("none", "little")
        and answers["brand_reach"] != "household",
        "reporting_mismatch": answers["reporting"] in ("volume", "sales"),
    }
    assert set(rec.risks) == {risk for risk, present in expected.items() if present}
    # Not asked in this flow, so never raised: the collaboration and the budget amount.
    assert "isolated_role" not in rec.risks and "no_budget_for_volume_targets" not in rec.risks
    assert [r.objective for r in rec.reframed] == objectives
    assert advise(dict(answers)) == rec
