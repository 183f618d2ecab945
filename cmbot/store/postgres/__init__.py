"""PostgreSQL storage (the `postgres` extra: psycopg 3 and its pool)."""

from .engine import DatabaseUnavailable, PostgresStore
from .schema import LATEST, SchemaTooNew

__all__ = ["LATEST", "DatabaseUnavailable", "PostgresStore", "SchemaTooNew"]
