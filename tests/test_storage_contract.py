"""One contract, every engine: the TinyDB files, PostgreSQL (a real server started by the test
run, see `pgserver`) and memory pass the same tests through the storage interface.

The PostgreSQL cases are skipped, with the reason, only where no server binaries exist.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from begun import begun

from cmbot.service import Desk
from cmbot.store.engines import EngineError, open_storage
from cmbot.store.protocol import Storage

ENGINES = ["tinydb", "postgresql", "memory"]
DURABLE = ["tinydb", "postgresql"]


@pytest.fixture
def url_for(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """The URL of a fresh database of the named engine (the same one if asked twice)."""
    made: dict[str, str] = {}

    def make(engine: str) -> str:
        if engine not in made:
            made[engine] = {"tinydb": lambda: str(tmp_path / "cmbot.json"),
                            "memory": lambda: "memory://",
                            "postgresql": lambda: request.getfixturevalue("pg_url")}[engine]()
        return made[engine]

    return make


@pytest.fixture(params=ENGINES)
def storage(request: pytest.FixtureRequest, url_for: Callable[[str], str]) -> Iterator[Storage]:
    store = open_storage(url_for(request.param))
    yield store
    store.close()


def session(sid: str, updated: str = "2024-01-01T00:00:00+00:00", **extra) -> dict:
    return {"id": sid, "flow_id": "community_manager", "state": "org_size", "updated_at": updated,
            "started_by": "U1", "where": {"kind": "dm", "channel": "D1"}, "answers": {}, **extra}


def consultation(cid: str, finished: str = "2024-01-01T00:00:00+00:00", by: str = "U1",
                 where: dict | None = None, **extra) -> dict:
    return {"id": cid, "flow_id": "community_manager", "lang": "fr", "started_by": by,
            "where": where or {"kind": "dm", "channel": "D1"}, "finished_at": finished,
            "parent_id": None, "answers": {"org_size": "small"},
            "recommendation": {"placement": "marketing", "scores": {"marketing": 3}}, **extra}


def ids(rows) -> list[str]:
    return [r["id"] for r in rows]


# --- sessions --------------------------------------------------------------------------------


def test_a_session_is_saved_read_replaced_and_deleted(storage):
    assert storage.get_session("s1") is None
    storage.save_session(session("s1"))
    assert storage.get_session("s1") == session("s1")
    storage.save_session(session("s1", state="departments"))
    assert storage.get_session("s1")["state"] == "departments"
    storage.delete_session("s1")
    assert storage.get_session("s1") is None
    storage.delete_session("s1")  # deleting what is gone is no error


def test_an_id_is_taken_by_a_session_or_a_consultation(storage):
    assert storage.id_taken("s1") is False
    storage.save_session(session("s1"))
    storage.add_consultation(consultation("c1"))
    assert storage.id_taken("s1") and storage.id_taken("c1")
    assert storage.id_taken("other") is False


def test_sessions_are_listed_most_recently_updated_first_and_filtered(storage):
    storage.save_session(session("a", "2024-01-01T00:00:00+00:00"))
    storage.save_session(session("b", "2024-03-01T00:00:00+00:00", where={"kind": "terminal"}))
    storage.save_session(session("c", "2024-02-01T00:00:00+00:00"))
    assert ids(storage.sessions()) == ["b", "c", "a"]
    assert ids(storage.sessions(lambda r: r["where"]["kind"] == "terminal")) == ["b"]


def test_text_comes_back_exactly_as_saved(storage):
    tricky = "Qui paie\u202f? « le budget\u00a0» — 漢字 😀 \x00 fin"
    storage.save_session(session("s1", answers={"objectives_other": tricky}))
    storage.add_consultation(consultation("c1", answers={"objectives_other": tricky}))
    assert storage.get_session("s1")["answers"]["objectives_other"] == tricky
    assert storage.get_consultation("c1")["answers"]["objectives_other"] == tricky


# --- consultations ---------------------------------------------------------------------------


def test_archiving_a_consultation_forgets_its_session(storage):
    storage.save_session(session("s1"))
    storage.add_consultation(consultation("s1"), finished_session="s1")
    assert storage.get_session("s1") is None
    assert storage.get_consultation("s1") == consultation("s1")


def test_listings_are_summaries_newest_first(storage):
    storage.add_consultation(consultation("a", "2024-01-01T00:00:00+00:00"))
    storage.add_consultation(consultation("c", "2024-02-01T00:00:00+00:00"))
    storage.add_consultation(consultation("b", "2024-02-01T00:00:00+00:00", by="U2"))
    assert ids(storage.consultations()) == ["c", "b", "a"]  # a tie goes to the greater id
    assert storage.consultations()[-1] == {
        "id": "a", "flow_id": "community_manager", "lang": "fr", "started_by": "U1",
        "where": {"kind": "dm", "channel": "D1"}, "finished_at": "2024-01-01T00:00:00+00:00",
        "parent_id": None, "recommendation": {"placement": "marketing"}}
    assert ids(storage.consultations(lambda s: s["started_by"] == "U2")) == ["b"]


def test_a_person_sees_theirs_and_their_channels_by_page(storage):
    chan = {"kind": "channel", "channel": "C1"}
    storage.add_consultation(consultation("a", "2024-01-01T00:00:00+00:00", by="U1"))
    storage.add_consultation(consultation("b", "2024-02-01T00:00:00+00:00", by="U2", where=chan))
    storage.add_consultation(consultation("c", "2024-03-01T00:00:00+00:00", by="U1", where=chan))
    storage.add_consultation(consultation("d", "2024-04-01T00:00:00+00:00", by="U2"))
    storage.add_consultation(consultation("e", "2024-05-01T00:00:00+00:00", by="U2",
                                          where={"kind": "channel", "channel": "C2"}))
    asked: list[str] = []

    def member(channel: str) -> bool:
        asked.append(channel)
        return channel == "C1"

    listing = storage.consultations_for("U1", member)
    assert len(listing) == 3
    assert ids(listing[0:10]) == ["c", "b", "a"]  # c is U1's and C1's: once
    assert ids(listing[1:2]) == ["b"]
    assert listing[-1]["id"] == "a"
    assert ids(listing[::-1]) == ["a", "b", "c"] and ids(listing[::2]) == ["c", "a"]
    assert ids(listing[-2:]) == ["b", "a"] and listing[5:9] == [] and listing == listing[:]
    assert sorted(asked) == ["C1", "C2"]  # once per channel
    assert ids(storage.consultations_for("U1")) == ["c", "a"]
    assert ids(storage.consultations_for("U2", lambda c: False)) == ["e", "d", "b"]
    assert len(storage.consultations_for("nobody")) == 0
    with pytest.raises(IndexError):
        storage.consultations_for("nobody")[0]


def test_a_deleted_consultation_is_gone_everywhere(storage):
    storage.add_consultation(consultation("c1"))
    assert storage.delete_consultation("c1") is True
    assert storage.get_consultation("c1") is None
    assert storage.consultations() == []
    assert len(storage.consultations_for("U1")) == 0
    assert storage.delete_consultation("c1") is False


# --- moving data in and out ------------------------------------------------------------------


def test_insert_new_adds_only_what_is_not_there(storage):
    storage.add_consultation(consultation("c1", flow_id="kept"))
    added = storage.insert_new("consultations", [consultation("c1"), consultation("c2")])
    assert added == 1
    assert storage.get_consultation("c1")["flow_id"] == "kept"  # never replaced
    assert storage.ids("consultations") == {"c1", "c2"}
    assert storage.insert_new("sessions", [session("s1"), session("s2")]) == 2
    assert storage.insert_new("sessions", [session("s1")]) == 0
    assert storage.ids("sessions") == {"s1", "s2"}
    assert storage.insert_new("sessions", []) == 0
    with pytest.raises(KeyError):
        storage.ids("prefs")


def test_an_import_adds_every_table_or_nothing(storage, tmp_path):
    storage.add_consultation(consultation("c1", flow_id="kept"))

    def batches(fail: bool):
        yield "consultations", [consultation("c1"), consultation("c2")]
        yield "sessions", [session("s1")]
        if fail:  # the file cannot be read further, the database went away…
            raise OSError("cut short")
        yield "consultations", [consultation("c3")]

    with pytest.raises(OSError):
        storage.import_new(batches(fail=True), str(tmp_path / "export.jsonl"))
    assert storage.ids("consultations") == {"c1"} and storage.ids("sessions") == set()
    assert storage.import_new(batches(fail=False), str(tmp_path / "export.jsonl")) == {
        "consultations": 2, "sessions": 1}
    assert storage.ids("consultations") == {"c1", "c2", "c3"} and storage.ids("sessions") == {"s1"}
    assert storage.get_consultation("c1")["flow_id"] == "kept"


# --- preferences -----------------------------------------------------------------------------


def test_preferences_are_per_person_and_key(storage):
    assert storage.get_pref("U1", "lang") is None
    storage.set_pref("U1", "lang", "fr")
    storage.set_pref("U1", "other", {"a": [1, 2]})
    storage.set_pref("U2", "lang", "en")
    storage.set_pref("U1", "lang", "en")
    assert storage.get_pref("U1", "lang") == "en"
    assert storage.get_pref("U1", "other") == {"a": [1, 2]}
    assert storage.get_pref("U2", "lang") == "en"


# --- durability and sharing ------------------------------------------------------------------


@pytest.mark.parametrize("engine", DURABLE)
def test_everything_is_there_after_reopening(engine, url_for):
    store = open_storage(url_for(engine))
    store.save_session(session("s1"))
    store.add_consultation(consultation("c1"))
    store.set_pref("U1", "lang", "fr")
    store.close()
    again = open_storage(url_for(engine))
    assert again.get_session("s1") == session("s1")
    assert again.get_consultation("c1") == consultation("c1")
    assert again.get_pref("U1", "lang") == "fr"
    again.close()


def test_one_step_of_an_interview_at_a_time(storage):
    inside: list[int] = []
    overlaps: list[int] = []

    def step(n: int) -> None:
        with storage.hold("s1"):
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(n)
            time.sleep(0.01)
            inside.remove(n)

    threads = [threading.Thread(target=step, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    with storage.hold("s1"), storage.hold("s2"):  # another interview is not held up
        pass


def answer_once(desk: Desk, session_id: str, applied: list[str]) -> None:
    """What a Slack retry does on any replica: apply the answer unless the step has moved on."""
    with desk.session(session_id) as current:
        assert current is not None
        if current.state == "org_size":
            desk.interview(current.flow_id).answer(current, "small")
            applied.append(session_id)
            time.sleep(0.02)  # a slow turn: the other replica's copy arrives meanwhile
            desk.save(current)


def test_an_answer_delivered_to_two_replicas_is_applied_once(pg_url):
    replicas = [Desk(open_storage(pg_url)), Desk(open_storage(pg_url))]
    started = [begun(replicas[0], started_by="U1") for _ in range(5)]
    applied: list[str] = []
    threads = [threading.Thread(target=answer_once, args=(desk, s.id, applied))
               for s in started for desk in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(applied) == sorted(s.id for s in started)
    once = replicas[0].interview("community_manager").start()
    replicas[0].interview("community_manager").answer(once, "small")
    for s in started:
        saved = replicas[1].store.get_session(s.id)
        assert (saved["state"], list(saved["answers"])) == (once.state, ["org_size"])
    for desk in replicas:
        desk.store.close()


def test_replicas_starting_together_create_the_schema_once(pg_url):
    opened: list[Storage] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(open_storage(pg_url))
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    import psycopg

    with psycopg.connect(pg_url) as conn:
        versions = conn.execute("SELECT version FROM cmbot_schema ORDER BY version").fetchall()
        assert versions == [(1,), (2,), (3,)]
    for store in opened:
        store.close()


def test_a_schema_from_a_newer_cmbot_is_refused_in_one_line(pg_url):
    open_storage(pg_url).close()
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO cmbot_schema (version) VALUES (99)")
    with pytest.raises(EngineError, match="schema is version 99, newer than this cmbot's 3"):
        open_storage(pg_url)


def test_an_unreachable_database_is_one_line(tmp_path):
    with pytest.raises(EngineError) as caught:
        open_storage(f"postgresql://nobody@/cmbot?host={tmp_path}&connect_timeout=2")
    assert caught.value.args[0].startswith("cannot open the PostgreSQL database: ")
    assert "\n" not in caught.value.args[0]


def test_an_unknown_scheme_is_refused():
    with pytest.raises(EngineError, match="unknown database URL scheme 'mysql'"):
        open_storage("mysql://localhost/cmbot")


# --- the Slack door's lookups: by place, by person, by idleness; events handled once ---------


def test_a_session_is_found_by_its_dm_or_its_channel_thread(storage):
    storage.save_session(session("dm", where={"kind": "dm", "channel": "D1"}))
    storage.save_session(session("th", where={"kind": "channel", "channel": "C1"}))
    assert storage.session_at("C1") is None  # its root message is not posted yet: no thread
    storage.save_session(session("th", where={"kind": "channel", "channel": "C1", "thread_ts": "1.2"}))
    assert (storage.session_at("D1"), storage.session_at("C1", "1.2")) == ("dm", "th")
    assert storage.session_at("C1", "9.9") is None
    storage.save_session(session("other", started_by="U2", where={"kind": "dm", "channel": "D2"}))
    assert storage.sessions_of("U1") == ["dm", "th"]
    assert sorted(storage.session_ids()) == ["dm", "other", "th"]
    storage.delete_session("dm")
    assert storage.session_at("D1") is None and storage.sessions_of("U1") == ["th"]


def test_a_session_saved_pending_stays_pending_until_saved_shown(storage):
    storage.save_session(session("s1"), pending=True)
    storage.save_session(session("s2"))
    assert storage.pending_sessions() == ["s1"]
    storage.save_session(session("s1", state="departments"))  # pending=None keeps the mark
    assert storage.pending_sessions() == ["s1"]
    storage.save_session(session("s1", state="departments"), pending=False)
    assert storage.pending_sessions() == []
    assert storage.get_session("s1")["state"] == "departments"  # the same write saved the step


def test_a_session_saved_with_no_mark_keeps_the_one_it_has(storage):
    storage.save_session(session("s1"))  # a new session with no mark is not pending
    storage.save_session(session("s2"), pending=False)
    assert storage.pending_sessions() == []
    storage.save_session(session("s2"), pending=True)
    storage.save_session(session("s2", state="departments"))
    assert storage.pending_sessions() == ["s2"]
    storage.delete_session("s2")
    assert storage.pending_sessions() == []


@pytest.mark.parametrize("engine", DURABLE)
def test_a_pending_mark_survives_reopening(engine, url_for):
    store = open_storage(url_for(engine))
    store.save_session(session("s1"), pending=True)
    store.save_session(session("s2"), pending=True)
    store.save_session(session("s2"), pending=False)
    store.save_session(session("s3"), pending=True)
    store.save_session(session("s3", state="departments"))
    store.close()
    again = open_storage(url_for(engine))
    assert again.pending_sessions() == ["s1", "s3"]
    assert again.get_session("s3")["state"] == "departments"
    again.close()


def test_a_session_is_idle_since_its_last_save_unless_touched(storage):
    before = time.time()
    storage.save_session(session("s1"))
    saved = storage.session_idle_since("s1")
    assert saved is not None and before - 1 <= saved <= time.time() + 1
    storage.touch_session("s1", 1_000_000.0)
    assert storage.session_idle_since("s1") == pytest.approx(1_000_000.0, abs=0.01)
    assert storage.session_idle_since("gone") is None


def test_an_event_is_claimed_once_until_released_or_done(storage):
    seen = storage.seen
    assert seen.claim("Ev1") is True
    assert seen.claim("Ev1") is False  # being handled
    seen.release("Ev1")  # the work failed: Slack's retry may do it
    assert seen.claim("Ev1") is True
    seen.done("Ev1")
    assert seen.claim("Ev1") is False


@pytest.mark.parametrize("engine", DURABLE)
def test_an_event_handled_is_remembered_after_reopening(engine, url_for):
    store = open_storage(url_for(engine))
    assert store.seen.claim("Ev1")
    store.seen.done("Ev1")
    store.close()
    again = open_storage(url_for(engine))
    assert again.seen.claim("Ev1") is False
    again.close()


def test_replicas_share_the_events_they_handled(pg_url):
    first, second = open_storage(pg_url), open_storage(pg_url)
    assert first.seen.claim("Ev1") is True
    assert second.seen.claim("Ev1") is False  # a retry reaching the other replica meanwhile
    first.seen.done("Ev1")
    assert second.seen.claim("Ev1") is False
    first.close()
    second.close()
