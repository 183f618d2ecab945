"""One consultation as a listing shows it — `cmbot history`, Slack's `/cmbot history`, the App
Home's recent consultations — typed, so that every front door reads attributes, not the keys of
a storage record.

Every storage engine lists consultations as small summary records (the listing fields of a
whole consultation, kept in its indexes so that a page of history never reads whole
consultations); the service turns each one it hands out into a `Summary`, page by page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from .interview import Where


@dataclass(frozen=True)
class Summary:
    id: str
    flow_id: str | None
    lang: str | None
    started_by: str | None  # None: a record written by another program that never said
    where: Where
    finished_at: str  # ISO 8601, "" when a record never said
    placement: str | None  # the recommended placement's id

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Summary:
        """A storage engine's summary record (or a whole consultation) as a listing row."""
        recommendation = record.get("recommendation") or {}
        return cls(id=record["id"], flow_id=record.get("flow_id"), lang=record.get("lang"),
                   started_by=record.get("started_by"), where=Where.from_dict(record.get("where")),
                   finished_at=record.get("finished_at") or "",
                   placement=recommendation.get("placement"))

    def to_dict(self) -> dict[str, Any]:
        """The row `cmbot history --json` prints, its keys named as in a report's JSON."""
        return {"consultation_id": self.id, "flow": self.flow_id, "lang": self.lang,
                "started_by": self.started_by, "where": self.where.to_dict(),
                "finished_at": self.finished_at, "placement": self.placement}


class Summaries(Sequence[Summary]):
    """A storage listing typed row by row as it is read: slicing a page of an engine's paged
    listing (`store/paged.py`) still reads, and types, only that page."""

    def __init__(self, records: Sequence[Mapping[str, Any]]):
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Summary]:
        return map(Summary.from_record, self._records)

    @overload
    def __getitem__(self, index: int) -> Summary: ...
    @overload
    def __getitem__(self, index: slice) -> list[Summary]: ...

    def __getitem__(self, index: int | slice) -> Summary | list[Summary]:
        if isinstance(index, slice):
            return [Summary.from_record(r) for r in self._records[index]]
        return Summary.from_record(self._records[index])
