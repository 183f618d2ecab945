"""Fixtures shared by every test folder: the installed `cmbot` (CLI and terminal tests) and a
real PostgreSQL server started by the test run; and how thorough the run is.

Hypothesis profiles: the default run tries `EXAMPLES` examples per property, enough to meet
every branch of the answer space in a few seconds; `--hypothesis-profile=thorough` tries
`THOROUGH_EXAMPLES` (and the kill -9 test runs its full count of rounds) — run it before a
release or after touching the advisor's rules.

`pg_server` starts one throw-away cluster for the whole run (see `pgserver`) the first time a
test asks for it, and stops it at the end; `pg_url` gives each test a database of its own.
Without server binaries or the `postgres` extra, the tests that need them are skipped and
say why.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from clitools import Cli
from pgserver import Server, find_binaries, start_server

_databases = itertools.count(1)
EXAMPLES = 50
THOROUGH_EXAMPLES = 400

settings.register_profile("default-run", max_examples=EXAMPLES, deadline=None)
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, deadline=None)
settings.load_profile("default-run")  # `--hypothesis-profile NAME` loads another after this


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The installed `cmbot`, its database in a fresh temporary folder."""
    return Cli(tmp_path)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    folder, why = find_binaries()
    if folder is None:
        pytest.skip(why)
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """A new, empty database on the test server."""
    psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed "
                                  "(pip install '.[test]' brings it)")
    name = f"cmbot_test_{next(_databases)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.url_for(name)


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
