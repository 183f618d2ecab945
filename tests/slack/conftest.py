"""Fixtures that run the real bot of ``cmbot serve --http`` against :class:`FakeSlack`.

Tests drive the bot over HTTP exactly as Slack would (signed requests via
:class:`BotDriver`) and assert on what it sent back to the fake Web API, so they cover
the wiring (env, signing, routing, persistence, restarts) and not just the handlers.

``bot`` runs it in threads of the test process (:class:`BotThread`: the same app, server and
configuration, started in milliseconds); in a test marked ``@pytest.mark.serve_process`` it runs
the ``cmbot serve`` command in a subprocess (:class:`BotProcess`), for what only a process
shows: ``kill -9``, its start-up and its output, limits set on it.

When a test fails, the bot's stdout/stderr and the list of Web API calls it made are
attached to the failure report; the full logs stay under the test's ``tmp_path``.

``door`` (and ``make_door``) is the other layer: no HTTP and no threads, the listener functions
called as Bolt calls them (:class:`ListenerDriver`) with Slack's Web API recorded
(:class:`RecordingClient`), for the conversation's many variants, a few milliseconds each.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# Make the harness modules importable from tests in any --import-mode.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from botthread import BotThread
from changes import with_
from commandline import Forked, spawn
from fakeslack import FakeSlack
from listener_driver import ListenerDriver
from recording import RecordingClient
from slack_requests import BotDriver

from cmbot.service import Desk
from cmbot.store import Store
from cmbot.store.memory import MemoryStore

BOT_TOKEN = "xoxb-test-token"
# Each test process signs with its own secret: a request that reaches another test process's
# bot (say, sent to a port that process bound since) is refused there (401), not handled.
SIGNING_SECRET = f"test-secret-{secrets.token_hex(8)}"
CMBOT_EXE = Path(sys.executable).parent / "cmbot"
DEFAULT_COMMAND: tuple[str, ...] = (str(CMBOT_EXE), "serve", "--http", "--port", "{port}")
STARTUP_TIMEOUT = 20.0
STARTUP_CHECKED = "start-up check done"  # logged once a start's recovery round is over
LISTENING = re.compile(r"listening on http://[^/\s]+:(\d+)/")  # `cmbot serve`'s line, port 0 or not

_BOTS = pytest.StashKey[list["BotProcess | BotThread"]]()
_FAKES = pytest.StashKey[list[FakeSlack]]()


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A port where every connection is refused while the block lasts: bound here, so that
    nothing else can take it, but not listening. (A port merely free a moment ago may be
    another test process's by the time it is used: they all bind ports all the time.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _tail(path: Path, limit: int = 20_000) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return text if len(text) <= limit else "…" + text[-limit:]


class BotProcess:
    """One ``cmbot serve`` subprocess plus what a test needs to talk to it.

    ``driver`` sends signed Slack requests to it, ``fake`` is the Web API it calls,
    ``db_path`` its TinyDB file. ``stop``/``kill9``/``restart`` exercise shutdown and
    persistence; logs of every run go to ``log_dir``.

    Unless given a ``port``, each run binds a port of the system's choosing (``{port}`` is 0
    in its command) and ``port`` is the one it logs it listens on (`LISTENING`): a port
    chosen here and handed to the process could be taken by another test process before the
    bot binds it, and the bot's health check would then be answered by whoever took it.
    """

    in_process = False  # `FakeSlack.settle` cannot ask it whether it is idle: it waits

    def __init__(
        self,
        *,
        fake: FakeSlack,
        env: dict[str, str],
        db_path: Path,
        log_dir: Path,
        port: int = 0,
        command: Sequence[str] = DEFAULT_COMMAND,
        name: str = "cmbot",
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.fake = fake
        self.env = env
        self.db_path = db_path
        self.given_port = port  # 0: each run's own, known once it logs it (`wait_healthy`)
        self.port = port
        self.log_dir = log_dir
        self.command = list(command)
        self.name = name
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        self.runs = 0
        self.log_files: list[tuple[Path, Path]] = []
        self.driver = BotDriver(self.url, env["SLACK_SIGNING_SECRET"], fake.url)
        fake.bots.append(self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.log_files[-1][0]

    @property
    def stderr_path(self) -> Path:
        return self.log_files[-1][1]

    def argv(self) -> list[str]:
        return [arg.replace("{port}", str(self.given_port)) for arg in self.command]

    def start(self, wait: bool = True) -> BotProcess:
        """Spawn the process and (by default) block until ``/healthz`` answers 200."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        executable = Path(self.command[0])
        if executable.is_absolute() and not executable.exists():
            pytest.fail(
                f"{executable} not found; install the package into this venv (pip install -e .)",
                pytrace=False,
            )
        self.runs += 1
        self.port = self.given_port
        self.driver.base_url = self.url
        stem = self.log_dir / f"{self.name}-run{self.runs}"
        out_path, err_path = stem.with_suffix(".stdout.log"), stem.with_suffix(".stderr.log")
        self.log_files.append((out_path, err_path))
        with out_path.open("wb") as out, err_path.open("wb") as err:
            argv = self.argv()
            if argv[0] == str(CMBOT_EXE):  # `cmbot serve`, forked as the CLI tests run commands
                self.proc = spawn(argv[1:], env=self.env, stdout=out.fileno(), stderr=err.fileno())
            else:
                self.proc = subprocess.Popen(
                    argv, env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
                )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Wait for the port the run logs it listens on, then poll ``/healthz``; fail the test
        with the bot's stderr if it dies or hangs."""
        assert self.proc is not None
        deadline = time.monotonic() + (self.startup_timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                pytest.fail(
                    f"{self.name} exited with {code} during startup:\n{self.logs()}",
                    pytrace=False,
                )
            if not self.port and not self.read_port():
                time.sleep(0.02)
                continue
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.kill9()
        pytest.fail(
            f"{self.name} did not answer GET /healthz within the timeout:\n{self.logs()}",
            pytrace=False,
        )

    def read_port(self) -> bool:
        """Whether this run has said where it listens (`LISTENING`); its port is then taken for
        `url` and `driver`."""
        found = LISTENING.search(_tail(self.stderr_path, limit=1 << 30))
        if found:
            self.port = int(found.group(1))
            self.driver.base_url = self.url
        return found is not None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM and wait (graceful shutdown); SIGKILL if it won't exit. Returns the code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def kill9(self) -> int | None:
        """SIGKILL, no chance to flush or clean up — for crash-safety tests."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.proc.returncode

    def restart(self, new_port: bool = False, wait: bool = True) -> BotProcess:
        """Stop (if running) and start again on the same database: on a port of its own (see
        the class), or on the port given unless `new_port`. ``driver`` is updated in place, so
        references to it stay valid.
        """
        self.stop()
        if new_port:
            self.given_port = 0
        return self.start(wait=wait)

    def wait_for_log(self, fragment: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the current run logs a line holding `fragment` (its stderr, read every
        20 ms): the one sign a process gives that it has done something that calls nobody."""
        deadline = time.monotonic() + timeout
        while fragment not in _tail(self.stderr_path, limit=1 << 30):
            if (time.monotonic() > deadline or not self.running) and \
                    fragment not in _tail(self.stderr_path, limit=1 << 30):
                pytest.fail(f"{self.name} never logged {fragment!r}:\n{self.logs()}", pytrace=False)
            time.sleep(0.02)

    def logs(self) -> str:
        """stdout and stderr of every run so far, labelled, for failure messages."""
        parts = []
        for run, (out_path, err_path) in enumerate(self.log_files, start=1):
            for label, path in (("stdout", out_path), ("stderr", err_path)):
                text = _tail(path)
                if text.strip():
                    parts.append(f"--- {self.name} run {run} {label} ({path}) ---\n{text}")
        return "\n".join(parts) or f"({self.name} wrote nothing)"


def bot_environment(
    fake: FakeSlack, db_path: Path, extra: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The bot's environment: ours, minus Socket Mode, pointed at the fake.

    ``extra`` values of ``None`` remove a variable.
    """
    env = dict(os.environ)
    env.pop("SLACK_APP_TOKEN", None)
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.url,
        CMBOT_DB=str(db_path),
        CMBOT_LANG="en",
        PYTHONUNBUFFERED="1",
    )
    return with_(env, **(extra or {}))


@pytest.fixture
def fake_slack(request: pytest.FixtureRequest) -> Iterator[FakeSlack]:
    """A running :class:`FakeSlack`; fails the test if the fake itself hit an error."""
    with FakeSlack() as fake:
        request.node.stash.setdefault(_FAKES, []).append(fake)
        yield fake
        assert not fake.errors, f"FakeSlack raised while answering: {fake.errors!r}"


@pytest.fixture
def bot_env(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """Extra env for ``bot``/``start_bot``.

    Override this fixture in a module, or parametrize it:
    ``@pytest.mark.parametrize("bot_env", [{"CMBOT_LANG": "de"}], indirect=True)``.
    """
    return dict(getattr(request, "param", {}))


StartBot = Callable[..., Any]


@pytest.fixture
def start_bot(
    request: pytest.FixtureRequest,
    fake_slack: FakeSlack,
    tmp_path: Path,
    bot_env: dict[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StartBot]:
    """Factory: ``start_bot(CMBOT_LANG="de", db_path=..., process=True, command=[...])``.

    Keyword arguments in UPPER case become environment variables (``None`` removes
    one). The bot runs in this process (:class:`BotThread`) unless ``process=True`` or a
    ``command`` is given: then ``cmbot serve`` runs in a subprocess (:class:`BotProcess`),
    ``command`` replacing its argv (``{port}`` becomes 0: the command binds a port of the
    system's choosing and logs it as `LISTENING` matches) and ``wait=False`` returning before
    the health check. Every bot is stopped at teardown.
    """
    started: list[BotProcess | BotThread] = []
    request.node.stash.setdefault(_BOTS, [])

    def factory(
        *,
        process: bool = False,
        db_path: Path | None = None,
        command: Sequence[str] | None = None,
        wait: bool = True,
        startup_timeout: float = STARTUP_TIMEOUT,
        fake: FakeSlack | None = None,
        **env: str | None,
    ) -> Any:
        index = len(started) + 1
        suffix = "" if index == 1 else f"-{index}"
        db = db_path or tmp_path / f"cmbot{suffix}.json"
        target = fake or fake_slack
        environment = bot_environment(target, db, {**bot_env, **env})
        bot: BotProcess | BotThread
        if process or command:
            bot = BotProcess(
                fake=target,
                env=environment,
                db_path=db,
                log_dir=tmp_path,
                command=command or DEFAULT_COMMAND,
                name=f"cmbot{suffix}",
                startup_timeout=startup_timeout,
            )
        else:
            bot = BotThread(fake=target, env=environment, db_path=db, log_dir=tmp_path,
                            monkeypatch=monkeypatch, name=f"cmbot{suffix}")
        started.append(bot)
        request.node.stash[_BOTS].append(bot)
        return bot.start(wait=wait)

    yield factory
    for bot in started:
        bot.stop()


@pytest.fixture
def bot(request: pytest.FixtureRequest, start_bot: StartBot) -> BotThread | BotProcess:
    """A healthy bot talking to ``fake_slack``, with ``bot_env`` applied: in this process, or a
    ``cmbot serve --http`` subprocess for a test marked ``serve_process`` (``kill9``, the
    process's output, limits set on it)."""
    return start_bot(process=request.node.get_closest_marker("serve_process") is not None)


MakeDoor = Callable[..., ListenerDriver]


@pytest.fixture(scope="session")
def shipped_desk() -> Desk:
    """The shipped flows, loaded and checked once per test process; each door gets its own
    storage under them (`Desk.over`)."""
    return Desk(MemoryStore())


@pytest.fixture
def make_door(tmp_path: Path, shipped_desk: Desk) -> Iterator[MakeDoor]:
    """Factory: the Slack door in this process (`ListenerDriver`), on the memory engine, or on
    real TinyDB files with `engine="tinydb"`; `flows_dir` replaces the shipped flows."""
    stores: list[Any] = []

    def factory(engine: str = "memory", flows_dir: Path | None = None) -> ListenerDriver:
        db_path = tmp_path / f"cmbot-{len(stores)}.json"
        store = MemoryStore() if engine == "memory" else Store(db_path)
        stores.append(store)
        desk = Desk(store, flows_dir) if flows_dir else shipped_desk.over(store)
        driver = ListenerDriver(desk, RecordingClient(store))
        driver.db_path = db_path if engine == "tinydb" else None
        return driver

    yield factory
    for store in stores:
        store.close()


@pytest.fixture
def door(make_door: MakeDoor) -> ListenerDriver:
    """The Slack door in this process on the memory engine: listeners called as Bolt calls
    them, Slack's Web API recorded (`door.client`); a step takes about a millisecond."""
    return make_door()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """Attach bot logs and the Web API call list to a failing test's report."""
    report = yield
    if report.failed:
        for fake in item.stash.get(_FAKES, []):
            report.sections.append(("fake slack calls", fake.describe() or "(none)"))
        for bot in item.stash.get(_BOTS, []):
            report.sections.append((f"{bot.name} output", bot.logs()))
    return report
