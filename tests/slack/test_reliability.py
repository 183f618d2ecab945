"""Many interviews at once, and `kill -9` at random moments (in DMs and channel threads): nothing
finished is ever lost."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from archive import saved_consultations
from interview_steps import ARTICLE
from test_dm_interview import run_interview

INTERVIEWS = 20
KILLS = 20


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


def test_kill_9_at_random_moments_loses_no_posted_consultation(bot):
    rng = random.Random(20261128)
    interviews = 0
    for round_ in range(KILLS):
        stop = threading.Event()

        def drive(round_: int = round_, stop: threading.Event = stop) -> None:
            nonlocal interviews
            n = 0
            while not stop.is_set():
                n += 1
                user = f"U{round_}x{n}"
                channel = f"{'C' if n % 2 else 'D'}{round_}x{n}"  # channel threads and DMs
                try:
                    mark = bot.fake.mark()
                    if n % 2:
                        bot.driver.app_mention(user, channel, "<@UBOT> start")
                    else:
                        bot.driver.message(user, channel, "start")
                    run_interview(bot, ARTICLE, user=user, channel=channel, after=mark)
                    interviews += 1
                except (AssertionError, OSError):
                    return  # the bot died under us: that is the point

        worker = threading.Thread(target=drive, daemon=True)
        worker.start()
        time.sleep(rng.uniform(0.05, 1.2))
        bot.kill9()
        stop.set()
        worker.join(timeout=15)
        bot.restart()  # start-up reads both database files: it fails loudly if one is corrupt
        posted = consultation_ids(bot.fake)  # before reading the archive: recovery may post more
        saved = archive(bot)
        missing = posted - set(saved)
        assert not missing, f"round {round_}: posted but not saved: {missing}"
    print(f"{KILLS} kills, {interviews} interviews finished, {len(consultation_ids(bot.fake))} posted")
    assert interviews >= KILLS // 2  # the kills did land amid finished interviews
    assert len(consultation_ids(bot.fake)) >= interviews
