"""Two `cmbot serve` replicas in Socket Mode on one PostgreSQL database.

Slack spreads an app's envelopes over its open Socket Mode connections (up to 10), and may
deliver an event again on another one when the first did not acknowledge it in time. Here each
replica holds one connection to the fake Slack (`fakesocket`); the envelopes of two concurrent
interviews alternate between them, every DM message is delivered a second time on the other
connection as Slack's retry, and one replica is killed with SIGKILL half-way. Every interview
ends with one recommendation and one consultation, each answer applied once.
"""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest
from conftest import CMBOT_EXE
from fakesocket import SocketDriver, SocketMode
from interview_steps import ARTICLE, wait_question
from test_replicas import answer, is_recommendation, recommendations, sessions_left

PEOPLE = [("U1", "D1"), ("U2", "D2")]
KILL_AFTER = 4  # answers given by each person before the first replica dies


@pytest.fixture
def socket_replicas(start_bot, fake_slack, pg_url):
    hub = SocketMode(fake_slack)
    bots = []
    for count in (1, 2):  # one after the other: connection n is replica n's
        bots.append(start_bot(command=[str(CMBOT_EXE), "serve"], wait=False,
                              SLACK_APP_TOKEN="xapp-1-A1-test", CMBOT_DATABASE_URL=pg_url))
        hub.wait_connections(count)
    return hub, bots


def test_two_socket_mode_replicas_one_killed_nothing_lost_nothing_doubled(socket_replicas, pg_url):
    hub, bots = socket_replicas
    fake = bots[0].fake
    connections = hub.wait_connections(2)
    killed = threading.Event()
    halfway = threading.Barrier(len(PEOPLE) + 1)
    errors: list[str] = []

    def interview(user: str, channel: str) -> None:
        driver = SocketDriver(hub, connections[0], fake.url)
        person = SimpleNamespace(driver=driver)
        state = "start"
        try:
            driver.message(user, channel, "start")
            driver.connection = connections[1]
            driver.retry_last()  # the same event again, on the other connection
            for n, (state, value) in enumerate([*ARTICLE.items(), ("confirm", "confirm")]):
                call = wait_question(fake, state, channel=channel, timeout=20)
                if n == KILL_AFTER:
                    halfway.wait(timeout=60)
                    killed.wait(timeout=60)
                driver.connection = connections[1] if killed.is_set() else connections[n % 2]
                answer(person, user, channel, state, value, call)
                if state == "budget_amount":  # a typed answer: a message event, delivered twice
                    driver.connection = connections[1]
                    driver.retry_last()
            state = "recommendation"
            fake.wait_for("chat.postMessage", lambda c: is_recommendation(c.params)
                          and c.params.get("channel") == channel, timeout=20)
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(f"{user} at {state}: {str(exc)[:300]}")

    threads = [threading.Thread(target=interview, args=person) for person in PEOPLE]
    for thread in threads:
        thread.start()
    halfway.wait(timeout=60)
    bots[0].kill9()
    killed.set()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(fake.calls_to("apps.connections.open")) == 2  # Socket Mode, one connection each
    assert not connections[0].open and connections[1].open

    for user, dm in PEOPLE:
        assert len(recommendations(fake, dm)) == 1, f"{user}: not one recommendation"
        starts = [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == dm
                  and any(b.get("block_id") == "org_size" for b in c.params.get("blocks") or [])]
        assert len(starts) == 1, f"{user}: the start delivered twice began {len(starts)} interviews"
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT started_by, data FROM consultations ORDER BY started_by").fetchall()
    assert [by for by, _ in rows] == [user for user, _ in PEOPLE]
    for _, data in rows:
        assert set(json.loads(data)["answers"]) == set(ARTICLE)
    assert sessions_left(pg_url) == 0  # each forgotten once its recommendation was posted
