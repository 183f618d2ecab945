"""A person at a real terminal: the installed `cmbot` in a pseudo-terminal (pexpect) of a given
size, its output drawn by a VT100 emulator (pyte), so tests read the screen the person reads —
wrapped lines, menus, what prompt_toolkit erased and what rich printed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pexpect
import pyte
from commandline import CMBOT

KEYS = {"up": "\x1b[A", "down": "\x1b[B", "left": "\x1b[D", "right": "\x1b[C", "enter": "\r",
        "space": " ", "ctrl-c": "\x03", "ctrl-d": "\x04"}


class TerminalSession:
    def __init__(self, args: list[str], db: Path, columns: int = 80, lang: str = "en",
                 **env: str):
        self.columns = columns
        self.screen = pyte.HistoryScreen(columns, 40, history=5000)
        self.stream = pyte.ByteStream(self.screen)
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("CMBOT_", "SLACK_", "LC_", "LANG", "COLUMNS", "LINES"))}
        clean.update(CMBOT_DB=str(db), CMBOT_LANG=lang, TERM="xterm", LANG="C.UTF-8",
                     PROMPT_TOOLKIT_NO_CPR="1", **env)  # the emulator answers no cursor query
        self.child = pexpect.spawn(str(CMBOT), args, env=clean, dimensions=(40, columns),
                                   cwd=str(db.parent))

    def _pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return

    def lines(self) -> list[str]:
        """Every line printed so far (scrolled-off ones included), right spaces trimmed."""
        def text(row) -> str:
            return "".join(row[x].data for x in range(self.columns)).rstrip()
        history = [text(row) for row in self.screen.history.top]
        return history + [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        """The screen as text. prompt_toolkit draws U+00A0 as a plain space (rich keeps it);
        both look the same, so both read as a space here."""
        return "\n".join(self.lines()).replace("\u00a0", " ")

    def wait_for(self, fragment: str, timeout: float = 20.0) -> None:
        fragment = fragment.replace("\u00a0", " ")
        end = time.monotonic() + timeout
        while fragment not in self.text():
            if time.monotonic() > end or (not self.child.isalive() and fragment not in self.text()):
                self._pump(0.2)
                if fragment in self.text():
                    return
                raise AssertionError(f"{fragment!r} never appeared on:\n{self.text()}")
            self._pump(0.1)

    def press(self, *keys: str, settle: float = 0.15) -> None:
        for key in keys:
            self.child.send(KEYS.get(key, key))
            self._pump(settle)

    def exit_code(self, timeout: float = 20.0) -> int:
        end = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < end:
            self._pump(0.1)
        self._pump(0.1)
        self.child.close()
        assert self.child.exitstatus is not None, f"killed by a signal:\n{self.text()}"
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
