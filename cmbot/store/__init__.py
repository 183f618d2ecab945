"""TinyDB persistence: crash-safe files, sessions apart from the sharded archive of consultations."""

from .archive import archive_path, legacy_archive_path
from .atomic import AtomicJSONStorage, CorruptDatabase
from .lock import DatabaseBusy
from .store import Store, default_db_path

__all__ = ["AtomicJSONStorage", "CorruptDatabase", "DatabaseBusy", "Store", "archive_path",
           "default_db_path", "legacy_archive_path"]
