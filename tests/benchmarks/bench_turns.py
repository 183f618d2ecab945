"""Turn latency as a ratio of the floor: `python tests/benchmarks/bench_turns.py`.

The floor (`floorbot.py` beside this file: the smallest Bolt bot speaking cmbot's Slack contract,
no storage, no advice) and `cmbot serve --http` run side by side against one fake Slack Web API,
in the same run, their interviews interleaved turn by turn, so machine noise hits both alike. A turn is an
answer sent over signed HTTP -> the next question received by the fake. Scenarios: an empty
database, 100 000 archived consultations, 10 000 interviews in progress; then the time Slack
waits for its HTTP answer when every Web API call takes 1 s. Reported: cmbot's median and p99
turn as ratios of the floor's (targets: <= 2x and <= 3x), start-up time to `/healthz`, memory.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "slack"), str(HERE.parent)]  # fixtures and their helpers

from conftest import CMBOT_EXE, BotProcess, bot_environment  # noqa: E402
from fakeslack import Call, FakeSlack  # noqa: E402
from interview_steps import ARTICLE, answer_block  # noqa: E402
from slack_requests import checkbox_state  # noqa: E402

MULTI = {"departments", "objectives", "collaboration"}
TYPED = {"budget_amount", "objectives_other"}
STATES = [*ARTICLE, "confirm"]
SCENARIOS = ["empty", "consultations", "in-progress", "acks"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def asks(call: Call, state: str, channel: str) -> bool:
    return call.params.get("channel") == channel and answer_block(call, state) is not None \
        and bool(call.response.get("ok"))


def answer(bot: BotProcess, user: str, channel: str, call: Call, state: str) -> float:
    """Send the answer to `state` asked by `call`; returns how long the HTTP answer took (ms)."""
    driver, value = bot.driver, "confirm" if state == "confirm" else ARTICLE[state]
    began = time.perf_counter()
    if state in TYPED:
        driver.message(user, channel, str(value))
    elif state in MULTI:
        submit = next(e for b in call.params["blocks"] for e in b.get("elements") or []
                      if e.get("action_id") == "cmbot_submit")
        block = next(b["block_id"] for b in call.params["blocks"]
                     if submit in (b.get("elements") or []))
        driver.block_action(user, channel, call.response["ts"], "cmbot_submit",
                            value=submit.get("value"), block_id=block,
                            state_values=checkbox_state(state, "cmbot_multi", value))
    else:
        element = next(e for e in answer_block(call, state)["elements"] if e.get("value") == value)
        driver.block_action(user, channel, call.response["ts"], element["action_id"], value=value,
                            block_id=state)
    return (time.perf_counter() - began) * 1000


def interview(bot: BotProcess, user: str, channel: str, start: Callable[[], Any],
              acks: list[float] | None = None) -> Iterator[float]:
    """One whole interview, yielding each turn's time (ms) as it is measured, so that two bots'
    interviews can be run turn by turn."""
    fake = bot.fake
    mark = fake.mark()
    start()
    call = fake.wait_for("chat.postMessage", lambda c: asks(c, STATES[0], channel), after=mark,
                         timeout=60)
    for i, state in enumerate(STATES):
        mark = fake.mark()
        sent = time.time()
        ack = answer(bot, user, channel, call, state)
        if acks is not None:
            acks.append(ack)
        if i + 1 < len(STATES):
            call = fake.wait_for("chat.postMessage", lambda c, s=STATES[i + 1]: asks(c, s, channel),
                                 after=mark, timeout=60)
        else:
            call = fake.wait_for("chat.postMessage", lambda c: c.params.get("metadata")
                                 and c.params["channel"] == channel, after=mark, timeout=60)
        yield (call.time - sent) * 1000


def start_bot(fake: FakeSlack, db: Path, command: list[str], name: str) -> tuple[BotProcess, float]:
    env = bot_environment(fake, db, {"CMBOT_REMIND_AFTER": "24h"})
    bot = BotProcess(fake=fake, env=env, db_path=db, log_dir=db.parent, command=command, name=name,
                     startup_timeout=120)
    began = time.perf_counter()
    if name == "floor":  # no /healthz: ready once it says where it listens
        bot.start(wait=False)
        while not bot.read_port():
            time.sleep(0.05)
    else:
        bot.start()
    return bot, time.perf_counter() - began


def fill_consultations(db: Path, fake: FakeSlack, n: int) -> None:
    """N consultations in `cmbot db export` format, cloned from a real one, imported."""
    env = bot_environment(fake, db)
    subprocess.run([str(CMBOT_EXE), "chat", "--answers",
                    str(HERE.parents[1] / "examples" / "article-case.yaml"), "--json"],
                   env=env, capture_output=True, text=True, check=True)
    dump = subprocess.run([str(CMBOT_EXE), "db", "export"], env=env, capture_output=True,
                          text=True, check=True).stdout.splitlines()
    header, template = dump[0], json.loads(dump[1])
    path = db.with_name("prefill.jsonl")
    with path.open("w") as out:
        out.write(header + "\n")
        for i in range(n):
            out.write(json.dumps(dict(template, id=f"{i:08x}", started_by=f"U{i % 500:04d}",
                                      finished_at=f"2025-01-01T10:00:{i % 60:02d}.000+00:00")) + "\n")
    subprocess.run([str(CMBOT_EXE), "db", "import", str(path)], env=env, check=True,
                   capture_output=True)
    path.unlink()


def fill_sessions(db: Path, n: int) -> None:
    """N interviews in progress, each in its own DM, its current question on screen."""
    from cmbot.interview import Where
    from cmbot.service import Desk
    from cmbot.store import Store

    store = Store(db)
    interview = Desk(store).interview("community_manager")
    for i in range(n):
        session = interview.start(lang="en", started_by=f"UP{i:05d}",
                                  where=Where.dm(f"DP{i:05d}"))
        interview.answer(session, "medium", by=session.started_by)
        session.meta["slack"] = {"asked": session.state, "asked_ts": "1700000000.000100"}
        store.save_session(session.to_dict())
    store.close()


def scenario(name: str, fake: FakeSlack, rounds: int, fill: Callable[[Path], None]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cmbot.json"
        fill(db)
        cmbot, ready = start_bot(fake, db, [str(CMBOT_EXE), "serve", "--http", "--port", "{port}"],
                                 "cmbot")
        floor = cmbot  # stopped twice if the floor does not start: harmless
        try:
            floor, _ = start_bot(fake, Path(tmp) / "floor.json",
                                 [sys.executable, str(HERE / "floorbot.py"), "{port}"], "floor")
            turns: dict[str, list[float]] = {"floor": [], "cmbot": []}
            for i in range(rounds):  # the two interviews turn by turn, each going first in turn
                floor_turns = interview(floor, "UF", f"DF{i}", lambda c=f"DF{i}": floor.driver.command(
                    "start", user="UF", channel=c))
                cmbot_turns = interview(cmbot, f"UC{i}", f"DC{i}", lambda c=f"DC{i}", u=f"UC{i}":
                                        cmbot.driver.message(u, c, "start"))
                pairs = zip(floor_turns, cmbot_turns, strict=True) if i % 2 == 0 else (
                    (f, c) for c, f in zip(cmbot_turns, floor_turns, strict=True))
                for floor_ms, cmbot_ms in pairs:
                    turns["floor"].append(floor_ms)
                    turns["cmbot"].append(cmbot_ms)
            row = {"scenario": name, "ready_s": ready, "rss_mb": rss_mb(cmbot.proc.pid)}
            for who, values in turns.items():
                row[f"{who}_median_ms"] = statistics.median(values)
                row[f"{who}_p99_ms"] = percentile(values, 0.99)
            row["median_ratio"] = row["cmbot_median_ms"] / row["floor_median_ms"]
            row["p99_ratio"] = row["cmbot_p99_ms"] / row["floor_p99_ms"]
            return row
        finally:
            cmbot.stop()
            floor.stop()


def slow_acks(fake: FakeSlack) -> dict:
    """Every Web API call takes 1 s: how long Slack waits for the HTTP answer to each answer."""
    with tempfile.TemporaryDirectory() as tmp:
        cmbot, _ = start_bot(fake, Path(tmp) / "cmbot.json",
                             [str(CMBOT_EXE), "serve", "--http", "--port", "{port}"], "cmbot")
        floor = cmbot
        acks: dict[str, list[float]] = {"floor": [], "cmbot": []}
        try:
            floor, _ = start_bot(fake, Path(tmp) / "floor.json",
                                 [sys.executable, str(HERE / "floorbot.py"), "{port}"], "floor")
            fake.delay = 1.0
            for _ in interview(floor, "UF", "DFslow", lambda: floor.driver.command(
                    "start", user="UF", channel="DFslow"), acks["floor"]):
                pass
            for _ in interview(cmbot, "US", "DCslow", lambda: cmbot.driver.message(
                    "US", "DCslow", "start"), acks["cmbot"]):
                pass
        finally:
            fake.delay = 0.0
            cmbot.stop()
            floor.stop()
        return {who: {"median_ms": statistics.median(v), "max_ms": max(v)} for who, v in acks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interviews per bot per scenario")
    parser.add_argument("--consultations", type=int, default=100_000)
    parser.add_argument("--in-progress", type=int, default=10_000)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=SCENARIOS,
                        help="scenarios to run (default: all)")
    args = parser.parse_args()
    rows = []
    load_before = os.getloadavg()
    with FakeSlack() as fake:
        fake.strict_blocks = True
        fills: dict[str, tuple[str, Callable[[Path], None]]] = {
            "empty": ("empty", lambda db: None),
            "consultations": (f"{args.consultations:,} consultations",
                              lambda db: fill_consultations(db, fake, args.consultations)),
            "in-progress": (f"{args.in_progress:,} in progress",
                            lambda db: fill_sessions(db, args.in_progress))}
        for key in [s for s in SCENARIOS if s in args.only and s in fills]:
            name, fill = fills[key]
            fake.reset()
            rows.append(scenario(name, fake, args.rounds, fill))
            print(f"{name} done", file=sys.stderr)
        fake.reset()
        acks = slow_acks(fake) if "acks" in args.only else None
    load = [round(max(a, b), 2) for a, b in zip(load_before, os.getloadavg(), strict=True)]
    header = ("database", "floor med ms", "cmbot med ms", "median ratio", "floor p99 ms",
              "cmbot p99 ms", "p99 ratio", "ready s", "RSS MB")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        print(f"{r['scenario']} | {r['floor_median_ms']:.1f} | {r['cmbot_median_ms']:.1f} | "
              f"{r['median_ratio']:.2f}x | {r['floor_p99_ms']:.1f} | {r['cmbot_p99_ms']:.1f} | "
              f"{r['p99_ratio']:.2f}x | {r['ready_s']:.2f} | {r['rss_mb']:.0f}")
    if acks is not None:
        print(f"\nHTTP answer to Slack with a 1 s Web API: cmbot median {acks['cmbot']['median_ms']:.0f} ms "
              f"(max {acks['cmbot']['max_ms']:.0f} ms); the floor, which answers after its work, "
              f"median {acks['floor']['median_ms']:.0f} ms (max {acks['floor']['max_ms']:.0f} ms)")
    print(f"\nload average (1, 5, 15 min; the higher of before and after): {load}")
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average": load}
    if args.only == SCENARIOS:  # only a full run replaces the recorded figures
        (HERE / "bench_turns.json").write_text(json.dumps(
            {"machine": machine, "rounds": args.rounds, "rows": rows, "ack_with_1s_web_api": acks},
            indent=2))


if __name__ == "__main__":
    main()
