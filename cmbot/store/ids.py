"""One id, one interview: what tells a re-save of the same record from a different one.

Ids are short enough to type, so the storage never trusts them alone: a record saved under an
id the database already holds must be the same interview (same start time, same person) — a
retry, a re-save after a crash — or it is refused with `IdTaken` instead of replacing another
person's consultation or session.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..i18n import default_lang, t


class IdTaken(RuntimeError):
    """A record would replace a different one saved under the same id."""

    def __init__(self, db_path: Path, record_id: str):
        self.path, self.record_id = db_path, record_id
        super().__init__(t("db.id_taken", default_lang(), db=db_path, id=record_id))


def same_interview(stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two records with one id come from the same interview."""
    return (stored.get("created_at") == new.get("created_at")
            and stored.get("started_by") == new.get("started_by"))
