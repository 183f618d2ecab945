"""cmbot on PostgreSQL: turn latency as a ratio of the floor, and throughput with two replicas.

    python tests/benchmarks/bench_replicas.py [--rounds 6] [--consultations 100000] [--people 16]

A throw-away PostgreSQL server is started for the run (the machine's binaries, as the tests
do; see `tests/pgserver.py`). Two parts:

1. The turn benchmark of `bench_turns.py` (its helpers, imported) with `cmbot serve --http` on
   PostgreSQL: the floor (`floorbot.py`) and cmbot side by side against one fake Slack, their
   interviews interleaved, on an empty database and on one holding N consultations (imported
   with `cmbot db import`). Reported as in `bench_turns.py`: medians and p99, as ratios of the
   floor's.
2. Throughput: `--people` interviews at once, every request sent by a round-robin "load
   balancer" to the next replica, one fake Slack behind them all; finished turns per second
   (an answer sent -> the next question received) with one replica, then two, on one database.
   The TinyDB files (one process, the most they allow) are the reference row.

It prints two tables and writes `bench_replicas.json` beside this file. Not part of the test run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import bench_turns as turns  # noqa: E402  (puts tests/slack on the path)
from fakeslack import FakeSlack  # noqa: E402
from pgserver import Server, start_server  # noqa: E402

STEPS = len(turns.STATES)  # answered turns per interview


@contextmanager
def postgresql() -> Iterator[Callable[[], str]]:
    """A server for the run; yields a maker of fresh, empty databases (their URLs)."""
    import psycopg

    server: Server = start_server()
    names = itertools.count(1)
    try:
        def fresh() -> str:
            name = f"bench_{next(names)}"
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return server.url_for(name)
        yield fresh
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@contextmanager
def database(url: str | None) -> Iterator[None]:
    """Every process started meanwhile (`bot_environment` copies this environment) uses `url`;
    None: the TinyDB files."""
    before = os.environ.pop("CMBOT_DATABASE_URL", None)
    if url:
        os.environ["CMBOT_DATABASE_URL"] = url
    try:
        yield
    finally:
        os.environ.pop("CMBOT_DATABASE_URL", None)
        if before is not None:
            os.environ["CMBOT_DATABASE_URL"] = before


# --- 1. latency ---------------------------------------------------------------------------------


def latency(fake: FakeSlack, fresh: Callable[[], str], rounds: int, consultations: int) -> list[dict]:
    rows = []
    for name, fill in (("PostgreSQL, empty", lambda db: None),
                       (f"PostgreSQL, {consultations:,} consultations",
                        lambda db: turns.fill_consultations(db, fake, consultations))):
        fake.reset()
        with database(fresh()):
            rows.append(turns.scenario(name, fake, rounds, fill))
        print(f"{name} done", file=sys.stderr)
    return rows


# --- 2. throughput ------------------------------------------------------------------------------


class Balancer:
    """What `bench_turns.interview` needs of a bot (`fake`, `driver`), each request going to the
    next replica in turn, as a round-robin load balancer does."""

    def __init__(self, bots: list[turns.BotProcess]):
        self.fake = bots[0].fake
        self._drivers = itertools.cycle([bot.driver for bot in bots])
        self._lock = threading.Lock()

    @property
    def driver(self) -> Any:
        with self._lock:
            return next(self._drivers)


def throughput(fake: FakeSlack, url: str | None, replicas: int, people: int) -> dict:
    """`people` interviews at once through `replicas` processes on one database."""
    fake.reset()
    with tempfile.TemporaryDirectory() as tmp, database(url):
        bots = []
        try:
            for n in range(replicas):
                bot, _ = turns.start_bot(fake, Path(tmp) / f"cmbot-{n}.json", [
                    str(turns.CMBOT_EXE), "serve", "--http", "--port", "{port}"], f"cmbot{n}")
                bots.append(bot)
            balancer = Balancer(bots)
            latencies: list[float] = []
            errors: list[str] = []

            def one(n: int) -> None:
                user, channel = f"UT{n:03d}", f"DT{n:03d}"
                try:
                    for turn_ms in turns.interview(balancer, user, channel,  # type: ignore[arg-type]
                                                   lambda: balancer.driver.message(user, channel, "start")):
                        latencies.append(turn_ms)
                except Exception as exc:  # reported, and the row is marked
                    errors.append(f"{user}: {exc}"[:200])

            threads = [threading.Thread(target=one, args=(n,)) for n in range(people)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
        finally:
            for bot in bots:
                bot.stop()
    return {"engine": "PostgreSQL" if url else "TinyDB files", "replicas": replicas,
            "people": people, "turns": len(latencies), "seconds": elapsed,
            "turns_per_s": len(latencies) / elapsed, "median_ms": statistics.median(latencies),
            "p99_ms": turns.percentile(latencies, 0.99), "errors": errors}


# --- the report ---------------------------------------------------------------------------------


def print_tables(latency_rows: list[dict], throughput_rows: list[dict]) -> None:
    header = ("database", "floor med ms", "cmbot med ms", "median ratio", "floor p99 ms",
              "cmbot p99 ms", "p99 ratio", "ready s", "RSS MB")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in latency_rows:
        print(f"{r['scenario']} | {r['floor_median_ms']:.1f} | {r['cmbot_median_ms']:.1f} | "
              f"{r['median_ratio']:.2f}x | {r['floor_p99_ms']:.1f} | {r['cmbot_p99_ms']:.1f} | "
              f"{r['p99_ratio']:.2f}x | {r['ready_s']:.2f} | {r['rss_mb']:.0f}")
    print()
    header = ("database", "replicas", "interviews at once", "turns", "turns/s", "turn median ms",
              "turn p99 ms")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in throughput_rows:
        failed = f" ({len(r['errors'])} failed)" if r["errors"] else ""
        print(f"{r['engine']} | {r['replicas']} | {r['people']} | {r['turns']}{failed} | "
              f"{r['turns_per_s']:.1f} | {r['median_ms']:.0f} | {r['p99_ms']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="interviews per bot per latency scenario")
    parser.add_argument("--consultations", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=16, help="interviews at once (throughput)")
    args = parser.parse_args()
    with FakeSlack() as fake, postgresql() as fresh:
        fake.strict_blocks = True
        latency_rows = latency(fake, fresh, args.rounds, args.consultations)
        throughput_rows = [throughput(fake, None, 1, args.people)]
        throughput_rows += [throughput(fake, fresh(), n, args.people) for n in (1, 2)]
    print_tables(latency_rows, throughput_rows)
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (HERE / "bench_replicas.json").write_text(json.dumps(
        {"machine": machine, "rounds": args.rounds, "latency": latency_rows,
         "throughput": throughput_rows}, indent=2))


if __name__ == "__main__":
    main()
