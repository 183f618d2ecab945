"""Compiled Python kept between test runs, outside the repository, when the environment says
not to write it (`PYTHONDONTWRITEBYTECODE`, set on machines that keep source trees clean).

Without compiled files every test process — each xdist worker — compiles cmbot, the tests (and
pytest rewrites their asserts) and the libraries they import from source again: about 3
CPU-seconds a worker before its first test. Imported first by `conftest`, this module turns
writing back on for the test processes, into one folder per user in the temporary directory
(`sys.pycache_prefix`), so the source tree stays clean and later runs load what earlier ones
compiled. Python checks each compiled file against its source's size and time, so an edit is
never served stale; writes are atomic renames, so workers compiling side by side do not clash.

Only the test processes write there, never the `cmbot` processes they start (the environment
they inherit is left as it is): some of those run with a file size limit, to play a full disk,
and a compiled file cut short at that limit would break every later run that loads it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def keep_compiled_files() -> None:
    if not sys.dont_write_bytecode or sys.pycache_prefix:
        return  # bytecode is written already, next to the sources or where the user said
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(Path(tempfile.gettempdir()) / f"cmbot-tests-pycache-{os.getuid()}")


keep_compiled_files()
