"""Fixtures shared by the CLI and terminal tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The installed `cmbot`, its database in a fresh temporary folder."""
    return Cli(tmp_path)
