"""Read a TinyDB file document by document, without loading it whole.

A TinyDB file is one JSON object `{table: {doc_id: document}}`. At 100 000 consultations that is
~240 MB of text and well over a gigabyte once parsed, so `cmbot db export` and `cmbot db check`
walk the two outer levels by hand and let the C decoder parse one document at a time: memory
stays that of a single document whatever the size of the archive. Any defect is reported as
`CorruptDatabase` with the character where reading stopped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from .errors import CorruptDatabase

CHUNK = 1 << 20
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_NEAR_END = 16  # a value cut by the buffer's end fails within a few characters of it ("tru", "-")


class _Cursor:
    def __init__(self, handle: TextIO, path: Path, chunk: int):
        self.handle, self.path, self.chunk = handle, path, chunk
        self.buf, self.pos, self.base = "", 0, 0  # base: file offset of buf[0]

    def corrupt(self, what: str, at: int | None = None) -> CorruptDatabase:
        offset = self.base + (self.pos if at is None else at)
        return CorruptDatabase(self.path, f"{what} at character {offset}")

    def more(self) -> bool:
        try:
            chunk = self.handle.read(self.chunk)
        except UnicodeDecodeError as exc:
            raise CorruptDatabase(self.path, "not UTF-8 text") from exc
        if not chunk:
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space, '' at the end of the file."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise self.corrupt("not a TinyDB document" if char else "the file ends too early")
        self.pos += 1
        return char

    def value(self, opener: str) -> Any:
        """A string or an object: both close themselves, so one cut short fails and we read on."""
        self.take(opener)
        self.pos -= 1  # the decoder reads the value from its opening character
        while True:
            try:
                value, self.pos = _DECODER.raw_decode(self.buf, self.pos)
                return value
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - _NEAR_END or exc.msg.startswith("Unterminated")
                if not cut:
                    raise self.corrupt("not valid JSON", exc.pos) from exc
                if not self.more():
                    raise self.corrupt("the file ends too early", len(self.buf)) from exc


def iter_documents(path: Path, chunk: int = CHUNK) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield `(table, doc_id, document)` in file order; nothing when the file does not exist."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorruptDatabase(path, exc.strerror or str(exc)) from exc
    with handle:
        cursor = _Cursor(handle, path, chunk)
        if not cursor.peek():
            raise CorruptDatabase(path, "the file is empty")
        cursor.take("{")
        if cursor.peek() == "}":
            cursor.pos += 1
        else:
            while True:
                table = cursor.value('"')
                cursor.take(":")
                cursor.take("{")
                if cursor.peek() == "}":
                    cursor.pos += 1
                else:
                    while True:
                        doc_id = cursor.value('"')
                        cursor.take(":")
                        yield table, doc_id, cursor.value("{")
                        if cursor.take(",}") == "}":
                            break
                if cursor.take(",}") == "}":
                    break
        if cursor.peek():
            raise cursor.corrupt("extra data after the end")


def count_documents(path: Path) -> int:
    """Read the whole file (memory of one document at a time) and count its documents."""
    return sum(1 for _ in iter_documents(path))
