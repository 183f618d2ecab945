"""Many interviews at once, and `kill -9` at random moments (in DMs and channel threads): nothing
finished is ever lost."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from archive import saved_consultations
from interview_steps import ARTICLE
from test_dm_interview import answering, run_interview

INTERVIEWS = 20
KILLS = 20  # rounds under --hypothesis-profile=thorough
KILLS_BY_DEFAULT = 6
STEPS = len(ARTICLE) + 2  # a start, each answer, the confirmation


def consultation_ids(fake):
    return {c.params["metadata"]["event_payload"]["consultation_id"]
            for c in fake.calls_to("chat.postMessage") if c.params.get("metadata")}


def archive(bot):
    return saved_consultations(bot.db_path)


def test_twenty_interviews_at_once_all_finish_with_the_right_advice(bot):
    def one(i):
        user, channel = f"U{i:03d}", f"D{i:03d}"
        bot.driver.message(user, channel, "start")
        answers = dict(ARTICLE, dedicated_possible="yes" if i % 2 else "no")
        result = run_interview(bot, answers, user=user, channel=channel)
        return i, result.params["metadata"]["event_payload"]

    with ThreadPoolExecutor(INTERVIEWS) as pool:
        results = list(pool.map(one, range(INTERVIEWS)))
    saved = archive(bot)
    assert len(saved) == INTERVIEWS
    for i, payload in results:
        expected = "dedicated" if i % 2 else None
        if expected:
            assert payload["placement"] == expected
        else:
            assert payload["placement"] not in ("sales", "marketing", "dedicated")
        record = saved[payload["consultation_id"]]
        assert record["started_by"] == f"U{i:03d}"
        assert record["answers"]["dedicated_possible"] == ("yes" if i % 2 else "no")


def interviews_step_by_step(bot, people, finished):
    """Interviews one after another, alternately in a channel thread and a DM; yields the fake's
    mark taken before each step (a start, an answer, the confirmation) once Slack's request for
    it was acknowledged, and notes each interview whose result was posted in `finished`."""
    fake = bot.fake
    for n in people:
        user, channel = f"U{n}", f"{'C' if n % 2 else 'D'}{n}"
        started = fake.mark()
        if n % 2:
            bot.driver.app_mention(user, channel, "<@UBOT> start")
        else:
            bot.driver.message(user, channel, "start")
        yield started
        for mark in answering(bot, ARTICLE, user=user, channel=channel, after=started):
            yield mark
        fake.wait_for("chat.postMessage", lambda c, channel=channel: c.params.get("metadata")
                      and c.params["channel"] == channel, after=mark)
        finished.append(channel)


@pytest.mark.serve_process
def test_kill_9_at_random_moments_loses_no_posted_consultation(bot, thorough):
    """Each round drives interviews and kills the bot at a moment drawn at random: after some
    number of steps (spanning one to three interviews), as soon as Slack's request for the last
    one is acknowledged or once the bot has made one or two Web API calls for it. The moments are
    counted in steps and calls, not seconds, so a slow machine meets the same ones."""
    rng = random.Random(20261128)
    rounds = KILLS if thorough else KILLS_BY_DEFAULT
    people = itertools.count(1)
    finished: list[str] = []
    for round_ in range(rounds):
        steps = rng.randrange(1, 3 * STEPS)
        calls = rng.choice([0, 1, 2])
        *_, mark = itertools.islice(interviews_step_by_step(bot, people, finished), steps)
        bot.fake.wait_calls(calls, after=mark)
        bot.kill9()
        bot.restart()  # start-up reads both database files: it fails loudly if one is corrupt
        posted = consultation_ids(bot.fake)  # before reading the archive: recovery may post more
        saved = archive(bot)
        missing = posted - set(saved)
        assert not missing, f"round {round_}: posted but not saved: {missing}"
    print(f"{rounds} kills, {len(finished)} interviews finished, {len(consultation_ids(bot.fake))} posted")
    assert len(finished) >= rounds // 2  # the kills did land amid finished interviews
    assert len(consultation_ids(bot.fake)) >= len(finished)
