"""The terminal front door, run as a person runs it: the installed `cmbot` command in a
subprocess, with its database in a temporary folder."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from changes import with_
from clitools import ARTICLE, ARTICLE_KEYS, ARTICLE_RISKS, Cli, saved_id, typed

from cmbot.i18n import t
from cmbot.store import Store


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Cli, dict[str, Any]]:
    """One consultation of the article's case, for the tests that only read it."""
    cli = Cli(tmp_path_factory.mktemp("saved"))
    return cli, cli.chat_json(ARTICLE)


# --- chat --answers --json -------------------------------------------------------------------


def test_chat_from_an_answers_file_prints_the_consultation_as_json(saved):
    _, report = saved
    for key in ("consultation_id", "flow", "lang", "answers", "placement", "runner_up", "scores",
                "risks", "risk_details", "reframed"):
        assert key in report, key
    assert report["flow"] == "community_manager"
    assert report["lang"] == "en"
    assert report["answers"] == ARTICLE
    assert report["placement"] not in ("sales", "marketing")
    assert report["runner_up"] != report["placement"]
    places = {s["place"] for s in report["scores"]}
    assert places == {"dedicated", "management", *ARTICLE["departments"]}
    assert all(0 <= s["score"] <= 100 for s in report["scores"])
    assert set(report["risks"]) == ARTICLE_RISKS
    assert [d["id"] for d in report["risk_details"]] == report["risks"]
    assert all(d["title"] and d["explanation"] for d in report["risk_details"])
    assert [r["from"] for r in report["reframed"]] == ["fans", "conversion", "company_news"]
    for item in report["reframed"]:
        assert {"from", "to", "indicators", "why"} <= set(item)
        assert item["to"] and item["why"]
        assert isinstance(item["indicators"], list) and item["indicators"]


def test_chat_json_is_saved_and_listed_in_history(saved):
    cli, report = saved
    rows = cli.history()
    assert [r["consultation_id"] for r in rows] == [report["consultation_id"]]
    assert rows[0]["placement"] == report["placement"]
    assert rows[0]["flow"] == "community_manager"
    assert cli.sessions_on_disk() == {}  # nothing left in progress


def test_history_lists_newest_first(cli):
    first = cli.chat_json(ARTICLE)["consultation_id"]
    second = cli.chat_json(with_(ARTICLE, dedicated_possible="yes"))["consultation_id"]
    ids = [r["consultation_id"] for r in cli.history()]
    assert set(ids) == {first, second}
    assert len(ids) == 2


def test_history_in_words(cli):
    empty = cli("history")
    assert empty.returncode == 0
    assert t("terminal.history_empty", "en") in empty.stdout
    report = cli.chat_json(ARTICLE)
    listed = cli("history")
    assert listed.returncode == 0
    assert report["consultation_id"] in listed.stdout
    assert report["placement_label"] in listed.stdout


def test_chat_in_french(cli):
    english = cli.chat_json(ARTICLE)
    french = cli.chat_json(ARTICLE, "--lang", "fr")
    assert french["lang"] == "fr"
    assert french["placement"] == english["placement"]
    assert french["risks"] == english["risks"]
    assert french["placement_why"] != english["placement_why"]
    for fr, en in zip(french["risk_details"], english["risk_details"], strict=True):
        assert fr["title"] == t(f"risk.{fr['id']}.title", "fr")
        assert fr["title"] != en["title"]
    for fr, en in zip(french["reframed"], english["reframed"], strict=True):
        assert fr["to"] == t(f"reframe.{fr['from']}.to", "fr")
        assert fr["to"] != en["to"]


def test_the_other_objective_is_reframed_from_its_text(cli):
    text = 'Train our resellers [bold]now[/bold] & "fast" {text}'
    report = cli.chat_json(with_(ARTICLE, objectives=["fans", "other"], objectives_other=text))
    assert report["answers"]["objectives_other"] == text
    other = report["reframed"][-1]
    assert other["from"] == "other"
    assert text in other["to"]
    memo = cli("export", report["consultation_id"], "--format", "md").stdout
    assert "Train our resellers" in memo
    # Free text stays text in the memo: no Markdown or HTML structure sneaks in.
    assert "[bold]" not in memo
    assert "\\[bold\\]now\\[/bold\\]" in memo


def test_amounts_typed_as_people_type_them(cli):
    report = cli.chat_json(with_(ARTICLE, budget_amount="12 000 €"))
    assert report["answers"]["budget_amount"] == 12_000


def test_an_answer_the_path_does_not_need_is_ignored(cli):
    report = cli.chat_json(with_(ARTICLE, budget_owner="unknown", budget_amount=5000))
    assert "budget_amount" not in report["answers"]
    assert "no_budget_for_volume_targets" not in report["risks"]


BAD_ANSWERS = [
    pytest.param("org_size", {"org_size": "huge"}, id="unknown-option"),
    pytest.param("departments", {"departments": []}, id="no-department"),
    pytest.param("proposed_host", {"proposed_host": "hr"}, id="host-not-a-department"),
    pytest.param("budget_amount", {"budget_amount": "abc"}, id="not-a-number"),
    pytest.param("budget_amount", {"budget_amount": -1}, id="negative-amount"),
    pytest.param("objectives", {"objectives": ["fans", "world_peace"]}, id="unknown-objective"),
    pytest.param("objectives_other", {"objectives": ["other"], "objectives_other": "  "},
                 id="empty-text"),
    pytest.param("collaboration", {"collaboration": ["hr"]}, id="collaboration-not-a-department"),
    pytest.param("dedicated_possible", {"dedicated_possible": "perhaps"}, id="late-bad-answer"),
]


def names(state: str, message: str) -> bool:
    return re.search(rf"\b{state}\b", message) is not None


def nothing_saved(cli: Cli) -> bool:
    """No consultation in the archive (read through the store) and no session on disk."""
    store = Store(cli.db)
    try:
        consultations = store.consultations()
    finally:
        store.close()
    return consultations == [] and cli.sessions_on_disk() == {}


def test_a_bad_answer_exits_2_and_history_stays_empty(cli):
    path = cli.answers_file(with_(ARTICLE, org_size="huge"))
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert names("org_size", result.stderr)
    assert str(path) in result.stderr
    # The bad value and the ids the file may use instead, on one line.
    assert result.stderr == t("cli.answers_not_option", "en", file=path, state="org_size",
                              value="huge", options="micro, small, medium, large") + "\n"
    assert result.stdout.strip() == ""
    assert cli.history() == []


@pytest.mark.parametrize(("state", "changes"), BAD_ANSWERS)
def test_a_bad_answer_exits_2_naming_the_state_and_saves_nothing(cli, state, changes):
    path = cli.answers_file(with_(ARTICLE, **changes))
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert names(state, result.stderr), result.stderr
    assert result.stdout.strip() == ""
    assert nothing_saved(cli)


MISSING = [
    pytest.param("reporting", {"reporting": None}, id="reporting"),
    pytest.param("org_size", {"org_size": None}, id="first"),
    pytest.param("dedicated_possible", {"dedicated_possible": None}, id="last"),
    pytest.param("budget_amount", {"budget_amount": None}, id="amount-needed"),
    pytest.param("objectives_other", {"objectives": ["fans", "other"]}, id="other-text"),
]


@pytest.mark.parametrize(("state", "changes"), MISSING)
def test_a_missing_answer_exits_2_naming_the_state_and_saves_nothing(cli, state, changes):
    path = cli.answers_file(with_(ARTICLE, **changes))
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert names(state, result.stderr), result.stderr
    assert str(path) in result.stderr
    assert result.stdout.strip() == ""
    assert nothing_saved(cli)


def test_a_bad_answer_is_explained_in_french(cli):
    path = cli.answers_file(with_(ARTICLE, org_size="huge"))
    result = cli("chat", "--answers", str(path), "--json", "--lang", "fr")
    assert result.returncode == 2
    assert names("org_size", result.stderr)
    assert result.stderr == t("cli.answers_not_option", "fr", file=path, state="org_size",
                              value="huge", options="micro, small, medium, large") + "\n"


def test_an_unknown_question_in_the_file_exits_2(cli):
    path = cli.answers_file(with_(ARTICLE, favourite_colour="blue"))
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert "favourite_colour" in result.stderr
    assert cli.history() == []


def test_an_answers_file_that_is_not_a_mapping_exits_2(cli):
    path = cli.dir / "answers.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    result = cli("chat", "--answers", str(path), "--json")
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert cli.history() == []


def test_an_unknown_language_exits_2(cli):
    result = cli("chat", "--answers", str(cli.answers_file(ARTICLE)), "--lang", "xx")
    assert result.returncode == 2
    assert "xx" in result.stderr
    assert "Traceback" not in result.stderr


# --- show and export -------------------------------------------------------------------------


def test_show_a_consultation(saved):
    cli, report = saved
    result = cli("show", report["consultation_id"])
    assert result.returncode == 0, result.stderr
    assert report["placement_line"] in result.stdout
    assert report["budget"]["line"] in result.stdout
    for detail in report["risk_details"]:
        assert detail["title"] in result.stdout


def test_show_in_another_language(saved):
    cli, report = saved
    result = cli("show", report["consultation_id"], "--lang", "fr")
    assert result.returncode == 0, result.stderr
    assert t("risk.budget_owner_pressure.title", "fr") in result.stdout


def test_show_an_unknown_consultation(saved):
    cli, _ = saved
    result = cli("show", "deadbeef")
    assert result.returncode != 0
    assert "deadbeef" in result.stderr


def test_export_markdown(saved):
    cli, report = saved
    result = cli("export", report["consultation_id"], "--format", "md")
    assert result.returncode == 0, result.stderr
    memo = result.stdout
    headings = [line for line in memo.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# ") and report["consultation_id"] in headings[0]
    for key, level in (("export.answers", "##"), ("export.recommendation", "##"),
                       ("export.risks", "###"), ("export.reframed", "###")):
        assert f"{level} {t(key, 'en')}" in headings
    assert "50 to 249" in memo  # answers in words, not ids
    assert report["placement_label"] in memo
    for detail in report["risk_details"]:
        assert detail["title"] in memo
    for item in report["reframed"]:
        assert item["from_label"] in memo
        assert item["to"] in memo
        assert item["indicators"][0] in memo


def test_free_text_on_several_lines_stays_one_answer_in_the_memo(cli):
    text = "Grow trust\n- **Budget:** one million\n\nA paragraph of its own"
    report = cli.chat_json(with_(ARTICLE, objectives=["fans", "other"], objectives_other=text))
    memo = cli("export", report["consultation_id"], "--format", "md").stdout
    lines = memo.splitlines()
    start = lines.index(f"## {t('export.answers', 'en')}")
    end = lines.index(f"## {t('export.recommendation', 'en')}")
    items = [line for line in lines[start + 1:end] if line.strip()]
    assert len(items) == len(report["answers"]), items
    assert all(line.startswith("- **") for line in items), items


def test_export_markdown_to_a_file(saved):
    cli, report = saved
    target = cli.dir / "memo.md"
    result = cli("export", report["consultation_id"], "--format", "md", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert report["consultation_id"] in target.read_text(encoding="utf-8")


def test_export_json_is_the_consultation(saved):
    cli, report = saved
    exported = cli.exported(report["consultation_id"])
    for key in ("consultation_id", "flow", "lang", "answers", "placement", "runner_up", "scores",
                "risks", "risk_details", "reframed"):
        assert exported[key] == report[key], key


def test_export_an_unknown_consultation(saved):
    cli, _ = saved
    result = cli("export", "deadbeef", "--format", "md")
    assert result.returncode != 0
    assert "deadbeef" in result.stderr
    assert result.stdout == ""


def test_export_in_an_unknown_format(saved):
    cli, report = saved
    result = cli("export", report["consultation_id"], "--format", "xml")
    assert result.returncode != 0
    assert result.stdout == ""


# --- the interactive interview with piped stdin ----------------------------------------------


def test_a_whole_interview_typed_at_the_prompts(cli):
    result = cli("chat", stdin=typed(*ARTICLE_KEYS, "1"))  # 1: give me the advice
    assert result.returncode == 0, result.stderr
    assert t("terminal.progress", "en", n=1, total=11) in result.stdout
    consultation_id = saved_id(result.stdout)
    exported = cli.exported(consultation_id)
    assert exported["answers"] == ARTICLE
    assert set(exported["risks"]) == ARTICLE_RISKS
    assert [r["consultation_id"] for r in cli.history()] == [consultation_id]
    assert cli.sessions_on_disk() == {}


def test_back_at_the_prompts_changes_an_earlier_answer(cli):
    keys = [
        "3", "1,2,3,4",
        "back",   # at proposed_host: back to departments
        "1,3",    # communication, web
        "2",      # proposed_host is now among communication, [web], management, undecided
        *ARTICLE_KEYS[3:9],
        "1,2",    # collaboration: communication, web
        "3", "1",
    ]
    result = cli("chat", stdin=typed(*keys))
    assert result.returncode == 0, result.stderr
    answers = cli.exported(saved_id(result.stdout))["answers"]
    assert answers["departments"] == ["communication", "web"]
    assert answers["proposed_host"] == "web"
    assert answers["collaboration"] == ["communication", "web"]


def test_a_bad_number_is_asked_again(cli):
    keys = [*ARTICLE_KEYS[:4], "abc", "12 000 €", *ARTICLE_KEYS[5:], "1"]
    result = cli("chat", stdin=typed(*keys))
    assert result.returncode == 0, result.stderr
    assert t("answer.number_invalid", "en") in result.stdout
    assert result.stdout.count(t("terminal.progress", "en", n=5, total=11)) == 2
    answers = cli.exported(saved_id(result.stdout))["answers"]
    assert answers["budget_amount"] == 12_000


def test_a_bad_choice_number_is_asked_again(cli):
    keys = ["9", *ARTICLE_KEYS, "1"]  # there are only 4 sizes
    result = cli("chat", stdin=typed(*keys))
    assert result.returncode == 0, result.stderr
    assert t("terminal.not_an_option", "en", value="9", count=4) in result.stdout
    assert cli.exported(saved_id(result.stdout))["answers"] == ARTICLE


def test_quit_then_resume_continues_where_it_stopped(cli):
    first = cli("chat", stdin=typed(*ARTICLE_KEYS[:5], "quit"))
    assert first.returncode == 0, first.stderr
    assert t("terminal.saved_for_later", "en", command="cmbot chat --resume") in first.stdout
    assert cli.history() == []
    assert [s["state"] for s in cli.sessions_on_disk().values()] == ["objectives"]

    second = cli("chat", "--resume", stdin=typed(*ARTICLE_KEYS[5:], "1"))
    assert second.returncode == 0, second.stderr
    assert t("terminal.progress", "en", n=1, total=11) not in second.stdout
    assert "Fewer than 10" not in second.stdout  # the first question's menu is not shown
    assert t("terminal.progress", "en", n=6, total=11) in second.stdout
    answers = cli.exported(saved_id(second.stdout))["answers"]
    assert answers == ARTICLE
    assert cli.sessions_on_disk() == {}


def test_end_of_input_keeps_the_interview_for_later(cli):
    first = cli("chat", stdin=typed(*ARTICLE_KEYS[:3]))  # stdin ends mid-interview
    assert first.returncode == 0, first.stderr
    second = cli("chat", "--resume", stdin=typed(*ARTICLE_KEYS[3:], "1"))
    assert second.returncode == 0, second.stderr
    assert cli.exported(saved_id(second.stdout))["answers"] == ARTICLE


def test_resume_with_nothing_to_resume_starts_a_new_interview(cli):
    result = cli("chat", "--resume", stdin=typed(*ARTICLE_KEYS, "1"))
    assert result.returncode == 0, result.stderr
    assert t("terminal.nothing_to_resume", "en") in result.stdout
    assert cli.exported(saved_id(result.stdout))["answers"] == ARTICLE


def test_edit_from_the_summary_at_the_prompts(cli):
    keys = [*ARTICLE_KEYS,
            "2",   # confirm: change an answer
            "9",   # which one: brand_reach (9th question on the path)
            "1",   # a household name
            "1"]   # give me the advice
    result = cli("chat", stdin=typed(*keys))
    assert result.returncode == 0, result.stderr
    exported = cli.exported(saved_id(result.stdout))
    assert exported["answers"] == with_(ARTICLE, brand_reach="household")
    assert "unrealistic_audience_target" not in exported["risks"]


def test_the_interview_in_french_at_the_prompts(cli):
    result = cli("chat", "--lang", "fr", stdin=typed(*ARTICLE_KEYS, "1"))
    assert result.returncode == 0, result.stderr
    assert "Combien de personnes travaillent dans votre entreprise" in result.stdout
    exported = cli.exported(saved_id(result.stdout))
    assert exported["lang"] == "fr"
    assert exported["answers"] == ARTICLE


# --- broken database and flows ---------------------------------------------------------------


def test_a_corrupt_database_is_reported_and_left_alone(cli):
    cli.db.write_bytes(b"{not json")
    for args in (("history",), ("chat", "--answers", str(cli.answers_file(ARTICLE)), "--json")):
        result = cli(*args)
        assert result.returncode == 2
        assert str(cli.db) in result.stderr
        assert "Traceback" not in result.stderr
        assert cli.db.read_bytes() == b"{not json"


# Regression: the message once pointed at a `cmbot db restore` command that did not exist.
def test_the_advice_in_the_corrupt_database_message_works(cli):
    ids = {cli.chat_json(ARTICLE)["consultation_id"] for _ in range(2)}
    store = Store(cli.db)
    store.set_pref("U1", "lang", "fr")  # a second write of the file: a backup exists
    store.close()
    cli.db.write_bytes(b"{not json")
    message = cli("history").stderr
    assert "cmbot db restore" in message
    restored = cli("db", "restore")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(cli.db.read_text(encoding="utf-8"))  # readable again
    assert {r["consultation_id"] for r in cli.history()} == ids


def test_a_broken_extra_flow_is_reported(cli):
    flows = cli.dir / "flows"
    flows.mkdir()
    broken = flows / "broken.yaml"
    broken.write_text("id: broken\nversion: 1\nstart: a\nstates: []\n", encoding="utf-8")
    result = cli("flows", "list", CMBOT_FLOWS=str(flows))
    assert result.returncode == 2
    assert str(broken) in result.stderr
    assert "Traceback" not in result.stderr
