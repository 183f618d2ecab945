"""Where a turn's time goes: `python tests/benchmarks/profile_turn.py [--rounds N] [--sort tottime]`.

The real Bolt app and WSGI handler of `cmbot serve --http`, in this process, served by waitress
on 127.0.0.1 against the fake Slack Web API, with the lanes run inline so that one profiler sees
a whole turn: signature check, Bolt's dispatch, loading the session, the interview step, the
blocks, the save, the `chat.postMessage` reaching the fake, tidying the answered question.
Prints cProfile's table for the turns only (start-up excluded). Not part of the test run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "slack"))
sys.path.insert(0, str(HERE))

from bench_turns import STATES, answer, asks  # noqa: E402
from conftest import BOT_TOKEN, SIGNING_SECRET, BotProcess  # noqa: E402
from fakeslack import FakeSlack  # noqa: E402

from cmbot.service import Desk  # noqa: E402
from cmbot.slack.app import build_app, wsgi  # noqa: E402
from cmbot.slack.config import Settings  # noqa: E402
from cmbot.slack.lanes import Lanes  # noqa: E402
from cmbot.store import Store  # noqa: E402


class Inline(Lanes):
    """Every job run at once in the request's thread, so the request's profiler sees it."""

    def submit(self, key: str, job: Callable[[], None]) -> None:
        job()


def profiled(app: Callable[..., Iterable[bytes]], profile: cProfile.Profile,
             on: threading.Event) -> Callable[..., Any]:
    def application(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        if not on.is_set():
            return list(app(environ, start_response))
        profile.enable()
        try:
            return list(app(environ, start_response))
        finally:
            profile.disable()
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=45)
    args = parser.parse_args()
    import waitress

    profile, on = cProfile.Profile(), threading.Event()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "cmbot.json")
        settings = Settings(BOT_TOKEN, SIGNING_SECRET, None, fake.url, 0, "en")
        app, _ = build_app(settings, Desk(store), lanes=Inline())
        server = waitress.create_server(profiled(wsgi(app), profile, on), host="127.0.0.1", port=0,
                                        threads=1)
        port = server.effective_port
        threading.Thread(target=server.run, daemon=True).start()
        bot = BotProcess(fake=fake, env={"SLACK_SIGNING_SECRET": SIGNING_SECRET}, db_path=Path(tmp),
                         port=port, log_dir=Path(tmp), command=[], name="in-process")
        turns: list[float] = []
        for i in range(args.rounds + 1):  # the first one warms up, unprofiled
            if i == 1:
                on.set()
                turns.clear()
            channel, user = f"DP{i}", f"UP{i}"
            mark = fake.mark()
            bot.driver.message(user, channel, "start")
            call = fake.wait_for("chat.postMessage", lambda c, ch=channel: asks(c, STATES[0], ch),
                                 after=mark)
            for n, state in enumerate(STATES[:-1]):
                mark = fake.mark()
                began = time.perf_counter()
                answer(bot, user, channel, call, state)
                call = fake.wait_for("chat.postMessage",
                                     lambda c, s=STATES[n + 1], ch=channel: asks(c, s, ch), after=mark)
                turns.append((time.perf_counter() - began) * 1000)
        # the server thread is a daemon: it ends with the process
        store.close()
    turns.sort()
    print(f"{len(turns)} turns, median {turns[len(turns) // 2]:.2f} ms (wall, profiler on)")
    pstats.Stats(profile).strip_dirs().sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
