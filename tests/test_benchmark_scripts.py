"""The benchmarks are not part of the test run, so nothing else notices when one stops starting
(an import path or a helper changed under it). Each must at least load and explain itself, run as
`python SCRIPT --help` runs it (forked from this process, see `commandline.run_script`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from commandline import run_script

BENCHMARKS = sorted((Path(__file__).parent / "benchmarks").glob("*.py"))
SCRIPTS = [path for path in BENCHMARKS if path.name != "floorbot.py"]


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_each_benchmark_starts_and_prints_its_usage(script: Path):
    result = run_script(script, "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:")
