"""Writing a file the user named with `--output`, the same way for every command.

Like `uv export -o` or `git format-patch -o`, a missing folder is created; a folder given where
a file is expected, or a place that cannot be written, is one clear line (`OutputError`), never
a traceback. The text goes to a temporary file beside the target and is swapped in when
complete, so a half-written export never passes for a whole one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .i18n import t


class OutputError(ValueError):
    """An `--output` path that cannot be written; the message says why and what to do."""


def _check(path: Path, lang: str, suggested_name: str) -> None:
    if path.is_dir():
        raise OutputError(t("cli.output_is_folder", lang, path=str(path).rstrip("/"),
                            name=suggested_name))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(t("cli.output_unwritable", lang, path=path,
                            reason=exc.strerror or exc)) from exc


@contextlib.contextmanager
def written_atomically(path: Path, lang: str, suggested_name: str) -> Iterator[TextIO]:
    """A handle whose text becomes `path` once the block ends without an exception
    (`suggested_name` is offered when `path` is a folder)."""
    _check(path, lang, suggested_name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(t("cli.output_unwritable", lang, path=path,
                            reason=exc.strerror or exc)) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str, lang: str, suggested_name: str) -> None:
    with written_atomically(path, lang, suggested_name) as handle:
        handle.write(text)
