"""Compiled Python written by the test processes even when the environment says not to write it
(`PYTHONDONTWRITEBYTECODE`, set on some machines).

Without compiled files every test process — each xdist worker — compiles the tests (and pytest
rewrites their asserts) and cmbot, when it runs from its source folder, again: CPU-seconds a
worker before its first test, on every run. Imported first by `conftest`, this module turns
writing back on for the test processes, next to the sources in the usual `__pycache__` folders
(which git ignores), so that later workers and later runs load them. It sets no
`sys.pycache_prefix`: a prefix would hide the compiled files pip wrote for every installed
library, and a fresh clone — what CI runs — would compile them all again (measured: 68 s instead
of 58 s for the suite's first run on 2 cores). Python checks each compiled file against its
source's size and time, so an edit is never served stale; writes are atomic renames, so workers
compiling side by side do not clash.

Only the test processes write them, never the `cmbot` processes they start (the environment they
inherit is left as it is): some of those run with a file size limit, to play a full disk, and a
compiled file cut short at that limit would break every later run that loads it.
"""

from __future__ import annotations

import sys


def keep_compiled_files() -> None:
    if sys.dont_write_bytecode and not sys.pycache_prefix:
        sys.dont_write_bytecode = False


keep_compiled_files()
