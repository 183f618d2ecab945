"""A throw-away PostgreSQL server for the tests, started and stopped by the test run itself.

The machine's own server binaries are used (`initdb`, `pg_ctl`, found through `CMBOT_PG_BIN`,
`pg_config --bindir`, PATH or Debian's `/usr/lib/postgresql/<version>/bin`): a cluster is
created in a temporary folder, listens only on a unix socket inside that folder (no port to
collide with another test run or a real server), trusts local connections, runs with
`fsync=off` (a test cluster is thrown away, so durability only costs time) and is stopped
and deleted at the end; a cluster whose test process died is stopped by the next run.

One server serves a whole run: `initdb` and the start cost about a CPU-second and two seconds
of waiting, once per process otherwise — once per xdist worker. The run's main process makes
the folder (`new_run_folder`, with its pid in `owner.pid`); the first process that needs the
server starts it there under a file lock (`shared_server`) — in the background, in a process of
its own, as soon as a test process has collected PostgreSQL tests (`start_soon`) — the others
find it running and connect; the main process stops it when the run ends (`stop_run`). Each
test still gets an empty database of its own (`Databases`: the previous test's, emptied and
renamed).

PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the
unprivileged `nobody` account (through `runuser`), and the folder is handed to it.
When no binaries can be found, `find_binaries` says why, and the tests that need a server
are skipped with that reason.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

UNPRIVILEGED = "nobody"
PREFIX = "cmbot-pg-"
OWNER = "owner.pid"  # the test process a cluster belongs to
READY = "ready"  # written once the server accepts connections
LOCK = "start.lock"  # held by the process starting the server
STARTING = "starting"  # made by the first process to ask for the server (`start_soon`)


def find_binaries() -> tuple[Path | None, str]:
    """The folder of `initdb` and `pg_ctl`, or None and why not."""
    candidates: list[Path] = []
    if os.environ.get("CMBOT_PG_BIN"):
        candidates.append(Path(os.environ["CMBOT_PG_BIN"]))
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)  # type: ignore[arg-type]
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        candidates += sorted((p / "bin" for p in debian.iterdir()), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder, ""
    return None, ("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: install the "
                  "postgresql package or set CMBOT_PG_BIN to their folder")


@dataclass
class Server:
    """A running test cluster; `url` connects to its `postgres` database."""

    bin: Path
    root: Path
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False,
                              env={**os.environ, "LC_ALL": "C"})

    def start(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        if self.as_user:
            shutil.chown(self.root, user=self.as_user)
            shutil.chown(self.socket_dir, user=self.as_user)
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                         "--encoding=UTF8", "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                         "-o", options, "-w", "-t", "60", "start")
        if done.returncode:
            log = (self.root / "server.log")
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else done.stderr
            raise RuntimeError(f"pg_ctl start failed: {detail.strip()}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


class Databases:
    """Empty databases on `server` for one test process, one at a time.

    `CREATE DATABASE` copies a template: about a fifth of a CPU-second of the server's time,
    which no test process sees but the machine pays — for the fifty PostgreSQL tests of a run,
    as much as all the test processes spend on them. So the database a test had is handed to
    the next test emptied instead: the sessions still on it ended (a killed bot's may linger),
    renamed (each test still gets a name, and so a URL, of its own), every schema dropped but
    the server's own, and `public` made again as a new database has it — tens of
    milliseconds. What cmbot keeps in PostgreSQL lives in schemas, so nothing of one test
    reaches the next."""

    def __init__(self, server: Server, prefix: str):
        import psycopg

        self.server, self.prefix, self.names = server, prefix, itertools.count(1)
        self.conn = psycopg.connect(server.url, autocommit=True)
        self.current: str | None = None

    def take(self) -> str:
        """The URL of a database holding nothing: the previous test's one emptied, or a new one."""
        name = f"{self.prefix}_{next(self.names)}"
        if self.current is None:
            self.conn.execute(f'CREATE DATABASE "{name}"')
        else:
            self.conn.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                              "WHERE datname = %s", (self.current,))
            self.conn.execute(f'ALTER DATABASE "{self.current}" RENAME TO "{name}"')
            _empty(self.server.url_for(name))
        self.current = name
        return self.server.url_for(name)

    def close(self) -> None:
        self.conn.close()


EMPTY = """
DO $$ DECLARE schema name; BEGIN
  FOR schema IN SELECT nspname FROM pg_namespace
                WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', schema);
  END LOOP;
END $$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'standard public schema';
"""  # `public` as PostgreSQL 15's template has it: its owner, its grants, its comment


def _empty(url: str) -> None:
    """Every schema of the database at `url` dropped, but the server's own; `public` made anew."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(EMPTY)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def reap_orphans(folder: Path, as_user: str | None) -> None:
    """Stop and delete the clusters of test runs that died without stopping theirs (a killed
    pytest cannot run its teardown, and `pg_ctl` servers outlive their parent)."""
    for owner in Path(tempfile.gettempdir()).glob(f"{PREFIX}*/{OWNER}"):
        with contextlib.suppress(OSError, ValueError):
            if _alive(int(owner.read_text())):
                continue
            Server(folder, owner.parent, as_user).stop()
            shutil.rmtree(owner.parent, ignore_errors=True)


def new_run_folder() -> Path:
    """A folder for a run's server, owned by this process (`reap_orphans` deletes it once this
    process is gone, if nobody else did); no server is started yet."""
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    (root / OWNER).write_text(str(os.getpid()))
    return root


def shared_server(root: Path) -> Server:
    """The server of the run whose folder is `root`: started by the first process to ask (the
    others wait on the lock meanwhile), then found running by the others."""
    folder, why = find_binaries()
    if folder is None:
        raise FileNotFoundError(why)
    server = Server(folder, root, UNPRIVILEGED if os.geteuid() == 0 else None)
    with FileLock(root / LOCK):
        if (root / READY).exists():
            return server
        reap_orphans(folder, server.as_user)
        try:
            server.start()
        except BaseException:
            server.stop()
            shutil.rmtree(server.data, ignore_errors=True)
            raise
        (root / READY).touch()
    return server


def start_soon(root: Path) -> subprocess.Popen[bytes] | None:
    """Start the server of the run whose folder is `root` in a process of its own, if no other
    process asked already: a test process that has collected PostgreSQL tests calls it, and
    runs its other tests meanwhile instead of waiting (about two seconds) at its first
    PostgreSQL test. Whoever needs the server still calls `shared_server`, which waits for
    that start (its lock) or, should it have failed, starts the server itself and says why not.
    The caller waits for the returned process before it ends."""
    if find_binaries()[0] is None:
        return None
    try:
        (root / STARTING).touch(exist_ok=False)
    except FileExistsError:
        return None
    return subprocess.Popen([sys.executable, __file__, str(root)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_run(root: Path) -> None:
    """Stop the run's server, if it was started, and delete its folder."""
    folder, _ = find_binaries()
    if folder is not None and (root / READY).exists():
        Server(folder, root, UNPRIVILEGED if os.geteuid() == 0 else None).stop()
    shutil.rmtree(root, ignore_errors=True)


def start_server() -> Server:
    """A server of its own, in a new temporary folder (the caller stops it and removes `root`)."""
    root = new_run_folder()
    try:
        return shared_server(root)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


if __name__ == "__main__":  # `start_soon`'s process
    shared_server(Path(sys.argv[1]))
