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
from conftest import STARTUP_CHECKED
from fakeslack import FakeSlack
from interview_steps import ARTICLE, click, submit, wait_question

MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount"}
PEOPLE = [(f"U{n}", f"D{n}") for n in range(1, 5)]
KILL_AFTER = 5  # answers given before the first replica dies


@pytest.fixture
def replicas(start_bot, pg_url):
    first = start_bot(process=True, CMBOT_DATABASE_URL=pg_url)
    second = start_bot(process=True, CMBOT_DATABASE_URL=pg_url)
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


def sessions_left(pg_url: str, timeout: float = 20) -> int:
    """How many sessions are still saved, once none is (or `timeout` passed): the step that
    posts a recommendation forgets its interview just after posting it."""
    psycopg = pytest.importorskip("psycopg")
    deadline = time.monotonic() + timeout
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM sessions").fetchone()
            left = int(row[0]) if row else 0
            if left == 0 or time.monotonic() > deadline:
                return left
            time.sleep(0.02)


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
    assert [by for by, _ in rows] == [user for user, _ in PEOPLE]
    for _, data in rows:
        answers = json.loads(data)["answers"]
        assert set(answers) == set(ARTICLE)
    assert sessions_left(pg_url) == 0


# --- a reminder, once across replicas --------------------------------------------------------

QUICK = {"CMBOT_REMIND_AFTER": "0.5s", "CMBOT_EXPIRE_AFTER": "1h", "CMBOT_SWEEP_EVERY": "0.1"}


def reminders(fake, since: float) -> list:
    return [c for c in fake.calls_to("chat.postMessage") if "waiting for you" in c.text
            and c.time > since]


def test_an_idle_interview_gets_one_reminder_from_two_replicas_and_none_after_a_restart(
        start_bot, pg_url):
    """Both replicas sweep ten times a second; the interview is reminded once, by either."""
    first = start_bot(process=True, CMBOT_DATABASE_URL=pg_url, **QUICK)
    second = start_bot(process=True, CMBOT_DATABASE_URL=pg_url, **QUICK)
    fake = first.fake
    first.driver.message("U1", "D1", "start")
    click(second.driver, "U1", wait_question(fake, "org_size"), "org_size", "small")
    # Counted from the second question on: had the answer come later than the reminder delay
    # (a busy machine), the first question would rightly have had a reminder of its own.
    idle = wait_question(fake, "departments").time
    reminder = fake.wait_for("chat.postMessage", lambda c: "waiting for you" in c.text
                             and c.time > idle, timeout=10)
    assert reminder.params["channel"] == "D1"
    time.sleep(0.6)  # six more sweeps on each replica (a process gives no sign of a sweep)
    assert len(reminders(fake, since=idle)) == 1
    first.kill9()
    second.restart()
    first.restart()
    for replica in (first, second):
        replica.wait_for_log(STARTUP_CHECKED)
    time.sleep(0.6)
    assert len(reminders(fake, since=idle)) == 1


# --- a replica dying between posting and noting what it posted --------------------------------


def die_after_posting(fake, bot, wanted) -> None:
    """The next message `wanted` picks is posted (Slack has it, people see it), then `bot` is
    killed with SIGKILL before it hears back: it never notes what it posted."""
    def post(params):
        answer = FakeSlack._chat_post_message(fake, params)
        if wanted(params):
            fake.on("chat.postMessage", None)
            bot.kill9()
        return answer
    fake.on("chat.postMessage", post)


def is_recommendation(params) -> bool:
    return bool(params.get("metadata"))


def recommendations(fake, channel: str) -> list:
    return [c for c in fake.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and c.params.get("metadata")]


def answer_up_to(bot, user: str, channel: str, last: str):
    """Start an interview and answer every question before `last` (the article's answers);
    the message asking `last`."""
    fake = bot.fake
    bot.driver.message(user, channel, "start")
    for state, value in [*ARTICLE.items(), ("confirm", "confirm")]:
        call = wait_question(fake, state, channel=channel, timeout=20)
        if state == last:
            return call
        answer(bot, user, channel, state, value, call)
        wait_question(fake, next_state(state), channel=channel, timeout=20)
    raise AssertionError(f"{last} never asked")


def next_state(state: str) -> str:
    order = [*ARTICLE, "confirm"]
    return order[order.index(state) + 1]


def stale_told(fake, user: str) -> bool:
    return any(c.params.get("user") == user and "no longer current" in c.text
               for c in fake.calls_to("chat.postEphemeral"))


def test_a_recommendation_posted_by_a_replica_that_died_is_not_posted_again(replicas):
    """The replica that posts the recommendation dies before forgetting the interview: the
    person clicks Confirm again (its buttons were never tidied) on the other replica, and is
    told it is no longer current; a new start there begins a new interview; the dead replica,
    restarted, posts nothing more."""
    first, second = replicas
    fake = first.fake
    confirm = answer_up_to(first, "U1", "D1", "confirm")
    die_after_posting(fake, first, is_recommendation)
    click(first.driver, "U1", confirm, "confirm", "confirm")
    fake.wait_for("chat.postMessage", lambda c: is_recommendation(c.params), timeout=20)
    assert not first.running

    click(second.driver, "U1", confirm, "confirm", "confirm")  # the old Confirm, clicked again
    fake.wait_for("chat.postEphemeral", lambda c: "no longer current" in c.text, timeout=20)
    mark = fake.mark()
    second.driver.message("U1", "D1", "start")
    wait_question(fake, "org_size", after=mark, channel="D1", timeout=20)
    mark = fake.mark()
    first.restart()
    first.wait_for_log(STARTUP_CHECKED)  # its start-up check, which would post it, is over
    fake.assert_no_call("chat.postMessage", lambda c: is_recommendation(c.params), wait=0,
                        after=mark)
    assert len(recommendations(fake, "D1")) == 1


def test_a_question_posted_by_a_replica_that_died_is_adopted_not_posted_twice(replicas):
    """The replica that posts a question dies before noting its message: the person answers
    that very message on the other replica and it counts; the question before it, clicked
    again, is no longer current; the interview ends with one recommendation."""
    first, second = replicas
    fake = first.fake
    before = answer_up_to(first, "U2", "D2", "proposed_host")
    die_after_posting(fake, first, lambda p: p.get("channel") == "D2"
                      and any(b.get("block_id") == "budget_owner" for b in p.get("blocks") or []))
    click(first.driver, "U2", before, "proposed_host", ARTICLE["proposed_host"])
    posted = wait_question(fake, "budget_owner", channel="D2", timeout=20)
    assert not first.running

    mark = fake.mark()
    click(second.driver, "U2", posted, "budget_owner", ARTICLE["budget_owner"])
    wait_question(fake, "budget_amount", after=mark, channel="D2", timeout=20)
    asked = [c for c in fake.calls_to("chat.postMessage")
             if any(b.get("block_id") == "budget_owner" for b in c.params.get("blocks") or [])]
    assert len(asked) == 1  # adopted, never posted again
    click(second.driver, "U2", before, "proposed_host", "marketing")  # an old message
    fake.wait_for("chat.postEphemeral", lambda c: "no longer current" in c.text, timeout=20)

    first.restart()  # its start-up recovery finds nothing left to show
    for state, value in [*list(ARTICLE.items())[4:], ("confirm", "confirm")]:
        call = wait_question(fake, state, channel="D2", timeout=20)
        answer(second, "U2", "D2", state, value, call)
    fake.wait_for("chat.postMessage", lambda c: is_recommendation(c.params), timeout=20)
    assert len(recommendations(fake, "D2")) == 1
    assert len([c for c in fake.calls_to("chat.postMessage")
                if any(b.get("block_id") == "budget_owner" for b in c.params.get("blocks") or [])]) == 1
