"""The PostgreSQL schema, created and upgraded by the program itself (no SQL for the operator).

`MIGRATIONS[n]` takes the schema from version n to n + 1. At open, the versions not applied yet
are applied in order, each in its own transaction together with its number in
`cmbot_schema`, under a transaction-level advisory lock: replicas starting together upgrade
once, one after the other, and a failed migration leaves the previous version whole.

Text the program sorts on is stored with the "C" collation, so every server sorts listings
exactly as Python does, whatever its locale. Whole records are kept as JSON text: Slack text
may carry characters (U+0000) that `jsonb` refuses, and only the indexed columns are queried.
"""

from __future__ import annotations

import psycopg

MIGRATION_LOCK = 0x636D626F74  # "cmbot": the advisory lock key taken while upgrading

MIGRATIONS: list[tuple[str, ...]] = [
    (  # 1: sessions in progress, consultations, preferences, Slack events already handled
        """CREATE TABLE sessions (
               id text COLLATE "C" PRIMARY KEY,
               started_by text,
               channel text,
               thread_ts text,
               kind text,
               updated_at text COLLATE "C" NOT NULL DEFAULT '',
               saved_at timestamptz NOT NULL DEFAULT now(),
               data text NOT NULL)""",
        "CREATE INDEX sessions_by_user ON sessions (started_by)",
        "CREATE INDEX sessions_by_place ON sessions (channel, thread_ts)",
        """CREATE TABLE consultations (
               id text COLLATE "C" PRIMARY KEY,
               finished_at text COLLATE "C" NOT NULL DEFAULT '',
               flow_id text,
               lang text,
               started_by text,
               kind text,
               channel text,
               place text NOT NULL DEFAULT '{}',
               placement text,
               parent_id text,
               data text NOT NULL)""",
        "CREATE INDEX consultations_newest ON consultations (finished_at DESC, id DESC)",
        "CREATE INDEX consultations_by_user ON consultations (started_by, finished_at DESC, id DESC)",
        """CREATE INDEX consultations_by_channel ON consultations (channel, finished_at DESC, id DESC)
               WHERE kind = 'channel'""",
        """CREATE TABLE prefs (
               user_id text NOT NULL,
               key text NOT NULL,
               value text NOT NULL,
               PRIMARY KEY (user_id, key))""",
        """CREATE TABLE seen_events (
               key text PRIMARY KEY,
               done boolean NOT NULL DEFAULT false,
               claimed_at timestamptz NOT NULL DEFAULT now())""",
    ),
    (  # 2: sessions saved before what they show was shown (the Slack door shows them at start-up)
        "ALTER TABLE sessions ADD COLUMN pending boolean NOT NULL DEFAULT false",
        "CREATE INDEX sessions_pending ON sessions (id) WHERE pending",
    ),
    (  # 3: every session and consultation belongs to a workspace ('' the default: a single-token
       # bot, the terminal); lookups by person and place are within a workspace
        "ALTER TABLE sessions ADD COLUMN workspace text NOT NULL DEFAULT ''",
        "ALTER TABLE consultations ADD COLUMN workspace text NOT NULL DEFAULT ''",
        "DROP INDEX sessions_by_user",
        "DROP INDEX sessions_by_place",
        "CREATE INDEX sessions_by_user ON sessions (workspace, started_by)",
        "CREATE INDEX sessions_by_place ON sessions (workspace, channel, thread_ts)",
        "DROP INDEX consultations_by_user",
        "DROP INDEX consultations_by_channel",
        """CREATE INDEX consultations_by_user ON consultations
               (workspace, started_by, finished_at DESC, id DESC)""",
        """CREATE INDEX consultations_by_channel ON consultations
               (workspace, channel, finished_at DESC, id DESC) WHERE kind = 'channel'""",
        "CREATE INDEX consultations_by_workspace ON consultations (workspace)",
    ),
]

LATEST = len(MIGRATIONS)


def version(conn: psycopg.Connection) -> int:
    """The schema version of the database (0 for an empty one)."""
    conn.execute("CREATE TABLE IF NOT EXISTS cmbot_schema (version integer NOT NULL)")
    row = conn.execute("SELECT max(version) FROM cmbot_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer cmbot: this one must not write to it."""


def migrate(conn: psycopg.Connection) -> int:
    """Bring the schema to `LATEST`; returns the version found before. Needs autocommit off
    or on: each step is its own transaction."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = version(conn)
    if found > LATEST:
        raise SchemaTooNew(f"the database's schema is version {found}, newer than this cmbot's "
                           f"{LATEST}: upgrade cmbot")
    for number in range(found, LATEST):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if version(conn) > number:
                continue  # another replica applied it meanwhile
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute("INSERT INTO cmbot_schema (version) VALUES (%s)", (number + 1,))
    return found
