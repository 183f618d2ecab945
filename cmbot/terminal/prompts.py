"""Asking one question at a terminal: arrow keys on a real terminal, numbers when piped.

`questionary` gives arrow-key menus and checkboxes on a TTY; when stdin is not a terminal
(scripts, tests, a CI log) `PlainPrompts` reads numbered answers line by line instead.
Both return the raw answer, or `BACK` / `QUIT`.
"""

from __future__ import annotations

from typing import Any, Protocol

import questionary
from rich.console import Console

from ..i18n import LANGUAGES, t

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
    def choice(self, prompt: str, options: Options, default: str | None) -> str: ...
    def multi(self, prompt: str, options: Options, default: list[str]) -> list[str] | str: ...
    def text(self, prompt: str, default: str | None) -> str: ...


class ArrowPrompts:
    def __init__(self, lang: str):
        self.lang = lang

    def _nav(self) -> list[Any]:
        return [questionary.Separator(),
                questionary.Choice(t("terminal.back_choice", self.lang), value=BACK),
                questionary.Choice(t("terminal.quit_choice", self.lang), value=QUIT)]

    def choice(self, prompt: str, options: Options, default: str | None) -> str:
        choices = [questionary.Choice(label, value=oid) for oid, label in options]
        answer = questionary.select(prompt, choices=choices + self._nav(), default=default,
                                    use_shortcuts=len(choices) + 2 <= 36).ask()
        return QUIT if answer is None else answer

    def multi(self, prompt: str, options: Options, default: list[str]) -> list[str] | str:
        choices = [questionary.Choice(label, value=oid, checked=oid in default)
                   for oid, label in options]
        answer = questionary.checkbox(prompt, choices=choices + self._nav(),
                                      instruction=t("terminal.multi_hint", self.lang)).ask()
        if answer is None or QUIT in answer:
            return QUIT
        return BACK if BACK in answer else answer

    def text(self, prompt: str, default: str | None) -> str:
        answer = questionary.text(prompt, default=default or "",
                                  instruction=t("terminal.plain_text_hint", self.lang)).ask()
        if answer is None:
            return QUIT
        return nav_word(answer) or answer


class PlainPrompts:
    """Numbered menus read from stdin; end of input means quit (the interview is kept)."""

    def __init__(self, lang: str, console: Console):
        self.lang, self.console = lang, console

    def _read(self, hint: str) -> str:
        self.console.print(f"[dim]{hint}[/dim]")
        try:
            return input("> ")
        except EOFError:
            return "quit"

    def _menu(self, prompt: str, options: Options) -> None:
        self.console.print(f"[bold]{prompt}[/bold]", highlight=False)
        for number, (_, label) in enumerate(options, 1):
            self.console.print(f"  {number}. {label}", highlight=False)

    def _pick(self, token: str, options: Options) -> str:
        token = token.strip()
        if token.isdigit() and 1 <= int(token) <= len(options):
            return options[int(token) - 1][0]
        return token  # an option id typed in full; the engine says if it is wrong

    def choice(self, prompt: str, options: Options, default: str | None) -> str:
        self._menu(prompt, options)
        line = self._read(t("terminal.plain_choice_hint", self.lang))
        return nav_word(line) or self._pick(line, options)

    def multi(self, prompt: str, options: Options, default: list[str]) -> list[str] | str:
        self._menu(prompt, options)
        line = self._read(t("terminal.plain_multi_hint", self.lang))
        nav = nav_word(line)
        if nav:
            return nav
        return [self._pick(p, options) for p in line.replace(";", ",").split(",") if p.strip()]

    def text(self, prompt: str, default: str | None) -> str:
        self.console.print(f"[bold]{prompt}[/bold]", highlight=False)
        line = self._read(t("terminal.plain_text_hint", self.lang))
        return nav_word(line) or line
