"""Run the `cmbot` command as a person does — its arguments, environment, working folder and
stdin in; its exit code, stdout and stderr out — in a child process of the tests.

A new Python interpreter spends most of a second importing cmbot and its libraries before cmbot
runs, and the CLI tests start hundreds of commands. So by default the child is forked from the
test process (`os.fork`), where cmbot and the libraries its commands use are already imported,
and runs `cmbot.cli:main` (what the installed `cmbot` script calls) with its own arguments,
environment, folder and pipes, logging and warnings as a new interpreter has them, and exits
with cmbot's exit code. `cmbot.cli` itself is imported afresh in the child: its console reads
the terminal's settings (`COLUMNS`, `NO_COLOR`) when it is created; cmbot's other modules keep
no state of their own but caches of the files cmbot ships. It is a real process: files, locks,
resource limits and signals are its own, and nothing it does reaches the test process.

`installed=True` runs the installed `cmbot` script in a new interpreter instead, for what only
that shows (the script and every command importing in a fresh interpreter, a terminal, a
long-running server).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import locale
import logging
import os
import pkgutil
import runpy
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from changes import with_

CMBOT = Path(sys.executable).parent / "cmbot"
# Compiled cmbot modules, shared by the children of this test process (they are compiled once,
# not once a command when PYTHONDONTWRITEBYTECODE is set); removed when the tests end.
BYTECODE = Path(tempfile.mkdtemp(prefix="cmbot-pyc-"))
atexit.register(shutil.rmtree, BYTECODE, ignore_errors=True)


# What cmbot's commands import only when they run: the terminal prompts, typer's parameter
# adapters and its help pages (drawn by rich, with Markdown), rich's tables, emoji names and
# character widths, the user's name.
IMPORTED_WHEN_RUN = ("questionary", "prompt_toolkit", "typer._adapters", "typer._click.decorators",
                     "typer._click._textwrap", "typer.rich_utils", "pydantic.plugin._loader",
                     "rich.table", "rich.panel", "rich.json", "rich.progress", "rich._emoji_codes",
                     "transitions.extensions", "getpass", "pwd", "shlex")
# Modules that read the environment when imported: imported afresh in each child.
READ_AT_IMPORT = ("cmbot.cli",)


def _import_cmbot() -> None:
    """Every cmbot module and what its commands import when they run, imported once here, and
    the shipped files they read once and keep, read once here: each child starts with them."""
    import cmbot

    for module in pkgutil.walk_packages(cmbot.__path__, "cmbot."):
        importlib.import_module(module.name)
    for name in IMPORTED_WHEN_RUN:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # What cmbot's commands read when they run and keep once read: the built-in flows, the
    # message catalogues and the CLDR data babel formats lists, numbers and dates with.
    from rich._unicode_data import load as load_cell_widths

    from cmbot.i18n import LANGUAGES, join, long_date, number
    from cmbot.interview import load_flows

    load_flows()
    load_cell_widths()  # the table for this environment's UNICODE_VERSION, as a child reads it
    for lang in LANGUAGES:
        join(["a", "b", "c"], lang), number(1000, lang), long_date("2026-12-01T00:00:00", lang)


_import_cmbot()


def environment(db: Path | None = None, **extra: str | None) -> dict[str, str]:
    """This environment minus any CMBOT_/SLACK_ setting, with the test defaults — the database
    `db`, English, wide plain output, UTF-8 — and `extra` (None removes a variable)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CMBOT_", "SLACK_", "LC_", "LANG"))}
    env.update(CMBOT_LANG="en", COLUMNS="250", NO_COLOR="1", PYTHONIOENCODING="utf-8")
    if db is not None:
        env["CMBOT_DB"] = str(db)
    return with_(env, **extra)


def run(args: Sequence[str | Path], *, env: Mapping[str, str], cwd: Path, stdin: str = "",
        timeout: float = 60, installed: bool = False,
        preexec: Callable[[], object] | None = None) -> subprocess.CompletedProcess[str]:
    """`cmbot ARGS`, like `subprocess.run(..., capture_output=True, text=True)`; `preexec` runs
    in the child before cmbot does, as `subprocess.run`'s `preexec_fn` (limits set on it)."""
    argv = [str(CMBOT), *map(str, args)]
    if installed:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, env=dict(env),
                              cwd=cwd, timeout=timeout, preexec_fn=preexec)
    main = _cmbot_main if preexec is None else lambda: (preexec(), _cmbot_main())
    return _forked(argv, main, env, cwd, stdin, timeout)


def run_script(script: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python SCRIPT ARGS` in the script's folder, as a new interpreter runs it: the script as
    `__main__`, its folder first on `sys.path`, and none of the tests' own modules, folders or
    import hooks, so a script that imports a test helper without putting its folder on the path
    fails here as it fails for a person. Forked like `run`: the libraries are imported already."""
    argv = [str(script), *args]
    return _forked(argv, lambda: _script_main(script), os.environ, script.parent, "", timeout)


def _forked(argv: list[str], main: Callable[[], object], env: Mapping[str, str], cwd: Path,
            stdin: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`main()` in a forked child with `argv`, `env`, `cwd` and `stdin`; its output and code."""
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(argv, main, dict(env), cwd, (stdin_r, stdout_w, stderr_w))
    for fd in (stdin_r, stdout_w, stderr_w):
        os.close(fd)
    output = _exchange(stdin_w, stdin.encode(), (stdout_r, stderr_r), time.monotonic() + timeout)
    if output is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise subprocess.TimeoutExpired(argv, timeout)
    _, status = os.waitpid(pid, 0)
    return subprocess.CompletedProcess(argv, os.waitstatus_to_exitcode(status),
                                       _text(output[stdout_r]), _text(output[stderr_r]))


def _exchange(stdin: int, data: bytes, outputs: tuple[int, ...],
              deadline: float) -> dict[int, bytes] | None:
    """Write `data` to the child's stdin and read its outputs to their end, in this thread (as
    `subprocess.communicate` does); None if `deadline` comes first. Closes every descriptor."""
    read: dict[int, list[bytes]] = {fd: [] for fd in outputs}
    os.set_blocking(stdin, False)
    with selectors.DefaultSelector() as selector:
        selector.register(stdin, selectors.EVENT_WRITE)
        for fd in outputs:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                for fd in list(selector.get_map()):
                    os.close(fd)
                return None
            for key, _ in selector.select(left):
                if key.fd == stdin:
                    try:
                        data = data[os.write(stdin, data[:65536]):] if data else b""
                    except BrokenPipeError:  # the child left without reading it all
                        data = b""
                    done = not data
                else:
                    chunk = os.read(key.fd, 65536)
                    read[key.fd].append(chunk)
                    done = not chunk
                if done:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    return {fd: b"".join(chunks) for fd, chunks in read.items()}


class Forked:
    """A command forked like `run` that keeps running (`cmbot serve`): what tests use of a
    `subprocess.Popen` — its pid, `poll`, `wait`, `terminate`, `kill`, `returncode`."""

    def __init__(self, argv: list[str], pid: int) -> None:
        self.args, self.pid = argv, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def spawn(args: Sequence[str | Path], *, env: Mapping[str, str], cwd: Path | None = None,
          stdout: int, stderr: int) -> Forked:
    """`cmbot ARGS` forked as `run` does, left running, its output going to the file
    descriptors `stdout` and `stderr`, its stdin empty."""
    argv = [str(CMBOT), *map(str, args)]
    stdin = os.open(os.devnull, os.O_RDONLY)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(argv, _cmbot_main, dict(env), cwd or Path.cwd(),
               (stdin, os.dup(stdout), os.dup(stderr)))
    os.close(stdin)
    return Forked(argv, pid)


def _text(data: bytes) -> str:
    """Decoded as `subprocess.run(text=True)` does: the locale's encoding, universal newlines."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()


def _child(argv: list[str], main: Callable[[], object], env: dict[str, str], cwd: Path,
           ends: tuple[int, int, int]) -> NoReturn:
    """In the forked child: its pipes as stdin/stdout/stderr, its folder, then `main` (every
    other descriptor — the pipes' other ends, the originals of these — is closed by `run_main`)."""
    try:
        for target, fd in enumerate(ends):
            os.dup2(fd, target)
        os.chdir(cwd)
    except BaseException:
        os._exit(127)
    run_main(argv, env, main)


def _exit_code(exc: SystemExit) -> int:
    """The process exit code Python gives a `SystemExit` (a message is printed, code 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _fresh_interpreter_state(argv: list[str], env: dict[str, str]) -> None:
    """What a new interpreter starts with: its arguments, environment, standard streams and no
    other open file, warnings and logging as Python sets them up, and no module imported yet
    that reads them.
    The test process's objects are frozen out of the garbage collector: they are not the
    child's, and a collection walking them would copy the parent's whole heap into the child."""
    gc.freeze()
    # As `subprocess` does (close_fds): nothing of the test process stays open in the child —
    # not a running bot's listening socket, which would outlive the bot and keep its port.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    sys.argv = argv
    os.environ.clear()
    os.environ.update(env)
    encoding, _, errors = (env.get("PYTHONIOENCODING") or "utf-8").partition(":")
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                 encoding=encoding, errors=errors or "strict")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                                   encoding=encoding, errors=errors or "strict",
                                                   line_buffering=os.isatty(1),
                                                   write_through=bool(env.get("PYTHONUNBUFFERED")))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                                   encoding=encoding, errors="backslashreplace",
                                                   line_buffering=True)
    sys.dont_write_bytecode, sys.pycache_prefix = False, str(BYTECODE)
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    for name in READ_AT_IMPORT:
        sys.modules.pop(name, None)


def _cmbot_main() -> None:
    """What the installed `cmbot` script calls."""
    from cmbot.cli import main

    main()


def _script_main(script: Path) -> None:
    """`script` as `python SCRIPT` runs it (see `run_script`)."""
    tests = Path(__file__).parent
    sys.path[:] = [str(script.parent)] + [p for p in sys.path if p and not Path(p).is_relative_to(tests)]
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").is_relative_to(tests):
            del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_pytest")]
    runpy.run_path(str(script), run_name="__main__")


def run_main(argv: list[str], env: dict[str, str], main: Callable[[], object] = _cmbot_main) -> NoReturn:
    """In the forked child: run `main` (cmbot's entry point), flush, leave with its exit code."""
    code = 1
    try:
        _fresh_interpreter_state(argv, env)
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
