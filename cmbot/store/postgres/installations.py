"""Slack installations and OAuth states in the PostgreSQL database, with slack_sdk's own
SQLAlchemy stores (the tables `slack_installations`, `slack_bots`, `slack_oauth_states`).

slack_sdk ships these stores, tested by Slack against Bolt's interfaces (token rotation fields
included); cmbot only gives them an engine on its database (SQLAlchemy on psycopg 3) and creates
their tables at open, under the migration lock so replicas starting together create them once.
"""

from __future__ import annotations

import psycopg

from .schema import MIGRATION_LOCK

INSTALLATION_TABLES = ("slack_installations", "slack_bots")


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy, through psycopg 3."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def stores(url: str, client_id: str, state_expiration: int) -> tuple[object, object]:
    """slack_sdk's installation and OAuth state stores on this database, tables created."""
    import sqlalchemy
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    engine = sqlalchemy.create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=2)
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=state_expiration, engine=engine)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        installations.metadata.create_all(conn)
        states.metadata.create_all(conn)
    return installations, states


def delete_installation_rows(conn: psycopg.Connection, workspace: str) -> int:
    """A workspace's installation and bot rows (its tokens), inside the caller's transaction;
    nothing when the app never ran with OAuth (no such tables)."""
    removed = 0
    for table in INSTALLATION_TABLES:
        row = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if row and row[0] is not None:
            removed += conn.execute(
                f"DELETE FROM {table} WHERE team_id = %s OR (enterprise_id = %s AND is_enterprise_install)",
                (workspace, workspace)).rowcount
    return removed
