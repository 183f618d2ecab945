"""Every mistake a newcomer can make at the command line: one line saying what is wrong and what
to do, exit 2 for bad input, never a traceback, nothing lost. Run through the installed `cmbot`."""

from __future__ import annotations

import json
import re

import pytest
from clitools import ARTICLE, Cli

from cmbot.i18n import t


def one_line(text: str) -> bool:
    return len(text.splitlines()) == 1 and "Traceback" not in text


# --- answers files that are not UTF-8 --------------------------------------------------------


@pytest.mark.parametrize("content", [
    pytest.param("org_size: medium\nobjectives_other: Développer\n".encode("latin-1"), id="latin-1"),
    pytest.param(bytes(range(256)), id="binary"),
])
def test_an_answers_file_that_is_not_utf8_is_one_line_and_exit_2(cli: Cli, content: bytes):
    path = cli.dir / "answers.yaml"
    path.write_bytes(content)
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert result.stderr == t("cli.file_not_utf8", "en", file=path) + "\n"
    assert result.stdout == ""
    assert cli.history() == []


# --- --output: a missing folder, a folder, for both exports ------------------------------------


@pytest.fixture(scope="module")
def one(tmp_path_factory) -> tuple[Cli, str]:
    cli = Cli(tmp_path_factory.mktemp("one"))
    return cli, cli.chat_json(ARTICLE)["consultation_id"]


def export_args(kind: str, cid: str) -> list[str]:
    return ["export", cid, "--format", "md"] if kind == "export" else ["db", "export"]


@pytest.mark.parametrize("kind", ["export", "db export"])
def test_output_into_a_missing_folder_creates_it(one, kind):
    cli, cid = one
    target = cli.dir / kind.replace(" ", "_") / "deeper" / "out.txt"
    result = cli(*export_args(kind, cid), "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr)
    assert str(target) in result.stderr
    assert cid in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]  # no temporary file left


@pytest.mark.parametrize("kind", ["export", "db export"])
def test_output_to_a_folder_is_one_line_and_exit_2(one, kind):
    cli, cid = one
    folder = cli.dir / "a folder"
    folder.mkdir(exist_ok=True)
    result = cli(*export_args(kind, cid), "--output", str(folder))
    assert result.returncode == 2
    assert one_line(result.stderr), result.stderr
    assert str(folder) in result.stderr and "--output" in result.stderr
    assert list(folder.iterdir()) == []
    assert result.stdout == ""


@pytest.mark.parametrize("kind", ["export", "db export"])
def test_output_below_a_file_is_one_line_and_exit_2(one, kind):
    cli, cid = one
    blocker = cli.dir / "a file"
    blocker.write_text("keep me", encoding="utf-8")
    result = cli(*export_args(kind, cid), "--output", str(blocker / "out.md"))
    assert result.returncode == 2
    assert one_line(result.stderr), result.stderr
    assert str(blocker / "out.md") in result.stderr
    assert blocker.read_text(encoding="utf-8") == "keep me"


# --- bad answers name the value and what is allowed -----------------------------------------


def test_a_bad_option_names_the_value_and_the_valid_ids(cli: Cli):
    path = cli.answers_file({**ARTICLE, "proposed_host": "salse"})
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert one_line(result.stderr)
    assert "'salse'" in result.stderr
    # The ids this file may use for proposed_host: the departments it picked, then the others.
    assert "communication, marketing, web, sales, management, undecided" in result.stderr


def test_a_bad_objective_names_only_the_bad_one(cli: Cli):
    path = cli.answers_file({**ARTICLE, "objectives": ["fans", "world_peace"]})
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert "'world_peace'" in result.stderr and "'fans'" not in result.stderr
    assert "fans, conversion, company_news, awareness" in result.stderr


@pytest.mark.parametrize(("lang", "bound"), [("en", "1,000,000,000"),
                                               ("fr", "1\u202f000\u202f000\u202f000")])
def test_amount_bounds_are_written_as_the_language_writes_numbers(cli: Cli, lang, bound):
    path = cli.answers_file({**ARTICLE, "budget_amount": -5})
    result = cli("chat", "--answers", str(path), "--json", "--lang", lang)
    assert result.returncode == 2
    assert bound in result.stderr
    assert "1000000000" not in result.stderr


# --- db import: one line per bad line --------------------------------------------------------


def test_db_import_reports_one_line_per_bad_line(one):
    cli, _ = one
    export = cli.dir / "all.jsonl"
    assert cli("db", "export", "--output", str(export)).returncode == 0
    lines = export.read_text(encoding="utf-8").splitlines()
    bad = [*lines, '{"type": "consultation"}', '{"type": "consultation", "id": 7}']
    broken = cli.dir / "broken.jsonl"
    broken.write_text("\n".join(bad) + "\n", encoding="utf-8")
    fresh = cli.dir / "fresh"
    fresh.mkdir()
    result = Cli(fresh)("db", "import", str(broken))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    numbered = [e for e in errors if e.startswith(f"{broken}:")]
    assert [int(e.split(":")[1]) for e in numbered] == [len(lines) + 1, len(lines) + 2]
    assert errors[-1] == t("db.import.refused", "en")
    assert len(errors) == 3
    assert "more problems on this line" in numbered[0]


# --- languages from the environment ----------------------------------------------------------


def test_an_unknown_cmbot_lang_is_an_error_like_an_unknown_lang_option(cli: Cli):
    for args in (("history",), ("chat", "--answers", str(cli.answers_file(ARTICLE)), "--json")):
        result = cli(*args, CMBOT_LANG="de")
        assert result.returncode == 2
        assert one_line(result.stderr)
        assert "CMBOT_LANG=de" in result.stderr and "en" in result.stderr and "fr" in result.stderr
    assert cli.history() == []
    option = cli("history", "--lang", "de")
    assert option.returncode == 2 and "de" in option.stderr


@pytest.mark.parametrize(("env", "lang"), [
    pytest.param({"LANG": "fr_FR.UTF-8"}, "fr", id="LANG-in-a-C.UTF-8-container"),
    pytest.param({"LANG": "C.UTF-8", "LC_MESSAGES": "fr_CA.UTF-8"}, "fr", id="LC_MESSAGES"),
    pytest.param({"LANG": "fr_FR.UTF-8", "LC_ALL": "C.UTF-8"}, "en", id="LC_ALL-wins"),
    pytest.param({"LANG": "en_GB.UTF-8", "LANGUAGE": "fr:en"}, "fr", id="LANGUAGE"),
    pytest.param({"LANG": "de_DE.UTF-8"}, "en", id="unsupported-falls-back"),
])
def test_the_locale_is_read_from_the_environment(cli: Cli, env, lang):
    result = cli("history", CMBOT_LANG=None, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == t("terminal.history_empty", lang)


# --- a broken CMBOT_FLOWS only blocks what needs it -----------------------------------------


def test_a_broken_flows_folder_does_not_hide_saved_consultations(one):
    cli, cid = one
    flows = cli.dir / "myflows"
    flows.mkdir(exist_ok=True)
    (flows / "broken.yaml").write_text("id: broken\nversion: 1\nstart: a\nstates: []\n",
                                       encoding="utf-8")
    history = cli("history", CMBOT_FLOWS=str(flows))
    assert history.returncode == 0
    assert cid in history.stdout
    assert one_line(history.stderr) and "broken.yaml" in history.stderr
    for args in (("show", cid), ("export", cid)):
        result = cli(*args, CMBOT_FLOWS=str(flows))
        assert result.returncode == 0, result.stderr
        assert cid in result.stdout or "Risks" in result.stdout
    chat = cli("chat", "--answers", str(cli.answers_file(ARTICLE)), CMBOT_FLOWS=str(flows))
    assert chat.returncode == 2
    assert one_line(chat.stderr) and "broken.yaml" in chat.stderr


# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", ["80", "160"])
def test_help_speaks_to_users_and_labels_no_flag(cli: Cli, width):
    printed = {}
    for args in (("--help",), ("chat", "--help"), ("db", "--help"), ("export", "--help"),
                 ("flows", "--help"), ("delete", "--help"), ("db", "export", "--help")):
        result = cli(*args, COLUMNS=width)
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout, args
        assert "Typer" not in result.stdout
        printed[args] = result.stdout
    top = printed[("--help",)]
    text = " ".join(line.strip(" │") for line in top.splitlines() if line.strip())
    assert "where a community manager belongs" in re.sub(r"\s+", " ", text)
    for command in ("chat", "history", "show", "export", "delete", "serve", "flows", "db"):
        assert re.search(rf"│ {command}\s", top), command


def test_db_help_gives_each_command_a_whole_sentence(cli: Cli):
    """A command's description may wrap, but is never cut before its full stop."""
    listing = cli("db", "--help", COLUMNS="80").stdout
    rows: dict[str, str] = {}
    current = ""
    for line in listing.split("Commands")[1].splitlines():
        match = re.match(r"│ (\w+)\s+(.*?)\s*│$", line)
        cont = re.match(r"│\s{3,}(.*?)\s*│$", line)
        if match:
            current = match.group(1)
            rows[current] = match.group(2)
        elif cont and current:
            rows[current] += " " + cont.group(1)
    assert set(rows) == {"export", "import", "check", "restore"}
    assert all(text.endswith(".") for text in rows.values()), rows


def test_history_json_still_lists_with_the_new_columns(one):
    cli, cid = one
    assert [r["consultation_id"] for r in json.loads(cli("history", "--json").stdout)] == [cid]


def test_history_keeps_ids_dates_and_flows_whole_at_80_columns(one):
    cli, cid = one
    for lang in ("en", "fr"):
        table = cli("history", "--lang", lang, COLUMNS="80").stdout
        assert all(len(line) <= 80 for line in table.splitlines())
        row = next(line for line in table.splitlines() if cid in line)
        assert "community_manager" in row
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)


def test_an_unknown_format_names_it_and_the_known_ones(one):
    cli, cid = one
    result = cli("export", cid, "--format", "xml")
    assert result.returncode == 2
    assert result.stderr == t("cli.format_unknown", "en", format="xml", known="md, json") + "\n"


def test_question_counts_in_flows_check_match_what_the_interview_says(cli: Cli):
    result = cli("flows", "check")
    assert re.search(r"\(community_manager v\d+, 12 questions, 10 to 12 asked", result.stdout)
    assert re.search(r"\(objectives_review v\d+, 7 questions, 6 to 7 asked", result.stdout)

