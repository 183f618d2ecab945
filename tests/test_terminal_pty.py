"""The arrow-key interview as a person meets it: `cmbot chat` in a pseudo-terminal of 80 and
160 columns, keys pressed one by one, the screen read back through a terminal emulator."""

from __future__ import annotations

import getpass
import re
from functools import cache
from pathlib import Path

import pytest
from clitools import ARTICLE, Cli, typed
from terminal_session import TerminalSession

from cmbot.i18n import catalogue, t
from cmbot.interview import load_flows

FLOW = load_flows()["community_manager"]

# What questionary prints in English unless told otherwise.
QUESTIONARY_ENGLISH = ("Use shortcuts", "arrow keys", "selections", "Cancelled by user",
                       "done (", "Aborted")


@pytest.fixture
def open_terminal(tmp_path: Path):
    sessions: list[TerminalSession] = []

    def factory(*args: str, columns: int = 80, lang: str = "en",
                installed: bool = False) -> TerminalSession:
        session = TerminalSession(list(args), tmp_path / "cmbot.json", columns, lang,
                                  installed=installed)
        sessions.append(session)
        return session

    yield factory
    for session in sessions:
        session.close()


@cache
def known_words(lang: str) -> frozenset[str]:
    """Every word cmbot may print in `lang`: catalogues, the flow's texts, option labels."""
    texts: list[str] = []
    for value in catalogue(lang).values():
        if isinstance(value, dict):
            texts += [str(v) for v in value.values()]
        elif isinstance(value, list):
            texts += [str(v) for v in value]
        else:
            texts.append(str(value))
    for flow in load_flows().values():
        texts += [flow.title[lang], flow.description[lang]]
        for question in flow.states.values():
            texts += [question.prompt[lang], question.help[lang]]
            texts += [o.label[lang] for o in question.options]
    return frozenset(w for text in texts for w in words(text))


def words(text: str) -> list[str]:
    cleaned = re.sub(r"[{}]\w*[{}]?", " ", text)
    found = (w.strip("-'’") for w in re.split(r"[^\w’'-]+", cleaned))
    return [w for w in found if w and not w.isdigit()]


def assert_clean(session: TerminalSession, lang: str) -> None:
    """No English questionary words in French, no word cut in two by a line break, no French
    question mark alone at the start of a line, no line wider than the terminal."""
    screen = session.text()
    assert "Traceback" not in screen
    if lang == "fr":
        for english in QUESTIONARY_ENGLISH:
            assert english not in screen, (english, screen)
    known = known_words(lang) | known_words("en") | {"cmbot", getpass.getuser()}
    strays = {w for w in words(screen) if w not in known and len(w) > 1
              and not re.fullmatch(r"[0-9a-f]{12}", w)  # a consultation id
              and not re.fullmatch(r"[-+]?\d[\w-]*", w)}
    assert not strays, (strays, screen)  # a word broken at the margin leaves two strays
    for line in session.lines():
        assert len(line) <= session.columns
        # The qmark "? " opens a question, and "» " points at a menu entry; anything else
        # at the start of a line is punctuation torn from its word.
        assert not re.match(r"\s*[?!;:]", line) or re.match(r"\? \w", line), (line, screen)
        assert not re.match(r"\s*»(?! ([○●]|\d+\)))", line), (line, screen)


def progress(n: int, lang: str = "en") -> str:
    return t("terminal.progress", lang, n=n, total=11)


def answer(session: TerminalSession, n: int, lang: str, *keys: str) -> None:
    """Question `n` on the screen, then its keys."""
    session.wait_for(progress(n, lang))
    session.press(*keys)


def departments_ticked(session: TerminalSession) -> None:
    """At the departments checkbox: tick communication, marketing, web and sales, confirm."""
    session.press("space", "down", "space", "down", "space", "down", "space", "enter")


@pytest.mark.parametrize(("lang", "columns"), [
    ("en", 80), ("fr", 160),  # both languages, both widths; the other two pairs when thorough
    pytest.param("en", 160, marks=pytest.mark.thorough),
    pytest.param("fr", 80, marks=pytest.mark.thorough)])
def test_a_whole_interview_with_arrow_keys(open_terminal, lang, columns):
    term = open_terminal("chat", lang=lang, columns=columns)
    first = FLOW.states["org_size"].prompt[lang]
    answer(term, 1, lang, "3", "enter")                      # org_size: 50 to 249
    term.wait_for(progress(2, lang))
    term.wait_for(t("terminal.multi_hint", lang))
    assert_clean(term, lang)                                 # a checkbox on screen
    departments_ticked(term)
    term.wait_for(progress(3, lang))
    term.wait_for(t("terminal.choice_hint", lang))
    assert_clean(term, lang)                                 # a menu on screen
    term.press("4", "enter")                                 # proposed_host: sales
    answer(term, 4, lang, "1", "enter")                      # budget_owner: host
    term.wait_for(progress(5, lang))
    term.wait_for(t("terminal.text_hint", lang))
    assert_clean(term, lang)                                 # a text prompt on screen
    term.press("0", "enter")                                 # budget_amount: 0
    answer(term, 6, lang, "space", "down", "space", "down", "space", "enter")  # fans, conversion, news
    answer(term, 7, lang, "1", "enter")                      # reporting: volume
    answer(term, 8, lang, "2", "enter")                      # content: little
    answer(term, 9, lang, "3", "enter")                      # brand_reach: niche
    answer(term, 10, lang, "space", "enter")                 # collaboration: communication
    answer(term, 11, lang, "3", "enter")                     # dedicated_possible: no
    term.wait_for(FLOW.states["confirm"].options[0].label[lang])
    term.press("enter")                                      # give me the advice
    term.wait_for(t("terminal.saved", lang, id="")[:12])
    assert term.exit_code() == 0
    screen = term.text()
    assert first in screen
    # The checkbox answer is reprinted in words, in the interview's language.
    labels = [FLOW.label("departments", d, lang) for d in ARTICLE["departments"]]
    assert ", ".join(labels) in " ".join(screen.split())
    assert t("advice.scores", lang) in screen and "/100" in screen
    assert_clean(term, lang)


def test_checkboxes_hold_only_the_options(open_terminal):
    term = open_terminal("chat", lang="fr")
    answer(term, 1, "fr", "1", "enter")
    term.wait_for(progress(2, "fr"))
    term.wait_for(FLOW.states["departments"].options[-1].label["fr"])  # the checkbox, drawn
    screen = term.text()
    assert t("terminal.back_choice", "fr") not in screen.split(progress(2, "fr"))[1]
    term.press("a", "enter")  # tick everything there is
    term.wait_for(progress(3, "fr"))
    answered = " ".join(term.text().split())
    every = ", ".join(o.label["fr"] for o in FLOW.states["departments"].options)
    assert every in answered
    assert "Retour," not in answered and "Quitter" not in answered.split(every)[1][:40]


def test_left_arrow_in_a_checkbox_goes_back(open_terminal):
    term = open_terminal("chat")
    answer(term, 1, "en", "2", "enter")
    answer(term, 2, "en", "left")
    term.wait_for(progress(1) + " ", times=2)
    assert term.text().count(progress(1)) == 2
    term.press("ctrl-c")
    assert term.exit_code() == 130


def test_an_empty_tick_list_is_refused_where_one_is_needed(open_terminal):
    term = open_terminal("chat", lang="fr")
    answer(term, 1, "fr", "1", "enter")
    answer(term, 2, "fr", "enter")
    term.wait_for(t("answer.multi_too_few", "fr", min=1, count=1))
    term.wait_for(progress(2, "fr"), times=2)  # asked again
    term.press("space", "enter")
    term.wait_for(progress(3, "fr"))
    assert term.text().count(progress(2, "fr")) == 2


def test_ctrl_c_saves_says_how_to_resume_and_exits_130(open_terminal, tmp_path):
    cli = Cli(tmp_path)
    term = open_terminal("chat", lang="fr")
    answer(term, 1, "fr", "3", "enter")
    term.wait_for(progress(2, "fr"))
    departments_ticked(term)
    answer(term, 3, "fr", "ctrl-c")
    assert term.exit_code() == 130
    assert t("terminal.saved_for_later", "fr", command="cmbot chat --resume") in term.text()
    assert_clean(term, "fr")
    [session] = cli.sessions_on_disk().values()
    assert session["state"] == "proposed_host"
    assert session["lang"] == "fr"


def test_ctrl_d_at_a_text_prompt_says_it_was_saved(open_terminal, tmp_path):
    cli = Cli(tmp_path)
    term = open_terminal("chat")
    answer(term, 1, "en", "3", "enter")
    term.wait_for(progress(2))
    departments_ticked(term)
    answer(term, 3, "en", "4", "enter")
    answer(term, 4, "en", "1", "enter")
    term.wait_for(progress(5))
    term.wait_for(t("terminal.text_hint", "en"))  # drawn by the prompt: it reads keys now
    term.press("ctrl-d")
    assert term.exit_code() == 0
    assert t("terminal.saved_for_later", "en", command="cmbot chat --resume") in term.text()
    assert "Aborted" not in term.text()
    [session] = cli.sessions_on_disk().values()
    assert session["state"] == "budget_amount"


def test_quit_before_any_answer_keeps_nothing(open_terminal, tmp_path):
    term = open_terminal("chat", installed=True)  # the `cmbot` script, in a new interpreter
    answer(term, 1, "en", "up", "enter")  # the last entry: Quit
    assert term.exit_code() == 0
    assert t("terminal.nothing_kept", "en") in term.text()
    assert Cli(tmp_path).sessions_on_disk() == {}


def test_chat_offers_the_waiting_interview_and_resumes_it(open_terminal, tmp_path):
    cli = Cli(tmp_path)
    quit_at_3 = cli("chat", stdin=typed("3", "1,2,3,4", "quit"))
    assert quit_at_3.returncode == 0
    term = open_terminal("chat")
    term.wait_for(t("terminal.waiting_question", "en", count=1))
    term.wait_for(t("terminal.new_choice", "en"))
    term.press("enter")  # the waiting one is offered first
    answer(term, 3, "en", "ctrl-c")
    assert term.exit_code() == 130
    assert len(cli.sessions_on_disk()) == 1


def test_chat_can_start_afresh_and_resume_then_asks_which(open_terminal, tmp_path):
    cli = Cli(tmp_path)
    assert cli("chat", stdin=typed("3", "1,2,3,4", "quit")).returncode == 0
    term = open_terminal("chat")
    term.wait_for(t("terminal.new_choice", "en"))
    term.press("down", "enter")  # a new interview
    answer(term, 1, "en", "1", "enter")
    answer(term, 2, "en", "ctrl-c")
    assert term.exit_code() == 130
    assert len(cli.sessions_on_disk()) == 2  # the first one was not shadowed
    again = open_terminal("chat", "--resume")
    again.wait_for(t("terminal.waiting_question", "en", count=2))
    again.wait_for("question 2 of 11")
    again.wait_for("question 3 of 11")
    again.press("down", "enter")  # the older one, at question 3
    answer(again, 3, "en", "ctrl-c")
    assert again.exit_code() == 130


def test_resume_in_another_language(open_terminal, tmp_path):
    cli = Cli(tmp_path)
    assert cli("chat", stdin=typed("3", "quit")).returncode == 0
    term = open_terminal("chat", "--resume", "--lang", "fr")
    term.wait_for(FLOW.states["departments"].prompt["fr"])
    term.press("ctrl-c")
    assert term.exit_code() == 130
    [session] = cli.sessions_on_disk().values()
    assert session["lang"] == "fr"


@pytest.mark.parametrize(("lang", "reply", "gone", "installed"), [
    # The French yes runs the `cmbot` script in a new interpreter: its own `input()`.
    ("en", "n", False, False), ("en", "y", True, False), ("fr", "o", True, True),
    ("fr", "", False, False)])
def test_delete_asks_first(open_terminal, tmp_path, lang, reply, gone, installed):
    cli = Cli(tmp_path)
    cid = cli.chat_json(ARTICLE)["consultation_id"]
    term = open_terminal("delete", cid, lang=lang, installed=installed)
    term.wait_for(t("terminal.delete_question", lang))
    assert cid in term.text()
    term.type_line(reply)
    assert term.exit_code() == 0
    message = "terminal.deleted" if gone else "terminal.delete_kept"
    assert t(message, lang, id=cid) in term.text()
    assert_clean(term, lang)
    assert [r["consultation_id"] for r in cli.history()] == ([] if gone else [cid])
