"""TinyDB persistence: crash-safe files, sessions apart from the archive of consultations."""

from .atomic import AtomicJSONStorage, CorruptDatabase
from .lock import DatabaseBusy
from .store import Store, archive_path, default_db_path

__all__ = ["AtomicJSONStorage", "CorruptDatabase", "DatabaseBusy", "Store", "archive_path",
           "default_db_path"]
