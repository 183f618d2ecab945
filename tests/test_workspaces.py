"""Workspaces kept apart on every engine: the same user and channel ids in two Slack workspaces
are two people and two channels, and deleting one workspace leaves no trace of it and takes
nothing of the other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from terminal_session import TerminalSession

from cmbot.store.engines import open_storage
from cmbot.store.protocol import Storage
from cmbot.store.workspace import WorkspaceStore, valid_workspace

ENGINES = ["tinydb", "postgresql", "memory"]


@pytest.fixture(params=ENGINES)
def base(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    url = {"tinydb": lambda: str(tmp_path / "cmbot.json"), "memory": lambda: "memory://",
           "postgresql": lambda: request.getfixturevalue("pg_url")}[request.param]()
    store = open_storage(url)
    yield store
    store.close()


def session(sid: str, channel: str = "D1", thread: str | None = None) -> dict:
    where = {"kind": "channel" if thread else "dm", "channel": channel,
             **({"thread_ts": thread} if thread else {})}
    return {"id": sid, "flow_id": "community_manager", "state": "org_size",
            "updated_at": "2024-01-01T00:00:00+00:00", "started_by": "U1", "where": where, "answers": {}}


def consultation(cid: str, where: dict | None = None) -> dict:
    return {"id": cid, "flow_id": "community_manager", "lang": "fr", "started_by": "U1",
            "where": where or {"kind": "dm", "channel": "D1"}, "finished_at": "2024-01-01T00:00:00+00:00",
            "parent_id": None, "answers": {"org_size": "small"},
            "recommendation": {"placement": "marketing"}}


CHANNEL = {"kind": "channel", "channel": "C1", "thread_ts": "1.1"}


def fill(one: WorkspaceStore, two: WorkspaceStore) -> None:
    one.save_session(session("s1"))
    two.save_session(session("s2"))
    one.save_session(session("t1", "C1", "9.1"))
    two.save_session(session("t2", "C1", "9.1"))
    one.add_consultation(consultation("c1"))
    two.add_consultation(consultation("c2"))
    one.add_consultation(consultation("h1", CHANNEL))
    two.add_consultation(consultation("h2", CHANNEL))
    one.set_pref("U1", "lang", "fr")
    two.set_pref("U1", "lang", "en")


def test_the_same_ids_in_two_workspaces_are_two_people_and_two_places(base: Storage):
    one, two = WorkspaceStore(base, "T1"), WorkspaceStore(base, "T2")
    fill(one, two)
    assert (one.session_at("D1"), two.session_at("D1")) == ("s1", "s2")
    assert (one.session_at("C1", "9.1"), two.session_at("C1", "9.1")) == ("t1", "t2")
    assert (one.sessions_of("U1"), two.sessions_of("U1")) == (["s1", "t1"], ["s2", "t2"])
    every_channel: Callable[[str], bool] = lambda channel: True  # noqa: E731
    assert [c["id"] for c in one.consultations_for("U1", every_channel)] == ["h1", "c1"]
    assert [c["id"] for c in two.consultations_for("U1", every_channel)] == ["h2", "c2"]
    assert [c["id"] for c in one.consultations()] == ["h1", "c1"]
    assert (one.get_pref("U1", "lang"), two.get_pref("U1", "lang")) == ("fr", "en")
    assert base.session_at("D1") is None and base.consultations_for("U1", every_channel) == []


def test_an_id_of_another_workspace_is_as_unknown_as_no_id(base: Storage):
    one, two = WorkspaceStore(base, "T1"), WorkspaceStore(base, "T2")
    fill(one, two)
    assert one.get_consultation("c2") is None and one.get_session("s2") is None
    assert one.delete_consultation("c2") is False
    one.delete_session("s2")
    assert two.get_consultation("c2") is not None and two.get_session("s2") is not None
    assert one.id_taken("c2")  # fresh ids stay unique across workspaces


def test_event_ids_are_claimed_per_workspace(base: Storage):
    one, two = WorkspaceStore(base, "T1"), WorkspaceStore(base, "T2")
    assert one.seen.claim("Ev1")
    one.seen.done("Ev1")
    assert not one.seen.claim("Ev1")
    assert two.seen.claim("Ev1")


def test_the_default_workspace_keeps_records_unmarked(base: Storage):
    default = WorkspaceStore(base)
    default.add_consultation(consultation("c0"))
    assert "workspace" not in base.get_consultation("c0")
    assert base.consultations()[0]["id"] == "c0" and "workspace" not in base.consultations()[0]
    WorkspaceStore(base, "T1").add_consultation(consultation("c1"))
    assert base.consultations(lambda s: s["id"] == "c1")[0]["workspace"] == "T1"
    assert [c["id"] for c in default.consultations()] == ["c0"]


def test_deleting_a_workspace_takes_all_of_it_and_nothing_else(base: Storage):
    one, two = WorkspaceStore(base, "T1"), WorkspaceStore(base, "T2")
    fill(one, two)
    one.seen.done("Ev1")
    counts = base.delete_workspace("T1")
    assert (counts["consultations"], counts["sessions"], counts["preferences"]) == (2, 2, 1)
    assert base.ids("consultations") == {"c2", "h2"} and set(base.session_ids()) == {"s2", "t2"}
    assert one.get_pref("U1", "lang") is None and two.get_pref("U1", "lang") == "en"
    assert one.session_at("D1") is None and two.session_at("D1") == "s2"
    assert one.seen.claim("Ev1")


def test_deleting_a_workspace_leaves_no_copy_in_the_tinydb_files(tmp_path: Path):
    base = open_storage(str(tmp_path / "cmbot.json"))
    one, two = WorkspaceStore(base, "TSECRET1"), WorkspaceStore(base, "T2")
    one.save_session(session("s1") | {"answers": {"org_size": {"value": "secret-answer", "by": "U1",
                                                               "at": "x"}}})
    one.add_consultation(consultation("c1") | {"answers": {"org_size": "secret-answer"}})
    one.add_consultation(consultation("c3") | {"answers": {"org_size": "secret-answer"}})
    one.set_pref("U1", "lang", "fr")
    one.seen.done("Ev1")
    two.add_consultation(consultation("c2"))
    base.delete_workspace("TSECRET1")
    base.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"secret-answer" not in data and b"TSECRET1" not in data, path
    again = open_storage(str(tmp_path / "cmbot.json"))
    assert again.ids("consultations") == {"c2"}
    again.close()


def test_workspace_ids_are_slack_team_or_organisation_ids():
    assert valid_workspace("T0123ABC") and valid_workspace("E01")
    assert not valid_workspace("") and not valid_workspace("U123") and not valid_workspace("T1;drop")


def test_a_version_2_postgresql_database_moves_to_workspaces_keeping_its_rows(pg_url: str):
    import psycopg

    from cmbot.store.postgres.schema import MIGRATIONS

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE cmbot_schema (version integer NOT NULL)")
        for number, steps in enumerate(MIGRATIONS[:2], 1):
            for statement in steps:
                conn.execute(statement)
            conn.execute("INSERT INTO cmbot_schema (version) VALUES (%s)", (number,))
        conn.execute("INSERT INTO consultations (id, finished_at, started_by, kind, channel, data) "
                     "VALUES ('old', '2024', 'U1', 'dm', 'D1', %s)",
                     ('{"id": "old", "started_by": "U1", "where": {"kind": "dm", "channel": "D1"}}',))
    store = open_storage(pg_url)
    try:
        assert [c["id"] for c in store.consultations_for("U1")] == ["old"]
        assert WorkspaceStore(store, "T1").consultations_for("U1") == []
    finally:
        store.close()


def two_workspaces(db: Path) -> None:
    """A TinyDB database holding a consultation and a session in T1 and in T2."""
    base = open_storage(str(db))
    common = {"flow_version": 1, "lang": "en", "team": False, "created_at": "2024-01-01T00:00:00+00:00"}
    for team in ("T1", "T2"):
        view = WorkspaceStore(base, team)
        view.add_consultation(consultation(f"c-{team}") | common | {"answered_by": {}})
        view.save_session(session(f"s-{team}") | common | {"history": [], "editing": False, "meta": {},
                                                           "parent_id": None})
    base.close()


def test_import_with_team_takes_that_workspace_only(cli, tmp_path: Path):
    two_workspaces(cli.db)
    exported = cli("db", "export", "--sessions", "-o", str(tmp_path / "all.jsonl"))
    assert exported.returncode == 0, exported.stderr
    target = tmp_path / "other" / "cmbot.json"
    target.parent.mkdir()
    done = cli("db", "import", str(tmp_path / "all.jsonl"), "--team", "T2", CMBOT_DB=str(target))
    assert done.returncode == 0, done.stderr
    assert "imported: 1" in done.stdout
    store = open_storage(str(target))
    assert store.ids("consultations") == {"c-T2"} and store.session_ids() == ["s-T2"]
    assert store.get_consultation("c-T2")["workspace"] == "T2"
    store.close()
    bad = cli("db", "import", str(tmp_path / "all.jsonl"), "--team", "general")
    assert bad.returncode == 2 and "not a Slack workspace id" in bad.stderr


def test_delete_workspace_asks_first_and_keeps_on_no(cli):
    two_workspaces(cli.db)
    for reply, kept in (("n", True), ("y", False)):
        term = TerminalSession(["db", "delete-workspace", "T1"], cli.db)
        try:
            term.wait_for("[y/N]")
            term.type_line(reply)
            assert term.exit_code() == 0
        finally:
            term.close()
        store = open_storage(str(cli.db))
        assert ("c-T1" in store.ids("consultations")) is kept
        assert "c-T2" in store.ids("consultations")
        store.close()
    assert "Workspace T1 deleted" in term.text()


def test_a_single_token_database_moves_into_a_workspace_with_as_team(cli, tmp_path: Path):
    two_workspaces(cli.db)
    base = open_storage(str(cli.db))
    common = {"flow_version": 1, "lang": "en", "team": False, "created_at": "2024-01-01T00:00:00+00:00"}
    WorkspaceStore(base).add_consultation(consultation("c-old") | common | {"answered_by": {}})
    base.close()
    assert cli("db", "export", "-o", str(tmp_path / "all.jsonl")).returncode == 0
    target = tmp_path / "other" / "cmbot.json"
    target.parent.mkdir()
    for _ in range(2):  # a second import finds everything there, the same: nothing added
        done = cli("db", "import", str(tmp_path / "all.jsonl"), "--as-team", "T9", CMBOT_DB=str(target))
        assert done.returncode == 0, done.stderr
    store = open_storage(str(target))
    assert [c["id"] for c in WorkspaceStore(store, "T9").consultations()] == ["c-old"]
    assert store.get_consultation("c-T1")["workspace"] == "T1"  # other workspaces stay theirs
    store.close()
