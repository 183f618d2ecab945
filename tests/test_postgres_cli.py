"""The installed `cmbot` on PostgreSQL: `CMBOT_DATABASE_URL` moves every command to the database
(no TinyDB file is written), and a database that cannot be used is one line, never a traceback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from begun import begun
from clitools import ARTICLE, Cli
from commandline import spawn

from cmbot.interview.where import Where
from cmbot.service import Desk
from cmbot.store.engines import open_storage


def test_a_consultation_saved_on_postgresql_is_listed_and_shown_there(cli: Cli, pg_url: str):
    on_pg = {"CMBOT_DATABASE_URL": pg_url}
    result = cli("chat", "--answers", str(cli.answers_file(ARTICLE)), "--json", **on_pg)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert not cli.db.exists()  # nothing went to the TinyDB files
    listed = cli("history", "--json", **on_pg)
    assert listed.returncode == 0, listed.stderr
    assert [row["consultation_id"] for row in json.loads(listed.stdout)] == [made["consultation_id"]]
    shown = cli("export", made["consultation_id"], "--format", "json", **on_pg)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["answers"] == ARTICLE
    assert cli.history() == []  # the TinyDB default knows nothing of it


def test_a_database_that_cannot_be_reached_is_one_line(cli: Cli, tmp_path: Path):
    url = f"postgresql://nobody@/cmbot?host={tmp_path}&connect_timeout=2"
    result = cli("history", CMBOT_DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.startswith("cannot open the PostgreSQL database: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_serve_names_a_bad_database_url_in_one_line(cli: Cli):
    result = cli("serve", "--http", "--port", "0", "--database-url", "mysql://db/cmbot",
                 SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret")
    assert result.returncode == 2
    assert result.stderr.strip() == ("unknown database URL scheme 'mysql': use postgresql://…, "
                                     "memory:// or a file path")


def consultation_lines(text: str) -> list[dict]:
    rows = [json.loads(line) for line in text.splitlines()[1:]]
    return sorted((r for r in rows if r["type"] == "consultation"), key=lambda r: r["id"])


def test_tinydb_to_postgresql_and_back_gives_the_same_consultations(cli: Cli, pg_url: str, tmp_path: Path):
    made = [cli.chat_json(ARTICLE)["consultation_id"],
            cli.chat_json({**ARTICLE, "org_size": "small", "dedicated_possible": "yes"})["consultation_id"]]
    first = cli("db", "export", "--sessions")
    assert first.returncode == 0, first.stderr
    dump = tmp_path / "from-tinydb.jsonl"
    dump.write_text(first.stdout, encoding="utf-8")

    on_pg = {"CMBOT_DATABASE_URL": pg_url}
    imported = cli("db", "import", str(dump), **on_pg)
    assert imported.returncode == 0, imported.stderr
    assert "2" in imported.stdout.splitlines()[0]  # consultations: 2 imported
    again = cli("db", "import", str(dump), **on_pg)  # known ids are skipped, nothing doubled
    assert again.returncode == 0, again.stderr
    from_pg = cli("db", "export", "--sessions", **on_pg)
    assert from_pg.returncode == 0, from_pg.stderr
    assert consultation_lines(from_pg.stdout) == consultation_lines(first.stdout)
    assert sorted(r["id"] for r in consultation_lines(from_pg.stdout)) == sorted(made)

    back = Cli(tmp_path / "back")
    back.dir.mkdir()
    pg_dump = tmp_path / "from-pg.jsonl"
    pg_dump.write_text(from_pg.stdout, encoding="utf-8")
    assert back("db", "import", str(pg_dump)).returncode == 0
    assert consultation_lines(back("db", "export").stdout) == consultation_lines(first.stdout)
    assert {r["consultation_id"] for r in back.history()} == set(made)


def test_db_check_reads_every_record_on_postgresql(cli: Cli, pg_url: str):
    on_pg = {"CMBOT_DATABASE_URL": pg_url}
    assert cli("chat", "--answers", str(cli.answers_file(ARTICLE)), **on_pg).returncode == 0
    result = cli("db", "check", **on_pg)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(" consultations: OK, 1 record.")
    assert lines[0].startswith("postgresql://")
    assert lines[1].endswith(" sessions: OK, 0 records.")
    assert lines[-1] == "Every record of the database is readable."
    french = cli("db", "check", CMBOT_LANG="fr", **on_pg)
    assert "consultations\u00a0: OK, 1 enregistrement." in french.stdout


# --- importing: clashes reported, every table or nothing -------------------------------------


@pytest.fixture(params=["tinydb", "postgresql"])
def engine_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The same import behaviour is expected of both engines."""
    return {"CMBOT_DATABASE_URL": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}


def in_progress(cli: Cli, env: dict[str, str], user: str) -> str:
    """An interview in progress saved in the database the environment names; its id."""
    store = open_storage(env.get("CMBOT_DATABASE_URL") or str(cli.db))
    try:
        return begun(Desk(store), lang="en", started_by=user, where=Where.dm("D1")).id
    finally:
        store.close()


def test_an_id_held_for_other_content_refuses_the_import_and_the_same_content_is_skipped(
        cli: Cli, engine_env: dict[str, str], tmp_path: Path):
    mine = cli.chat_json(ARTICLE, **engine_env)["consultation_id"]
    running = in_progress(cli, engine_env, "U1")
    exported = cli("db", "export", "--sessions", **engine_env)
    assert exported.returncode == 0, exported.stderr
    header, same, session = exported.stdout.splitlines()
    other = json.loads(same) | {"lang": "fr", "started_by": "U9"}  # someone else's, under my id
    new = json.loads(same) | {"id": "feedfeed0001"}
    other_session = json.loads(session) | {"started_by": "U9"}
    clashing = tmp_path / "clashing.jsonl"
    clashing.write_text("\n".join([header, json.dumps(new), json.dumps(other),
                                   json.dumps(other_session)]) + "\n", encoding="utf-8")

    refused = cli("db", "import", str(clashing), **engine_env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"{clashing}:3: id {mine} is already in the database for a different consultation (same id, "
        "other content): nothing is merged; give one of them a new id, or leave this line out",
        f"{clashing}:4: id {running} is already in the database for a different interview in "
        "progress (same id, other content): nothing is merged; leave this line out, or finish or "
        "delete that interview first",
        "Nothing was imported: fix the lines above, then import the file again."]
    assert [r["consultation_id"] for r in cli.history(**engine_env)] == [mine]  # nothing added

    clashing.write_text("\n".join([header, same, json.dumps(new), session]) + "\n", encoding="utf-8")
    done = cli("db", "import", str(clashing), **engine_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Consultations — imported: 1, already there (skipped): 1.",
        "Interviews in progress — imported: 0, already there (skipped): 1."]
    assert {r["consultation_id"] for r in cli.history(**engine_env)} == {mine, "feedfeed0001"}


def stopped_while_writing(cli: Cli, pg_url: str, tmp_path: Path, stop: str) -> tuple[str, str]:
    """Import an export (a consultation, then a session) into PostgreSQL while another
    connection holds the sessions table, so the import waits with its consultation written
    but not committed; then `stop` it: "kill" (SIGKILL the process) or "terminate" (the
    server ends its connection). The consultation's id and what the import said on stderr."""
    psycopg = pytest.importorskip("psycopg")
    made = cli.chat_json(ARTICLE)["consultation_id"]  # on TinyDB, exported from there
    in_progress(cli, {}, "U1")
    dump = tmp_path / "export.jsonl"
    assert cli("db", "export", "--sessions", "-o", str(dump)).returncode == 0
    open_storage(pg_url).close()  # the tables exist

    errors = tmp_path / "import.stderr"
    with psycopg.connect(pg_url) as blocker, errors.open("wb") as stderr, \
            open(os.devnull, "wb") as stdout:
        blocker.execute("LOCK TABLE sessions IN EXCLUSIVE MODE")  # reads pass, inserts wait
        importing = spawn(["db", "import", str(dump)], env=cli.env(CMBOT_DATABASE_URL=pg_url),
                          cwd=cli.dir, stdout=stdout.fileno(), stderr=stderr.fileno())
        try:
            with psycopg.connect(pg_url, autocommit=True) as watcher:
                waiting = None
                while waiting is None and importing.poll() is None:
                    time.sleep(0.005)
                    waiting = watcher.execute("SELECT pid FROM pg_locks WHERE NOT granted AND "
                                              "relation = 'sessions'::regclass").fetchone()
                assert waiting is not None, errors.read_text()
                assert watcher.execute("SELECT count(*) FROM consultations").fetchone() == (0,)
                if stop == "terminate":
                    watcher.execute("SELECT pg_terminate_backend(%s)", waiting)
                    importing.wait(timeout=60)
        finally:
            importing.kill()
            importing.wait()
    err = errors.read_text("utf-8")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM consultations").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    return made, err


def test_an_import_into_postgresql_killed_while_writing_leaves_nothing(cli: Cli, pg_url: str,
                                                                      tmp_path: Path):
    """The import writes consultations, then sessions, in one transaction: while its sessions
    wait, its consultations are not visible to anyone; killed with SIGKILL there, the server
    rolls everything back, and importing again brings it all."""
    made, _ = stopped_while_writing(cli, pg_url, tmp_path, "kill")
    on_pg = {"CMBOT_DATABASE_URL": pg_url}
    again = cli("db", "import", str(tmp_path / "export.jsonl"), **on_pg)
    assert again.returncode == 0, again.stderr
    assert [r["consultation_id"] for r in cli.history(**on_pg)] == [made]


def test_an_import_whose_connection_the_server_ends_says_so_in_one_line(cli: Cli, pg_url: str,
                                                                       tmp_path: Path):
    _, err = stopped_while_writing(cli, pg_url, tmp_path, "terminate")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("Nothing was imported: postgresql://")
    assert err.strip().endswith("Import the file again once the database is back.")
