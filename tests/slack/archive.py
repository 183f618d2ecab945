"""What a test bot has archived, read through the store (the archive is a folder of shards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmbot.store import Store, archive_path


def saved_consultations(db_path: Path) -> dict[str, dict[str, Any]]:
    """Every archived consultation, whole, by id. Opens the store without its exclusive lock, so
    it reads beside a running bot."""
    store = Store(db_path)
    try:
        return {row["id"]: store.get_consultation(row["id"]) for row in store.consultations()}
    finally:
        store.close()


def anywhere_in_database(db_path: Path, text: str) -> list[Path]:
    """The database's files holding `text`: CMBOT_DB and every file of the archive's folder
    (shards, index, backups included) — not the bot's logs beside them."""
    files = [p for p in db_path.parent.glob(db_path.stem + "*") if p.is_file()]
    files += [p for p in archive_path(db_path).rglob("*") if p.is_file()]
    return [p for p in files if text in p.read_text(encoding="utf-8", errors="replace")]
