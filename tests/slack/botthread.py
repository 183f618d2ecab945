"""The bot of `cmbot serve --http`, run in threads of the test process instead of a subprocess.

It is the same wiring `cmbot serve` runs (`cmbot.slack.app.start` and `http_server`: the real
`slack_bolt.App`, the worker lanes, the reminder sweep, waitress on a real port), configured the
same way (`load_settings` and `open_desk` reading the environment the test gives it), driven by
the same signed HTTP requests and calling the same fake Web API. What it saves is on disk, as a
process would leave it. What a process adds — its start-up, `kill -9`, its own stderr, limits
set on it — is tested with :class:`conftest.BotProcess`; everything else starts here in
milliseconds instead of a second.

Its log lines (the same format and token redaction as `cmbot serve`'s) go to a file under the
test's folder; an exception escaping one of its threads fails the test (see pyproject's
`filterwarnings`).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from fakeslack import FakeSlack
from slack_requests import BotDriver
from waitress import wasyncore

from cmbot.cli import open_desk
from cmbot.service import Desk
from cmbot.slack.app import Bot, RedactTokens, http_server, start
from cmbot.slack.config import load_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as `cmbot serve` logs


class LogFile(logging.FileHandler):
    """The bot's log file, which a test can also wait on: each line written wakes it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.written = threading.Condition()
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        with self.written:
            self.text += self.format(record) + "\n"
            self.written.notify_all()


IDLE_TIMEOUT = 30.0  # seconds: only how long a hung bot is waited for, never what a test measures


class BotThread:
    """One in-process bot; the same attributes and methods as `BotProcess` but `kill9`, plus
    what only a bot in this process can tell: when it is idle (`wait_idle`) and when it has
    swept its interviews (`wait_sweep`).

    ``monkeypatch`` sets the bot's environment for the rest of the test (settings are read at
    start, a few things — the default language — when used).

    Each start binds a port of the system's choosing, a restart too: the port let go for the
    moment of a restart could be bound meanwhile by another test process (they all bind
    ports all the time). ``driver`` follows it."""

    in_process = True

    def __init__(self, *, fake: FakeSlack, env: dict[str, str], db_path: Path, log_dir: Path,
                 monkeypatch: pytest.MonkeyPatch, name: str = "cmbot") -> None:
        self.fake, self.env, self.db_path, self.name = fake, env, db_path, name
        self.monkeypatch = monkeypatch
        self.log_path = log_dir / f"{name}.log"
        self.port = 0
        self.runs = 0
        self.driver = BotDriver(self.url, env["SLACK_SIGNING_SECRET"], fake.url)
        self._desk: Desk | None = None
        self._bot: Bot | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._log: LogFile | None = None
        self._root_level = logging.getLogger().level
        fake.bots.append(self)  # the fake asks it whether it is done (`FakeSlack.settle`)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _apply_environment(self) -> None:
        for key in set(os.environ) - set(self.env):
            self.monkeypatch.delenv(key)
        for key, value in self.env.items():
            if os.environ.get(key) != value:
                self.monkeypatch.setenv(key, value)

    def _start_logging(self) -> None:
        handler = LogFile(self.log_path)
        handler.addFilter(RedactTokens())
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        self._log = handler

    def _stop_logging(self) -> None:
        if self._log is not None:
            logging.getLogger().removeHandler(self._log)
            logging.getLogger().setLevel(self._root_level)
            self._log.close()
            self._log = None

    def start(self, wait: bool = True) -> BotThread:
        """Configure, open the database, check Slack (`auth.test`), bind and serve. `wait` is
        accepted for `BotProcess`'s sake: the port answers as soon as this returns."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.runs += 1
        self._apply_environment()
        self._start_logging()
        try:
            settings = load_settings(0, force_http=True)
            self._desk = open_desk(exclusive=True)
            self._bot = start(settings, self._desk)
            self._server = http_server(self._bot.app, 0, host="127.0.0.1")
        except BaseException:
            self._close_bot()
            raise
        self.port = self._server.effective_port
        self.driver.base_url = self.url
        self._thread = threading.Thread(target=self._server.run, name=f"{self.name}-http", daemon=True)
        self._thread.start()
        return self

    def _close_bot(self) -> None:
        if self._bot is not None:
            self._bot.close()
            self._bot = None
        if self._desk is not None:
            self._desk.store.close()
            self._desk = None
        self._stop_logging()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop serving (requests under way are answered), finish the lanes' work, close the
        database: a graceful shutdown. Returns 0 like a process that exited cleanly."""
        if self._server is None:
            return None
        server = self._server
        refused = self._end_loop(server, timeout) if self._thread and self._thread.is_alive() else None
        self._server = None
        self._close_bot()
        if refused is not None:
            raise refused
        return 0

    def _end_loop(self, server: Any, timeout: float) -> AssertionError | None:
        """Answer the requests under way, then close every socket in waitress's own loop thread
        (woken through its trigger) and wait for it to end. An error writing to the trigger was
        seen once under `-n 4` and never reproduced: it is reported with whose doing it was."""
        server.task_dispatcher.shutdown(timeout=timeout)
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError as exc:
            trigger = server.trigger
            return AssertionError(
                f"{self.name}: waitress's trigger refused the stop ({exc}); closed by waitress "
                f"itself: {trigger._closed}, its pipe {trigger._fds}, write end {trigger.trigger}")
        assert self._thread is not None
        self._thread.join(timeout)
        return None

    def kill9(self) -> int | None:
        raise NotImplementedError("kill -9 needs a process: use the bot_process fixture")

    def restart(self, wait: bool = True) -> BotThread:
        """Stop and start again on the same database (on a new port, see the class)."""
        self.stop()
        return self.start(wait=wait)

    def wait_idle(self, timeout: float = IDLE_TIMEOUT) -> None:
        """Wait until the bot has done all the work it was handed: its start-up round (what was
        never posted, shown) over and its lanes drained. A request answered has handed its work
        to the lanes before answering, so after this nothing more comes of it."""
        bot = self._bot
        if bot is None:
            return
        if not (bot.reminders.wait_started(timeout) and bot.lanes.wait_idle(timeout)):
            raise AssertionError(f"{self.name} was still busy after {timeout}s:\n{self.logs()}")

    def wait_sweep(self, timeout: float = IDLE_TIMEOUT) -> None:
        """Wait until a reminder sweep that began after this call has ended, and the work it
        handed to the lanes (tidying earlier messages) is done: what it would remind or close
        about the interviews as they are now, it has."""
        bot = self._bot
        assert bot is not None, f"{self.name} is not running"
        if not bot.reminders.wait_sweep(timeout):
            raise AssertionError(f"{self.name} did not sweep within {timeout}s:\n{self.logs()}")
        self.wait_idle(timeout)

    def wait_for_log(self, fragment: str, timeout: float = 30.0) -> None:
        """Wait until the running bot logs a line holding `fragment`."""
        assert self._log is not None, f"{self.name} is not running"
        with self._log.written:
            if not self._log.written.wait_for(lambda: fragment in self._log.text, timeout):
                raise AssertionError(f"{self.name} never logged {fragment!r}:\n{self.logs()}")

    def logs(self) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        return f"--- {self.name} log ({self.log_path}) ---\n{text}" if text.strip() else \
            f"({self.name} logged nothing)"
