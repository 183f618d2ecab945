"""Two `cmbot serve --http` replicas on one PostgreSQL database, as behind a load balancer.

Requests of concurrent interviews alternate between the replicas; one replica is killed with
SIGKILL half-way and the other finishes every interview. Nothing is lost (each interview ends in
its one consultation, with every answer) and nothing is doubled (one recommendation per person,
one consultation per interview).
"""

from __future__ import annotations

import json
import threading

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


def interview(replicas, user: str, channel: str, killed: threading.Event,
              halfway: threading.Barrier, errors: list[str]) -> None:
    """One person's interview, each request to the next live replica in turn."""
    fake = replicas[0].fake
    try:
        replicas[0].driver.message(user, channel, "start")
        steps = [*ARTICLE.items(), ("confirm", "confirm")]
        for n, (state, value) in enumerate(steps):
            if n == KILL_AFTER:
                halfway.wait(timeout=60)  # every interview is half-way when the replica dies
                killed.wait(timeout=60)
            call = wait_question(fake, state, channel=channel, timeout=20)
            bot = replicas[1] if killed.is_set() or n % 2 else replicas[0]
            answer(bot, user, channel, state, value, call)
    except Exception as exc:  # collected: a thread's failure must fail the test
        errors.append(f"{user}: {exc!r}")


def test_two_replicas_one_killed_nothing_lost_nothing_doubled(replicas, pg_url):
    fake = replicas[0].fake
    killed = threading.Event()
    halfway = threading.Barrier(len(PEOPLE) + 1)
    errors: list[str] = []
    threads = [threading.Thread(target=interview, args=(replicas, user, dm, killed, halfway, errors))
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
