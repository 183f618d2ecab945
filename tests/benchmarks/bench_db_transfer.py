"""Benchmark `cmbot db export` / `cmbot db import` / `cmbot db check` on a large archive.

    python tests/benchmarks/bench_db_transfer.py --n 100000

Builds an archive of N consultations (real advice for a few hundred random answer sets, repeated
with new ids), then runs each command in a fresh process (the real `cmbot db` command code,
in-process in that child) so that its peak RSS (`resource.getrusage`) is its own: export, import
into an empty database, the same import again (everything skipped), export of the imported
database (checked line by line against the first export: the round trip), and check. It runs at
N/10 and N, so a flat export memory shows as the same peak at both sizes. Prints a table and
writes the figures as JSON next to this file. Target: every step well under a minute at 100 000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# --- the data ---------------------------------------------------------------------------------


def random_answers(rng: random.Random) -> dict[str, Any]:
    departments = rng.sample(["communication", "marketing", "web", "sales", "customer_service",
                              "product", "hr"], rng.randint(1, 5))
    objectives = rng.sample(["fans", "conversion", "company_news", "awareness", "support",
                             "feedback", "advocates", "other"], rng.randint(1, 4))
    return {
        "org_size": rng.choice(["micro", "small", "medium", "large"]),
        "departments": departments,
        "proposed_host": rng.choice([*departments, "management", "undecided"]),
        "budget_owner": rng.choice(["host", "management", "shared", "dedicated", "unknown"]),
        "budget_amount": rng.choice([0, 5000, 12000, 250000]),
        "objectives": objectives,
        "objectives_other": "Faire vivre la communauté des utilisateurs « pro » ☕",
        "reporting": rng.choice(["volume", "sales", "qualitative", "none"]),
        "content": rng.choice(["none", "little", "regular", "rich"]),
        "brand_reach": rng.choice(["household", "known", "niche"]),
        "collaboration": rng.sample(departments, rng.randint(0, len(departments))),
        "dedicated_possible": rng.choice(["yes", "maybe", "no"]),
    }


def variants(count: int, scratch: Path) -> list[dict[str, Any]]:
    """Real consultations (the advisor's own output) for `count` random answer sets."""
    from cmbot.interview import Where
    from cmbot.service import Desk
    from cmbot.store import Store

    rng = random.Random(2026)
    desk = Desk(Store(scratch / "variants.json"))
    interview = desk.interview("community_manager")
    made: list[dict[str, Any]] = []
    while len(made) < count:
        answers = random_answers(rng)
        session = interview.start(lang=rng.choice(["en", "fr"]), started_by=f"U{len(made):04d}",
                                  where=Where.in_channel("C0123", "1700.1"))
        while not session.finished:
            question = interview.question(session)
            assert question is not None
            raw = "confirm" if question.kind == "confirm" else answers.get(question.id)
            if not interview.answer(session, raw, by=session.started_by).ok:
                break
        if session.state == "done":
            desk.save(session)
            found = desk.store.get_consultation(session.id)
            assert found is not None
            made.append(found)
    desk.store.close()
    return made


def seed(db: Path, n: int, scratch: Path) -> None:
    """An archive of `n` consultations: written in one go in the old one-file layout, then
    moved into shards by opening the store (the migration every older database goes through)."""
    from cmbot.store import Store, legacy_archive_path
    from cmbot.store.atomic import write_json_atomic

    base = variants(min(n, 300), scratch)
    table = {}
    for i in range(n):
        record = dict(base[i % len(base)])
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00"
        record.update(id=f"{i:08x}", created_at=day, finished_at=day)
        table[str(i + 1)] = record
    write_json_atomic(legacy_archive_path(db), {"consultations": table})
    write_json_atomic(db, {"sessions": {}, "prefs": {}})
    del table
    Store(db).close()


# --- one step in a child process --------------------------------------------------------------


def step(name: str, db: Path, file: Path) -> dict[str, Any]:
    """Run one `cmbot db` command (its real code) in this process; report time and memory."""
    os.environ["CMBOT_DB"] = str(db)
    os.environ["CMBOT_LANG"] = "en"
    from cmbot.db_cli import db_app

    args = {"export": ["export", "--output", str(file)], "import": ["import", str(file)],
            "check": ["check"]}[name]
    baseline = peak_rss_mb()
    start = time.perf_counter()
    code = db_app(args, standalone_mode=False)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline_rss_mb": round(baseline, 1), "exit_code": code or 0}


def child(*args: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        done = subprocess.run([sys.executable, __file__, "--child", *args, "--result", result.name],
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return json.loads(Path(result.name).read_text())


def same_body(first: Path, second: Path) -> bool:
    """The round trip: identical lines except the header (its `exported_at`)."""
    with first.open(encoding="utf-8") as a, second.open(encoding="utf-8") as b:
        next(a), next(b)
        return all(x == y for x, y in zip(a, b, strict=True))


def run(n: int, work: Path) -> list[dict[str, Any]]:
    source, target = work / f"src{n}" / "cmbot.json", work / f"dst{n}" / "cmbot.json"
    source.parent.mkdir()
    target.parent.mkdir()
    dump, again = work / f"export{n}.jsonl", work / f"again{n}.jsonl"
    rows = [{"n": n, "step": "seed (not a command)", **child("seed", str(source), str(n))}]
    rows.append({"n": n, "step": "db export", **child("export", str(source), str(dump))})
    rows.append({"n": n, "step": "db import (empty db)", **child("import", str(target), str(dump))})
    rows.append({"n": n, "step": "db import (again, all skipped)",
                 **child("import", str(target), str(dump))})
    rows.append({"n": n, "step": "db export (imported db)", **child("export", str(target), str(again))})
    rows.append({"n": n, "step": "db check", **child("check", str(target), str(dump))})
    size = dump.stat().st_size / 2**20
    for row in rows:
        row["export_mb"] = round(size, 1)
    assert same_body(dump, again), "round trip: the second export differs from the first"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="consultations (default 100 000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--output", type=Path, default=HERE / "bench_db_transfer.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        name, db, arg = options.child
        if name == "seed":
            start = time.perf_counter()
            seed(Path(db), int(arg), Path(db).parent)
            figures = {"seconds": round(time.perf_counter() - start, 2),
                       "peak_rss_mb": round(peak_rss_mb(), 1), "exit_code": 0}
        else:
            figures = step(name, Path(db), Path(arg))
        options.result.write_text(json.dumps(figures))
        return

    work = Path(tempfile.mkdtemp(prefix="cmbot-bench-"))
    try:
        sizes = sorted({max(1, options.n // 10), options.n})
        rows = [row for n in sizes for row in run(n, work)]
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'n':>8}  {'step':<32}{'seconds':>9}{'peak RSS MB':>13}{'export MB':>11}")
    for row in rows:
        print(f"{row['n']:>8}  {row['step']:<32}{row['seconds']:>9.2f}{row['peak_rss_mb']:>13.1f}"
              f"{row['export_mb']:>11.1f}")
    report = {"benchmark": "bench_db_transfer", "n": options.n, "date": time.strftime("%Y-%m-%d"),
              "python": platform.python_version(), "machine": platform.machine(),
              "cpus": os.cpu_count(), "rows": rows}
    options.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {options.output}")


if __name__ == "__main__":
    main()
