"""Quit, come back, start another, delete: nothing a person saved is ever shadowed or lost
without a word. Piped input (scripts) here; the same on a real terminal in test_terminal_pty."""

from __future__ import annotations

import pytest
from clitools import ARTICLE, ARTICLE_KEYS, Cli, saved_id, typed

from cmbot.i18n import t

REVIEW_TO_QUIT = ["1", "quit"]  # objectives_review: current_host = communication, then quit


def states(cli: Cli) -> list[str]:
    return sorted(s["state"] for s in cli.sessions_on_disk().values())


def test_chat_says_what_is_waiting_before_starting_afresh(cli: Cli):
    assert cli("chat", stdin=typed(*ARTICLE_KEYS[:7], "quit")).returncode == 0  # at question 8
    fresh = cli("chat", stdin=typed("1", "quit"))
    assert fresh.returncode == 0
    notice = t("terminal.waiting_notice", "en", count=1, command="cmbot chat --resume")
    assert fresh.stderr.splitlines()[0] == notice
    assert "community_manager — question 8 of 11, saved " in fresh.stderr.splitlines()[1]
    assert t("terminal.progress", "en", n=1, total=11) in fresh.stdout
    assert states(cli) == ["content", "departments"]  # both kept


def test_a_new_interview_quit_at_once_does_not_shadow_the_waiting_one(cli: Cli):
    assert cli("chat", stdin=typed(*ARTICLE_KEYS[:7], "quit")).returncode == 0
    nothing = cli("chat", stdin=typed("quit"))
    assert t("terminal.nothing_kept", "en") in nothing.stdout
    assert states(cli) == ["content"]
    resumed = cli("chat", "--resume", stdin=typed(*ARTICLE_KEYS[7:], "1"))
    assert resumed.returncode == 0, resumed.stderr
    assert t("terminal.progress", "en", n=8, total=11) in resumed.stdout
    assert cli.exported(saved_id(resumed.stdout))["answers"] == ARTICLE


def test_resume_with_several_waiting_continues_the_last_saved_and_lists_them(cli: Cli):
    assert cli("chat", stdin=typed(*ARTICLE_KEYS[:7], "quit")).returncode == 0
    assert cli("chat", stdin=typed("3", "quit")).returncode == 0
    resumed = cli("chat", "--resume", stdin=typed("quit"))
    lines = resumed.stderr.splitlines()
    assert lines[0] == t("terminal.resuming_last", "en", count=2, command="cmbot chat --resume")
    assert "question 2 of 11" in lines[1] and "question 8 of 11" in lines[2]
    assert t("terminal.progress", "en", n=2, total=11) in resumed.stdout


def test_the_resume_hint_names_the_flow_it_was_given_for(cli: Cli):
    quit_review = cli("chat", "--flow", "objectives_review", stdin=typed(*REVIEW_TO_QUIT))
    hint = t("terminal.saved_for_later", "en",
             command="cmbot chat --resume --flow objectives_review")
    assert hint in quit_review.stdout
    for args in (("--resume", "--flow", "objectives_review"), ("--resume",)):
        again = cli("chat", *args, stdin=typed("quit"))
        assert t("terminal.progress", "en", n=2, total=6) in again.stdout, args
        assert t("terminal.nothing_to_resume", "en") not in again.stdout
    other = cli("chat", "--resume", "--flow", "community_manager", stdin=typed("quit"))
    assert t("terminal.nothing_to_resume", "en") in other.stdout


def test_resume_honours_lang(cli: Cli):
    assert cli("chat", stdin=typed(*ARTICLE_KEYS[:5], "quit")).returncode == 0
    french = cli("chat", "--resume", "--lang", "fr", stdin=typed(*ARTICLE_KEYS[5:], "1"))
    assert french.returncode == 0, french.stderr
    assert t("terminal.progress", "fr", n=6, total=11) in french.stdout
    exported = cli.exported(saved_id(french.stdout))
    assert exported["lang"] == "fr"
    assert exported["answers"] == ARTICLE


def test_the_piped_multi_hint_offers_nothing_only_where_nothing_is_accepted(cli: Cli):
    result = cli("chat", stdin=typed(*ARTICLE_KEYS[:9], "", "3", "1"))
    assert result.returncode == 0, result.stderr
    before_collaboration, collaboration = result.stdout.split(t("terminal.progress", "en", n=10,
                                                                 total=11))
    assert t("terminal.plain_multi_hint", "en") in before_collaboration
    assert t("terminal.plain_multi_hint_none", "en") not in before_collaboration
    assert t("terminal.plain_multi_hint_none", "en") in collaboration
    assert cli.exported(saved_id(result.stdout))["answers"]["collaboration"] == []


def test_an_empty_line_where_one_pick_is_needed_is_asked_again(cli: Cli):
    result = cli("chat", stdin=typed("3", "", "quit"))
    assert t("answer.multi_too_few", "en", min=1, count=1) in result.stdout
    assert result.stdout.count(t("terminal.progress", "en", n=2, total=11)) == 2


# --- cmbot delete ----------------------------------------------------------------------------


def test_delete_without_a_terminal_needs_yes(cli: Cli):
    cid = cli.chat_json(ARTICLE)["consultation_id"]
    refused = cli("delete", cid)
    assert refused.returncode == 2
    assert refused.stderr == t("terminal.delete_needs_yes", "en", id=cid) + "\n"
    assert [r["consultation_id"] for r in cli.history()] == [cid]


@pytest.mark.parametrize("flag", ["--yes", "-y"])
def test_delete_yes_erases_it(cli: Cli, flag):
    cid = cli.chat_json(ARTICLE)["consultation_id"]
    kept = cli.chat_json(ARTICLE)["consultation_id"]
    done = cli("delete", cid, flag, "--lang", "fr")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == t("terminal.deleted", "fr", id=cid)
    assert [r["consultation_id"] for r in cli.history()] == [kept]
    gone = cli("show", cid)
    assert gone.returncode == 1
    assert gone.stderr == t("terminal.not_found", "en", id=cid) + "\n"
    shards = list(cli.dir.glob("cmbot.consultations/*"))
    assert not any(cid in p.read_text(encoding="utf-8", errors="replace") for p in shards
                   if p.is_file())


def test_delete_an_unknown_id(cli: Cli):
    result = cli("delete", "deadbeef", "--yes")
    assert result.returncode == 1
    assert result.stderr == t("terminal.not_found", "en", id="deadbeef") + "\n"
