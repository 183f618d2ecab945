"""TinyDB persistence: crash-safe files, sessions apart from the archive of consultations."""

from .atomic import AtomicJSONStorage, CorruptDatabase
from .store import Store, archive_path, default_db_path

__all__ = ["AtomicJSONStorage", "CorruptDatabase", "Store", "archive_path", "default_db_path"]
