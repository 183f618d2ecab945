"""Turn latency against history size: `python tests/benchmarks/bench_turns.py [--sizes 0 1000 …]`.

For each N it pre-fills a fresh database with N finished consultations (`cmbot db import`),
starts `cmbot serve --http` against the fake Slack API, and measures
- turn latency: an answer sent over signed HTTP -> the next question received by the fake
  (median, p95, p99 over sequential interviews),
- throughput: requests per second with 20 interviews at once,
- `/cmbot history` latency, database size on disk, the bot's resident memory,
- start-up time of `cmbot serve` (process start -> `/healthz` answers),
plus the floor: one answer through the engine and the advisor, in-process.
It prints a table and writes `bench_turns.json` beside this file. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "slack"))

from conftest import CMBOT_EXE, BotProcess, bot_environment, free_port  # noqa: E402
from fakeslack import FakeSlack  # noqa: E402
from interview_steps import ARTICLE, click, submit, wait_question  # noqa: E402

MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount", "objectives_other"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def export_lines(n: int, template: dict) -> list[str]:
    """N synthetic consultations in `cmbot db export` format, cloned from a real one."""
    header = {"format": "cmbot-export", "format_version": 1, "cmbot_version": "bench",
              "exported_at": "2026-01-01T00:00:00+00:00"}
    lines = [json.dumps(header)]
    for i in range(n):
        record = dict(template, id=f"{i:08x}", started_by=f"U{i % 500:04d}",
                      where={"kind": "channel", "channel": f"C{i % 50:03d}",
                             "thread_ts": f"1700000000.{i:06d}"} if i % 3 else
                      {"kind": "dm", "channel": f"D{i % 500:04d}"},
                      finished_at=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:{i % 60:02d}.000+00:00")
        lines.append(json.dumps({"type": "consultation", **record}))
    return lines


def template_consultation(env: dict) -> dict:
    out = subprocess.run([str(CMBOT_EXE), "chat", "--answers",
                          str(HERE.parents[1] / "examples" / "article-case.yaml"), "--json"],
                         env=env, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    dump = subprocess.run([str(CMBOT_EXE), "db", "export"], env=env, capture_output=True,
                          text=True, check=True)
    for line in dump.stdout.splitlines()[1:]:
        row = json.loads(line)
        if row.pop("type") == "consultation" and row["id"] == report["consultation_id"]:
            return row
    raise SystemExit("could not read the template consultation")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.rglob("*") if p.is_file()) / 1e6


def timed_interview(bot: BotProcess, user: str, channel: str, turns: list[float]) -> None:
    fake, driver = bot.fake, bot.driver
    mark = fake.mark()
    driver.message(user, channel, "start")
    call = wait_question(fake, "org_size", after=mark, channel=channel, timeout=30)
    states = [*ARTICLE, "confirm"]
    for i, state in enumerate(states):
        mark = fake.mark()
        sent = time.time()
        value = "confirm" if state == "confirm" else ARTICLE[state]
        if state in MULTI:
            submit(driver, user, call, state, value)
        elif state in TYPED:
            driver.message(user, channel, value)
        else:
            click(driver, user, call, state, value)
        if i + 1 < len(states):
            call = wait_question(fake, states[i + 1], after=mark, channel=channel, timeout=30)
        else:
            call = fake.wait_for("chat.postMessage", lambda c: c.params.get("metadata")
                                 and c.params["channel"] == channel, after=mark, timeout=30)
        turns.append((call.time - sent) * 1000)


def core_floor(rounds: int = 2000) -> float:
    from cmbot.advisor import advise
    from cmbot.interview import Interview, load_flows

    interview = Interview(load_flows()["community_manager"])
    answers = dict(ARTICLE, budget_amount=0)
    start = time.perf_counter()
    for _ in range(rounds):
        session = interview.start()
        interview.answer(session, answers["org_size"])
        advise(answers)
    return (time.perf_counter() - start) * 1000 / rounds


def run_size(n: int, template: dict, interviews: int, fake: FakeSlack) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cmbot.json"
        env = bot_environment(fake, db)
        if n:
            dump = Path(tmp) / "prefill.jsonl"
            dump.write_text("\n".join(export_lines(n, template)) + "\n")
            subprocess.run([str(CMBOT_EXE), "db", "import", str(dump)], env=env, check=True,
                           capture_output=True)
            dump.unlink()
        bot = BotProcess(fake=fake, env=env, db_path=db, port=free_port(), log_dir=Path(tmp),
                         command=(str(CMBOT_EXE), "serve", "--http", "--port", "{port}"),
                         name="bench", startup_timeout=60)
        began = time.perf_counter()
        bot.start()
        startup = time.perf_counter() - began
        try:
            turns: list[float] = []
            for i in range(interviews):
                timed_interview(bot, f"UB{i}", f"DB{n}x{i}", turns)
            began = time.perf_counter()
            with ThreadPoolExecutor(20) as pool:
                list(pool.map(lambda i: timed_interview(bot, f"UC{i}", f"DC{n}x{i}", []), range(20)))
            elapsed = time.perf_counter() - began
            requests = 20 * (len(ARTICLE) + 2)
            history = []
            for _ in range(10):
                began = time.perf_counter()
                bot.driver.command("history", user="U0001")
                history.append((time.perf_counter() - began) * 1000)
            return {
                "n": n, "turn_median_ms": statistics.median(turns),
                "turn_p95_ms": percentile(turns, 0.95), "turn_p99_ms": percentile(turns, 0.99),
                "rps_20_concurrent": requests / elapsed,
                "history_median_ms": statistics.median(history),
                "db_mb": disk_mb(db), "rss_mb": rss_mb(bot.proc.pid), "startup_s": startup,
            }
        finally:
            bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000, 100000])
    parser.add_argument("--interviews", type=int, default=8, help="sequential interviews per N")
    args = parser.parse_args()
    rows = []
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        template = template_consultation(bot_environment(fake, Path(tmp) / "t.json"))
        for n in args.sizes:
            fake.reset()
            rows.append(run_size(n, template, args.interviews, fake))
            print(f"N={n} done", file=sys.stderr)
    floor = core_floor()
    header = ("N", "turn med ms", "p95 ms", "p99 ms", "req/s (20 conc.)", "history ms", "db MB",
              "RSS MB", "start-up s")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        print(f"{r['n']:,} | {r['turn_median_ms']:.1f} | {r['turn_p95_ms']:.1f} | "
              f"{r['turn_p99_ms']:.1f} | {r['rps_20_concurrent']:.0f} | {r['history_median_ms']:.1f} | "
              f"{r['db_mb']:.1f} | {r['rss_mb']:.0f} | {r['startup_s']:.2f}")
    print(f"\ncore floor (one answer through the engine + the advisor): {floor:.3f} ms")
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (HERE / "bench_turns.json").write_text(json.dumps(
        {"machine": machine, "core_floor_ms": floor, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
