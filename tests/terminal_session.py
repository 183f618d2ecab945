"""A person at a real terminal: `cmbot` in a pseudo-terminal of a given size, its output drawn by
a VT100 emulator (pyte), so tests read the screen the person reads — wrapped lines, menus, what
prompt_toolkit erased and what rich printed.

The child is `cmbot` forked from the test process on a new pseudo-terminal (`pty.fork`: a
session of its own whose controlling terminal is the pty), running the `cmbot` script's entry
point as `commandline` does for piped commands; `installed=True` execs the installed `cmbot`
script in a new interpreter instead, for what only that shows.

Keys are pressed as a person presses them: when the program reads the keyboard key by key (the
terminal in raw mode, as prompt_toolkit sets it while a prompt is up), never while the terminal
is between two prompts and would echo them or turn Ctrl-C into a signal. A key that closes a
prompt comes last in `press`; the test then waits for what the next prompt shows, as a person
looks before typing. A line typed for a plain `input()` goes through the terminal's own line
editing (`type_line`). Waits end as soon as the awaited text is on the screen or the child is
gone: there is no pause to let the program "settle".
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path
from typing import NoReturn

import pyte
from commandline import CMBOT, run_main

KEYS = {"up": "\x1b[A", "down": "\x1b[B", "left": "\x1b[D", "right": "\x1b[C", "enter": "\r",
        "space": " ", "ctrl-c": "\x03", "ctrl-d": "\x04"}
ROWS = 40


class TerminalSession:
    def __init__(self, args: list[str], db: Path, columns: int = 80, lang: str = "en", *,
                 installed: bool = False, **env: str):
        self.columns = columns
        self.screen = pyte.HistoryScreen(columns, ROWS, history=5000)
        self.stream = pyte.ByteStream(self.screen)
        self._scrolled: list[str] = []  # rendered lines of the emulator's history
        self._rows = [""] * ROWS  # rendered rows of the screen
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("CMBOT_", "SLACK_", "LC_", "LANG", "COLUMNS", "LINES",
                                      "PYTHONIOENCODING"))}
        clean.update(CMBOT_DB=str(db), CMBOT_LANG=lang, TERM="xterm", LANG="C.UTF-8",
                     PROMPT_TOOLKIT_NO_CPR="1", **env)  # the emulator answers no cursor query
        argv = [str(CMBOT), *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: never returns
            _child(argv, clean, db.parent, columns, installed)
        self.status: int | None = None
        self.eof = False

    def _read(self, timeout: float) -> None:
        """Feed the emulator what the child wrote, waiting up to `timeout` for the first bytes."""
        wait = timeout
        while not self.eof and select.select([self.fd], [], [], wait)[0]:
            try:
                data = os.read(self.fd, 65536)
            except OSError as exc:  # EIO: every end of the terminal is closed, the child is gone
                if exc.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                self.eof = True
                return
            self.stream.feed(data)
            wait = 0  # take what else is there already, then let the caller look

    def lines(self) -> list[str]:
        """Every line printed so far (scrolled-off ones included), right spaces trimmed.

        Tests look after every chunk the child writes, so only what changed is read again: the
        lines scrolled off since the last look (they never change once there) and the rows
        the emulator marked as changed (`dirty`)."""
        screen = self.screen
        scrolled = screen.history.top
        if len(scrolled) < len(self._scrolled):
            self._scrolled = []
        self._scrolled += [self._row(row) for row in list(scrolled)[len(self._scrolled):]]
        for y in screen.dirty:
            if y < ROWS:
                self._rows[y] = self._row(screen.buffer[y])
        screen.dirty.clear()
        return self._scrolled + self._rows

    def _row(self, row) -> str:
        return "".join(row[x].data for x in range(self.columns)).rstrip()

    def text(self) -> str:
        """The screen as text. prompt_toolkit draws U+00A0 as a plain space (rich keeps it);
        both look the same, so both read as a space here."""
        return "\n".join(self.lines()).replace("\u00a0", " ")

    def wait_for(self, fragment: str, timeout: float = 20.0, times: int = 1) -> None:
        """Until `fragment` is on the screen (`times` times or more)."""
        fragment = fragment.replace("\u00a0", " ")
        end = time.monotonic() + timeout
        while self.text().count(fragment) < times:
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                raise AssertionError(f"{fragment!r} never appeared {times} time(s) on:\n{self.text()}")
            self._read(left)

    def _reads_keys(self) -> bool:
        """The terminal is in raw mode: the program reads each key as it is pressed. (On Linux
        the master end reports the settings of the terminal the child uses.)"""
        return not termios.tcgetattr(self.fd)[3] & termios.ICANON

    def press(self, *keys: str, timeout: float = 20.0) -> None:
        """The keys for one prompt, each sent once the program reads keys one by one."""
        for key in keys:
            end = time.monotonic() + timeout
            while not self._reads_keys():
                if self.eof or time.monotonic() > end:
                    raise AssertionError(f"no prompt read the key {key!r}:\n{self.text()}")
                self._read(0.005)
            os.write(self.fd, KEYS.get(key, key).encode())

    def type_line(self, line: str) -> None:
        """A line typed and entered at a plain `input()`: the terminal echoes and edits it."""
        os.write(self.fd, (line + "\r").encode())

    def exit_code(self, timeout: float = 20.0) -> int:
        """The child's exit code once it has printed everything and left."""
        end = time.monotonic() + timeout
        while not self.eof and time.monotonic() < end:
            self._read(end - time.monotonic())
        assert self.eof, f"still running after {timeout} s:\n{self.text()}"
        status = self._wait(end)
        assert os.WIFEXITED(status), f"killed by a signal:\n{self.text()}"
        return os.WEXITSTATUS(status)

    def _wait(self, end: float) -> int:
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
            elif time.monotonic() > end:
                raise AssertionError(f"the terminal closed but cmbot did not exit:\n{self.text()}")
            else:
                time.sleep(0.005)
        return self.status

    def close(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.status = os.waitpid(self.pid, 0)[1]
        os.close(self.fd)


def _child(argv: list[str], env: dict[str, str], cwd: Path, columns: int,
           installed: bool) -> NoReturn:
    """In the child, on the pty: its size, its folder, then cmbot."""
    try:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, columns, 0, 0))
        os.chdir(cwd)
        if installed:
            os.execve(argv[0], argv, env)
        _as_a_new_interpreter()
    except BaseException:
        os._exit(127)
    from prompt_toolkit.application import create_app_session

    with create_app_session():  # not the test process's streams, should it have used them
        run_main(argv, env)


def _as_a_new_interpreter() -> None:
    """What `exec` and a new interpreter do and the fork does not: signals the test process
    handles back to their defaults, then Python's own handlers; and `input()` reading through
    the terminal's line editing (pytest imports `readline`, which would take `input()` over at a
    terminal; cmbot never imports it)."""
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(number)):
                signal.signal(number, signal.SIG_DFL)
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_IGN)
    # Unset, Python falls back to its stdio reader (PyOS_Readline).
    ctypes.c_void_p.in_dll(ctypes.pythonapi, "PyOS_ReadlineFunctionPointer").value = None
