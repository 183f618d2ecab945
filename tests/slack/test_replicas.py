"""Two `cmbot serve --http` replicas on one PostgreSQL database, as behind a load balancer.

Requests of concurrent interviews alternate between the replicas; one replica is killed with
SIGKILL half-way (between two requests: the load balancer then sends everything to the other)
and the other finishes every interview. Nothing is lost (each interview ends in
its one consultation, with every answer) and nothing is doubled (one recommendation per person,
one consultation per interview).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from interview_steps import ARTICLE, click, submit, wait_question

MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount"}
PEOPLE = [(f"U{n}", f"D{n}") for n in range(1, 5)]
KILL_AFTER = 5  # answers given before the first replica dies


@pytest.fixture
def replicas(start_bot, pg_url):
    first = start_bot(CMBOT_DATABASE_URL=pg_url)
    second = start_bot(CMBOT_DATABASE_URL=pg_url)
    return first, second


def answer(bot, user: str, channel: str, state: str, value, call) -> None:
    if state in MULTI:
        submit(bot.driver, user, call, state, value)
    elif state in TYPED:
        bot.driver.message(user, channel, value, thread_ts=call.params.get("thread_ts"))
    else:
        click(bot.driver, user, call, state, value)


def step_done(pg_url: str, user: str, question_ts: str) -> None:
    """Wait until the replica that posted `question_ts` has noted it in the session, i.e. has
    finished the step (the load balancer's request is over), as a person reading it would."""
    psycopg = pytest.importorskip("psycopg")
    deadline = time.monotonic() + 20
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT data FROM sessions WHERE started_by = %s", (user,)).fetchone()
            if row and json.loads(row[0]).get("meta", {}).get("slack", {}).get("asked_ts") == question_ts:
                return
            time.sleep(0.02)
    raise AssertionError(f"the step that asked {question_ts} never finished")


def interview(pg_url: str, replicas, user: str, channel: str, killed: threading.Event,
              halfway: threading.Barrier, errors: list[str]) -> None:
    """One person's interview, each request to the next live replica in turn."""
    fake = replicas[0].fake
    state = "start"
    try:
        replicas[0].driver.message(user, channel, "start")
        steps = [*ARTICLE.items(), ("confirm", "confirm")]
        for n, (state, value) in enumerate(steps):
            call = wait_question(fake, state, channel=channel, timeout=20)
            if n == KILL_AFTER:
                step_done(pg_url, user, call.response["ts"])
                halfway.wait(timeout=60)  # every interview is half-way when the replica dies
                killed.wait(timeout=60)
            bot = replicas[1] if killed.is_set() or n % 2 else replicas[0]
            answer(bot, user, channel, state, value, call)
        state = "recommendation"
        fake.wait_for("chat.postMessage", lambda c: c.params.get("metadata")
                      and c.params.get("channel") == channel, timeout=20)
    except Exception as exc:  # collected: a thread's failure must fail the test
        errors.append(f"{user} at {state}: {str(exc)[:300]}")


def test_two_replicas_one_killed_nothing_lost_nothing_doubled(replicas, pg_url):
    fake = replicas[0].fake
    killed = threading.Event()
    halfway = threading.Barrier(len(PEOPLE) + 1)
    errors: list[str] = []
    threads = [threading.Thread(target=interview, args=(pg_url, replicas, user, dm, killed, halfway, errors))
               for user, dm in PEOPLE]
    for thread in threads:
        thread.start()
    halfway.wait(timeout=60)
    replicas[0].kill9()
    killed.set()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    for user, dm in PEOPLE:
        posts = [c for c in fake.calls_to("chat.postMessage")
                 if c.params.get("channel") == dm and c.params.get("metadata")]
        assert len(posts) == 1, f"{user} got {len(posts)} recommendations"
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT started_by, data FROM consultations ORDER BY started_by").fetchall()
        left = conn.execute("SELECT count(*) FROM sessions").fetchone()
    assert [by for by, _ in rows] == [user for user, _ in PEOPLE]
    for _, data in rows:
        answers = json.loads(data)["answers"]
        assert set(answers) == set(ARTICLE)
    assert left == (0,)
