"""The `Session`: one person's (or one team's) interview in progress, as plain data.

It holds no machine and no front-door objects, so it serialises to JSON after every step and
comes back exactly as it was, in this process or after a restart.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .where import Where

DONE, CANCELLED = "done", "cancelled"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    """Ids people can still type (`/cmbot show 3f9a1c2e07b4`), drawn from 2^48 values: at a
    million consultations the odds that a new id was ever drawn before are 1 in 280 million,
    and the service still checks every new id against the database (`Desk.start`)."""
    return secrets.token_hex(6)


@dataclass
class Answer:
    value: Any
    by: str
    at: str


@dataclass
class Session:
    flow_id: str
    flow_version: int
    state: str
    lang: str = "en"
    id: str = field(default_factory=new_id)
    started_by: str = "local"
    where: Where = field(default_factory=Where)  # the front door's place
    team: bool = False  # any member may answer (channel interviews started with `start team`)
    answers: dict[str, Answer] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)  # answered states, for `back`
    editing: bool = False  # came from the confirm step: return there once the edit is done
    parent_id: str | None = None  # the consultation this one re-runs, if any
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    meta: dict[str, Any] = field(default_factory=dict)  # opaque to the core (message ts, …)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, CANCELLED)

    def values(self) -> dict[str, Any]:
        """Answers as state id -> value, the shape conditions and the advisor read."""
        return {sid: a.value for sid, a in self.answers.items()}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["where"] = self.where.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        data = dict(data)
        data["answers"] = {k: Answer(**v) for k, v in data.get("answers", {}).items()}
        data["where"] = Where.from_dict(data.get("where"))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
