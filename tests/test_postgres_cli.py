"""The installed `cmbot` on PostgreSQL: `CMBOT_DATABASE_URL` moves every command to the database
(no TinyDB file is written), and a database that cannot be used is one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from clitools import ARTICLE, Cli


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
