"""Keys of work already done (Slack event ids, start requests), shared by every replica.

The same three steps as the TinyDB engine's log: `claim` a key before its work (a second
delivery meanwhile, to any replica, is dropped), then `done` once the work is over, or `release`
after a failure so Slack's retry does the work. A claim is a row (the key is the primary key,
so two replicas cannot both insert it); a claim older than `STALE` is taken over, since the
replica that made it died before finishing. Done keys older than `KEEP` are pruned now and then:
Slack stops retrying within minutes.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

STALE = "5 minutes"
KEEP = "1 day"
PRUNE_EVERY = 1000

CLAIM = f"""INSERT INTO seen_events (key) VALUES (%s)
            ON CONFLICT (key) DO UPDATE SET claimed_at = now()
            WHERE NOT seen_events.done AND seen_events.claimed_at < now() - interval '{STALE}'
            RETURNING key"""


class PostgresSeen:
    def __init__(self, pool: ConnectionPool):
        self.pool = pool
        self._marked = 0

    def claim(self, key: str) -> bool:
        """True when `key` is neither done nor being done by a live replica."""
        with self.pool.connection() as conn:
            return conn.execute(CLAIM, (key.replace("\x00", ""),)).fetchone() is not None

    def release(self, key: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM seen_events WHERE key = %s AND NOT done", (key.replace("\x00", ""),))

    def done(self, key: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO seen_events (key, done) VALUES (%s, true) ON CONFLICT (key) "
                         "DO UPDATE SET done = true, claimed_at = now()", (key.replace("\x00", ""),))
            self._marked += 1
            if self._marked % PRUNE_EVERY == 0:
                conn.execute(f"DELETE FROM seen_events WHERE done AND claimed_at < now() - interval '{KEEP}'")
