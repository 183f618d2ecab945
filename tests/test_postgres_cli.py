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
