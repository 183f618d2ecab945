"""Asking one question at a terminal: arrow keys on a real terminal, numbers when piped.

`questionary` gives arrow-key menus and checkboxes on a TTY; when stdin is not a terminal
(scripts, tests, a CI log) `PlainPrompts` reads numbered answers line by line instead.
Both return the raw answer, or `BACK` / `QUIT`. Ctrl-C is left to the caller (it saves and
exits 130); Ctrl-D at a prompt means quit, as the end of piped input does.

Every word questionary would print in English is replaced: the hints are ours, and each
prompt is erased when answered and reprinted by rich with the answer in words.
"""

from __future__ import annotations

import shutil
from typing import Any, Protocol

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..i18n import LANGUAGES, t
from .typography import shorten, wrap

BACK, QUIT = "<back>", "<quit>"
Options = list[tuple[str, str]]  # (option id, label)


def nav_word(text: str) -> str | None:
    """`back`/`retour` -> BACK, `quit`/`quitter` -> QUIT, whatever the interview's language."""
    word = text.strip().lower()
    for lang in LANGUAGES:
        if word in t("terminal.back_words", lang):
            return BACK
        if word in t("terminal.quit_words", lang):
            return QUIT
    return None


class Prompts(Protocol):
    def choice(self, prompt: str, options: Options, default: str | None, nav: bool = True) -> str: ...
    def multi(self, prompt: str, options: Options, default: list[str],
              allow_none: bool) -> list[str] | str: ...
    def text(self, prompt: str, default: str | None) -> str: ...


def fit(prompt: str, hint: str, width: int) -> str:
    """The question and its hint as questionary's message, wrapped at spaces to the terminal's
    width (prompt_toolkit would cut words anywhere), continuation lines under the text."""
    lines = wrap(prompt, width - 3, indent="  ")
    if len(lines[-1]) + len(hint) + 4 > width:
        lines.append(" ")  # the hint goes on a line of its own
    return "\n".join(lines)


class ArrowPrompts:
    def __init__(self, lang: str, console: Console):
        self.lang, self.console = lang, console

    def _width(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns

    def _answered(self, prompt: str, answer: str) -> None:
        """The answered question, as questionary would leave it, but wrapped at spaces and
        under its own text."""
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(Text("?", style="bold green"),
                     Text.assemble((prompt, "bold"), " ", (answer, "cyan")))
        self.console.print(grid)

    def _nav(self) -> list[Any]:
        return [questionary.Separator(),
                questionary.Choice(t("terminal.back_choice", self.lang), value=BACK),
                questionary.Choice(t("terminal.quit_choice", self.lang), value=QUIT)]

    def choice(self, prompt: str, options: Options, default: str | None, nav: bool = True) -> str:
        room = self._width() - 8  # "» 12) " and a margin: prompt_toolkit cuts longer lines
        choices = [questionary.Choice(shorten(label, room), value=oid) for oid, label in options]
        hint = t("terminal.choice_hint", self.lang)
        every = choices + (self._nav() if nav else [])
        answer = questionary.select(
            fit(prompt, hint, self._width()), choices=every, default=default, instruction=hint,
            use_shortcuts=len(every) <= 36, erase_when_done=True).unsafe_ask()
        labels = dict(options)
        if answer in labels:
            self._answered(prompt, labels[answer])
        return answer

    def multi(self, prompt: str, options: Options, default: list[str],
              allow_none: bool) -> list[str] | str:
        """Checkboxes hold the options only: ← goes back and q quits, so neither can be ticked
        with a real answer or counted as one. Too few ticks are refused by the interview, which
        says so and asks again (questionary's own validation bar does not show on every
        terminal)."""
        choices = [questionary.Choice(label, value=oid, checked=oid in default)
                   for oid, label in options]
        hint = t("terminal.multi_hint", self.lang)
        question = questionary.checkbox(fit(prompt, hint, self._width()), choices=choices,
                                        instruction=hint, erase_when_done=True)
        keys = KeyBindings()
        keys.add("left", eager=True)(lambda event: event.app.exit(result=BACK))
        keys.add("q", eager=True)(lambda event: event.app.exit(result=QUIT))
        application = question.application
        application.key_bindings = merge_key_bindings([application.key_bindings, keys])
        answer = question.unsafe_ask()
        if isinstance(answer, list):
            labels = dict(options)
            self._answered(prompt, ", ".join(labels[a] for a in answer) or t("format.none", self.lang))
        return answer

    def text(self, prompt: str, default: str | None) -> str:
        hint = t("terminal.text_hint", self.lang)
        try:
            answer = questionary.text(fit(prompt, hint, self._width()), default=default or "",
                                      instruction=hint, erase_when_done=True).unsafe_ask()
        except EOFError:  # Ctrl-D: leave, keeping what was answered
            return QUIT
        word = nav_word(answer)
        if word is None:
            self._answered(prompt, answer)
        return word or answer


class PlainPrompts:
    """Numbered menus read from stdin; end of input means quit (the interview is kept)."""

    def __init__(self, lang: str, console: Console):
        self.lang, self.console = lang, console

    def _read(self, hint: str) -> str:
        self.console.print(f"[dim]{hint}[/dim]", highlight=False)
        try:
            return input("> ")
        except EOFError:
            return "quit"

    def _menu(self, prompt: str, options: Options) -> None:
        self.console.print(Text(prompt, style="bold"))
        for number, (_, label) in enumerate(options, 1):
            self.console.print(Text(f"  {number}. {label}"))

    def _pick(self, token: str, options: Options) -> str:
        token = token.strip()
        if token.isdigit() and 1 <= int(token) <= len(options):
            return options[int(token) - 1][0]
        return token  # an option id typed in full; the engine says if it is wrong

    def choice(self, prompt: str, options: Options, default: str | None, nav: bool = True) -> str:
        self._menu(prompt, options)
        line = self._read(t("terminal.plain_choice_hint", self.lang))
        return nav_word(line) or self._pick(line, options)

    def multi(self, prompt: str, options: Options, default: list[str],
              allow_none: bool) -> list[str] | str:
        self._menu(prompt, options)
        hint = "terminal.plain_multi_hint_none" if allow_none else "terminal.plain_multi_hint"
        line = self._read(t(hint, self.lang))
        nav = nav_word(line)
        if nav:
            return nav
        return [self._pick(p, options) for p in line.replace(";", ",").split(",") if p.strip()]

    def text(self, prompt: str, default: str | None) -> str:
        self.console.print(Text(prompt, style="bold"))
        line = self._read(t("terminal.plain_text_hint", self.lang))
        return nav_word(line) or line
