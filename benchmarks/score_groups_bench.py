"""Benchmark: ``ledger score --json --by …`` as the number of groups grows, forecasts fixed.

One ledger (``ledger import`` of a Parquet file): 100,000 forecasts on 10,000
resolved yes/no questions, each question with a source (2,000 in all), an
author (200) and a tag (20). In the same run, fresh processes:

* the yardstick, ``ledger score --json`` (no breakdown) on that ledger;
* ``ledger score --json --by source|author|tag`` (2,000, 200, 20 groups).

Each breakdown scores every group fully (Brier, bootstrap interval, Murphy,
CORP with 1000 resamples, calibration). Printed per command, best of
``--runs``: wall time and CPU time (user + system, all threads: steadier
than wall time on a shared machine), the CPU time above the yardstick, and
that per group.

The scoring's cost grows with the (group, distinct forecast value) cells, each
resampled 1000 times for CORP's null (binomial draws and a PAV refit): at most
one cell a forecast, and at most 99 a group on whole percents.

Usage: python benchmarks/score_groups_bench.py [--forecasts 100000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import generate, run_child, write_parquet  # noqa: E402  (the same record and process timer)

from ledger.verified import SETTLED  # noqa: E402

BREAKDOWNS = (("source", "source_title", 2000), ("author", "source_author", 200), ("tag", "tags", 20))


def labels(q):
    """Per forecast, its question's source, author and tag: question k is in group k mod n of each."""
    import numpy as np

    return {column: np.char.add(by[0].upper(), (q % n).astype(str)) for by, column, n in BREAKDOWNS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forecasts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="Directory to keep (and reuse) the ledger in.")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="score_groups_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "groups.duckdb"
    env = dict(os.environ, LEDGER_DB=str(db))
    ledger = [sys.executable, "-m", "ledger", "score", "--json"]
    if not db.exists():
        parquet = work / "groups.parquet"
        record = generate(args.forecasts // 10, args.forecasts)
        write_parquet(parquet, *record, **labels(record[0]))
        wall, rss, _, _ = run_child([sys.executable, "-m", "ledger", "import", str(parquet)], env)
        print(f"ledger import: {wall:.2f} s, peak {rss:.0f} MiB ({args.forecasts:,} forecasts)")

    # Every command below finds the verify remembered (ledger.verified), as a second score of a ledger does:
    # the figures are the scoring's alone. A file written within SETTLED seconds is never remembered.
    time.sleep(max(0.0, SETTLED - (time.time() - db.stat().st_ctime)))
    run_child([sys.executable, "-m", "ledger", "verify"], env)

    def best(extra: list[str]) -> tuple[float, float, float]:
        """(wall s, CPU s, peak RSS MiB) of the run with the least CPU time."""
        runs = [run_child([*ledger, *extra], env) for _ in range(args.runs)]
        wall, rss, _, cpu = min(runs, key=lambda run: run[3])
        return wall, cpu, rss

    base_wall, base, base_rss = best([])
    print(f"yardstick ledger score --json (no breakdown): {base_wall:.3f} s wall, {base:.3f} s CPU, "
          f"peak RSS {base_rss:.0f} MiB")
    print(f"{'breakdown':<10} {'groups':>7} {'wall s':>8} {'CPU s':>8} {'CPU above yardstick s':>22} "
          f"{'per group ms':>13} {'peak MiB':>9}")
    for by, _, n in BREAKDOWNS:
        wall, cpu, rss = best(["--by", by])
        print(f"{by:<10} {n:>7,} {wall:>8.3f} {cpu:>8.3f} {cpu - base:>22.3f} {(cpu - base) / n * 1000:>13.3f} "
              f"{rss:>9.0f}")


if __name__ == "__main__":
    main()
