"""`cmbot panel`, run as a person runs it: the installed command in a subprocess, one answers
file per member, the database in a temporary folder; then `history`, `show` and `export` of
the panel consultation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from commandline import environment, run

from cmbot.advisor import advise

EXAMPLES = Path(__file__).parent.parent / "examples"
PANEL = [EXAMPLES / f"panel-{name}.yaml" for name in ("sales", "communication", "management")]

ORGANISATION = yaml.safe_load(PANEL[0].read_text(encoding="utf-8"))
ORGANISATION = {k: ORGANISATION[k] for k in ("org_size", "departments", "content", "brand_reach",
                                              "collaboration")}
MIND: dict[str, Any] = {"proposed_host": "communication", "budget_owner": "management",
                        "budget_amount": 15000, "objectives": ["awareness", "feedback"],
                        "reporting": "qualitative", "dedicated_possible": "maybe"}


class Cli:
    def __init__(self, folder: Path):
        self.dir = folder

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess:
        return run(args, env=environment(self.dir / "cmbot.json"), cwd=self.dir)

    def file(self, name: str, answers: dict[str, Any]) -> Path:
        path = self.dir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
        return path

    def json(self, *args: str | Path) -> Any:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def refused(self, *args: str | Path) -> str:
        """The one-line error of a refused command; nothing may have been saved."""
        result = self(*args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert self.json("history") == []
        return result.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="module")
def workshop(tmp_path_factory) -> tuple[Cli, dict[str, Any]]:
    cli = Cli(tmp_path_factory.mktemp("workshop"))
    return cli, cli.json("panel", *PANEL)


def test_the_example_workshop_shows_the_three_disagreements(workshop):
    _, report = workshop
    panel = report["panel"]
    assert panel["members"] == ["Sales head", "Communication head", "Managing director"]
    assert [d["id"] for d in panel["disagreements"]] == ["payer_disagreement",
                                                         "host_disagreement",
                                                         "objectives_conflict"]
    assert report["risks"][-3:] == ["payer_disagreement", "host_disagreement",
                                    "objectives_conflict"]
    payer = panel["disagreements"][0]["explanation"]
    assert "Sales head: Sales" in payer and "sets the targets" in payer
    assert report["answers"]["objectives"] == ["fans", "conversion", "awareness", "advocates"]
    assert report["answers"]["budget_amount"] == 20000
    assert report["answers"]["org_size"] == "medium"
    assert report["answered_by"]["org_size"] == "Sales head"
    assert report["answered_by"]["objectives"] == "panel"


def test_the_panel_is_one_consultation_in_history_show_and_export(workshop):
    cli, report = workshop
    cid = report["consultation_id"]
    history = cli.json("history")
    assert [h["consultation_id"] for h in history] == [cid]
    assert history[0]["where"]["panel"] == report["panel"]["members"]
    words = cli("history").stdout
    assert "panel of 3" in words
    shown = cli("show", cid).stdout
    assert "Each member's answers" in shown and "Managing director" in shown
    assert "The panel does not agree on who pays" in shown
    memo = cli("export", cid).stdout
    assert "| Question | Sales head | Communication head | Managing director | Panel |" in memo
    assert "| **The host** (differs) | Sales | Communication | General management " \
           "| Not decided yet (even split) |" in memo
    assert "every option anyone picked" in memo
    assert json.loads(cli("export", cid, "--format", "json").stdout)["panel"] == report["panel"]


def test_the_memo_in_french_keeps_its_typography(workshop):
    cli, report = workshop
    memo = cli("export", report["consultation_id"], "--lang", "fr").stdout
    assert "## Le panel" in memo
    assert "Membres\u00a0: Sales head" in memo
    assert "Qui paierait\u00a0: Sales head\u00a0: " in memo
    assert "\u202f; Communication head" in memo
    assert "«\u00a0peut-être\u00a0»" in memo
    for mark in ":;?!":
        assert f" {mark}" not in memo.replace("://", "")


def test_a_unanimous_panel_gives_the_one_person_advice(cli):
    files = [cli.file(name, {"member": name, **({**ORGANISATION, **MIND} if i == 0 else MIND)})
             for i, name in enumerate(("Ann", "Bea", "Carl"))]
    report = cli.json("panel", *files)
    alone = advise({**ORGANISATION, **MIND})
    assert report["placement"] == alone.placement and report["runner_up"] == alone.runner_up
    assert report["risks"] == list(alone.risks)
    assert report["panel"]["divergences"] == [] and report["panel"]["disagreements"] == []
    assert "The panel agrees on who pays" in cli("show", report["consultation_id"]).stdout


def test_a_member_is_named_after_the_file_without_a_member_line(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    second = cli.file("bob", MIND)
    assert cli.json("panel", first, second)["panel"]["members"] == ["alice", "bob"]


def test_in_french(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    second = cli.file("bob", {**MIND, "proposed_host": "marketing", "budget_owner": "host"})
    report = cli.json("panel", first, second, "--lang", "fr")
    assert report["lang"] == "fr"
    titles = [d["title"] for d in report["panel"]["disagreements"]]
    assert titles == ["Le panel n’est pas d’accord sur qui paie",
                      "Le panel n’est pas d’accord sur le rattachement"]


def test_one_file_is_not_a_panel(cli):
    error = cli.refused("panel", cli.file("alone", {**ORGANISATION, **MIND}))
    assert "at least two answers files" in error


def test_a_bad_answer_names_the_file_and_the_question(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    second = cli.file("bob", {**MIND, "budget_owner": "the neighbours"})
    error = cli.refused("panel", first, second)
    assert error.startswith(f"{second}: 'budget_owner'")


def test_a_missing_opinion_names_the_file_and_the_question(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    second = cli.file("bob", {k: v for k, v in MIND.items() if k != "objectives"})
    assert cli.refused("panel", first, second).startswith(f"{second}: no answer for 'objectives'")


def test_a_missing_fact_is_asked_of_the_first_file(cli):
    first = cli.file("alice", {**{k: v for k, v in ORGANISATION.items() if k != "content"},
                               **MIND})
    second = cli.file("bob", MIND)
    assert cli.refused("panel", first, second).startswith(f"{first}: no answer for 'content'")


def test_facts_are_given_once_in_the_first_file(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    second = cli.file("bob", {**MIND, "org_size": "large"})
    error = cli.refused("panel", first, second)
    assert "'org_size' is an organisation fact" in error and str(first) in error


def test_the_same_member_twice_is_refused(cli):
    first = cli.file("alice", {"member": "Ann", **ORGANISATION, **MIND})
    second = cli.file("bob", {"member": "Ann", **MIND})
    assert "member 'Ann' is already in the panel" in cli.refused("panel", first, second)


def test_an_unreadable_file_is_refused(cli):
    first = cli.file("alice", {**ORGANISATION, **MIND})
    missing = cli.dir / "nobody.yaml"
    assert cli.refused("panel", first, missing).startswith(f"{missing}: cannot read")


def test_a_panel_survives_a_database_export_and_import(workshop, tmp_path):
    cli, report = workshop
    dump = tmp_path / "export.jsonl"
    assert cli("db", "export", "--output", dump).returncode == 0
    elsewhere = Cli(tmp_path)
    assert elsewhere("db", "import", dump).returncode == 0
    moved = json.loads(elsewhere("export", report["consultation_id"], "--format", "json").stdout)
    assert moved["panel"] == report["panel"] and moved["risks"] == report["risks"]


def test_a_panel_is_deleted_like_any_consultation(cli):
    report = cli.json("panel", *PANEL)
    assert cli("delete", report["consultation_id"], "--yes").returncode == 0
    assert cli.json("history") == []
    assert cli("show", report["consultation_id"]).returncode != 0
