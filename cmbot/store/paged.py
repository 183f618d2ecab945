"""A listing that fetches only the page a caller slices: the shape every engine's
`consultations_for` returns.

An engine says how many items there are and how to fetch a run of them (`_take`); indexing,
negative indexes, slices with a step and comparison with a list come from here once, so the
TinyDB index merge and PostgreSQL's `LIMIT … OFFSET` behave alike to the front doors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from .protocol import Record


class Paged(Sequence[Record]):
    """Summaries newest first, `count` of them; `_take(start, stop)` fetches a run."""

    def __init__(self, count: int):
        self._count = count

    def _take(self, start: int, stop: int) -> list[Record]:
        """Items `start` to `stop` (0 <= start <= stop <= count), fetched now."""
        raise NotImplementedError

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step == 1:
                return self._take(start, max(start, stop))
            wanted = range(start, stop, step)
            if not wanted:
                return []
            low, high = min(wanted), max(wanted)
            run = self._take(low, high + 1)
            return [run[i - low] for i in wanted]
        if index < 0:
            index += self._count
        found = self._take(index, index + 1) if 0 <= index < self._count else []
        if not found:
            raise IndexError(index)
        return found[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]
