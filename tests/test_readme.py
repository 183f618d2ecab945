"""The README says what the commands do and print: its samples are checked against them."""

from __future__ import annotations

import re
from pathlib import Path

from clitools import Cli
from typer.testing import CliRunner

from cmbot.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_flows_graph_sample_is_what_the_command_prints(cli: Cli):
    section = README.split("**Drawing a flow.**", 1)[1]
    sample = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
    printed = cli("flows", "graph", "community_manager")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == sample


def test_the_readme_test_command_is_what_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line and not line.startswith(("#", "set ", "cd ", "python3 -m venv", ". ")) and
          "pip install" not in line]
    assert ci == ["ruff check cmbot tests", "python -m pytest -q -n auto"]
    block = README.split("```bash\n")[2].split("```")[0]
    assert " && ".join(ci) in block


def test_every_command_in_the_terminal_table_exists():
    """Each command's `--help`, in this process through typer's runner."""
    table = README.split("## The terminal", 1)[1].split("\n\n", 2)[1]
    commands = {tuple(m.split()[1:2]) for m in re.findall(r"`(cmbot [a-z]+)", table)}
    commands |= {("flows", sub) for sub in ("list", "check", "graph")}
    commands |= {("db", sub) for sub in ("export", "import", "check", "restore")}
    runner = CliRunner(env={"CMBOT_LANG": "en"})
    for command in sorted(commands):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
    chat_help = runner.invoke(app, ["chat", "--help"]).stdout
    for option in re.findall(r"`cmbot chat (--[a-z]+)", table):
        assert option in chat_help, option


def test_the_question_counts_are_those_of_flows_check(cli: Cli):
    assert "a dozen" not in README
    assert "10 to 12 questions" in README
    assert "12 questions, 10 to 12 asked" in cli("flows", "check").stdout
