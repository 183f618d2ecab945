"""Fixtures shared by every test folder: the installed `cmbot` (CLI and terminal tests) and a
real PostgreSQL server started by the test run; and how thorough the run is.

Hypothesis profiles: the default run tries `EXAMPLES` examples per property, enough to meet
every branch of the answer space in a few seconds; `--hypothesis-profile=thorough` tries
`THOROUGH_EXAMPLES` (and the kill -9 test runs its full count of rounds) — run it before a
release or after touching the advisor's rules.

`pg_server` is one throw-away cluster for the whole run, shared by its xdist workers (see
`pgserver`): started in the background as soon as a test process has collected a test that
needs it, stopped when the run ends; `pg_url` gives each test an empty database of its own.
Without server binaries or the `postgres` extra, the tests that need them are skipped and
say why.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import bytecode  # noqa: F401  first: what is imported after it is compiled once, not per process
import pytest
from hypothesis import settings
from pgserver import Databases, Server, find_binaries, new_run_folder, shared_server, start_soon, stop_run

if TYPE_CHECKING:  # imported when a test asks for it: the main process of an xdist run runs no
    from clitools import Cli  # test, and importing every cmbot module there cost ~1 CPU-second

EXAMPLES = 50
THOROUGH_EXAMPLES = 400

settings.register_profile("default-run", max_examples=EXAMPLES, deadline=None)
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, deadline=None)
settings.load_profile("default-run")  # `--hypothesis-profile NAME` loads another after this


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The installed `cmbot`, its database in a fresh temporary folder."""
    from clitools import Cli

    return Cli(tmp_path)


PG_RUN = "CMBOT_TEST_PG_RUN"  # the folder of the run's server, made by the run's main process
_run_folder = pytest.StashKey[Path]()
_starter = pytest.StashKey[subprocess.Popen[bytes]]()


def pytest_configure(config: pytest.Config) -> None:
    """The run's main process (not an xdist worker: they inherit its environment) makes the
    folder of the run's PostgreSQL server; no server is started until a test asks for one."""
    if not hasattr(config, "workerinput"):
        config.stash[_run_folder] = new_run_folder()
        os.environ[PG_RUN] = str(config.stash[_run_folder])


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core. A third of the suite's time is spent waiting on real
    clocks (reminders and expiry, Slack's Retry-After, a PostgreSQL server's answers, killed
    processes), and a worker costs about 2 CPU-seconds: while one worker waits, another runs.
    Measured on 2 cores: 57–60 s with 2 workers, 49–56 s with 4."""
    return 2 * (os.cpu_count() or 1)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Once every worker is done: the run's server stopped and its folder deleted."""
    if _starter in config.stash:
        config.stash[_starter].wait()
    if _run_folder in config.stash:
        stop_run(config.stash[_run_folder])


@pytest.fixture(scope="session")
def pg_server() -> Server:
    folder, why = find_binaries()
    if folder is None:
        pytest.skip(why)
    return shared_server(Path(os.environ[PG_RUN]))


@pytest.fixture(scope="session")
def pg_databases(pg_server: Server) -> Iterator[Databases]:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed "
                        "(pip install '.[test]' brings it)")
    databases = Databases(pg_server, f"cmbot_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    yield databases
    databases.close()


@pytest.fixture
def pg_url(pg_databases: Databases) -> str:
    """An empty database on the test server, named for this test alone."""
    return pg_databases.take()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `thorough` (further variants of long end-to-end checks) are skipped, saying
    so, unless the run is `--hypothesis-profile=thorough`."""
    if config.getoption("hypothesis_profile", None) == "thorough":
        return
    skip = pytest.mark.skip(reason="a further variant of a long check: --hypothesis-profile=thorough")
    for item in items:
        if item.get_closest_marker("thorough"):
            item.add_marker(skip)


@pytest.fixture
def thorough(request: pytest.FixtureRequest) -> bool:
    """True under `--hypothesis-profile=thorough`: the long end-to-end checks (kills at random
    moments) then run their full count of rounds too."""
    return request.config.getoption("hypothesis_profile", None) == "thorough"


@pytest.fixture(autouse=True)
def engine_under_test(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`CMBOT_TEST_ENGINE=postgresql python -m pytest` runs every `cmbot` the tests start (the
    Slack bot, the commands) on a fresh PostgreSQL database instead of the TinyDB files."""
    if os.environ.get("CMBOT_TEST_ENGINE") == "postgresql":
        monkeypatch.setenv("CMBOT_DATABASE_URL", request.getfixturevalue("pg_url"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once this process has collected its tests: the run's PostgreSQL server started in the
    background if any of them needs it (`start_soon`), and everything imported so far (cmbot,
    the libraries, the tests), which lives as long as the test process, moved out of the
    garbage collector's sight (`gc.freeze`, as the forked `cmbot` children do with what they
    inherit): the full collections of the run, and pytest's own at its end, no longer walk it."""
    if PG_RUN in os.environ and (os.environ.get("CMBOT_TEST_ENGINE") == "postgresql" or any(
            "pg_server" in item.fixturenames for item in session.items)):
        starter = start_soon(Path(os.environ[PG_RUN]))
        if starter is not None:
            session.config.stash[_starter] = starter
    gc.freeze()
