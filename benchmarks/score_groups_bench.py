"""Benchmark: ``ledger score --json --by …`` as the number of groups grows, forecasts fixed.

One ledger (``ledger import`` of a Parquet file): 100,000 forecasts on 10,000
resolved yes/no questions, each question with a source (2,000 in all), an
author (200) and a tag (20). In the same run, fresh processes:

* the yardstick, ``ledger score --json`` (no breakdown) on that ledger;
* ``ledger score --json --by tag|author|source`` (20, 200, 2,000 groups).

Each breakdown scores every group fully (Brier, bootstrap interval, Murphy,
CORP with 1000 resamples, calibration). Printed per command, best of
``--runs``: wall time and CPU time (user + system, all threads: steadier
than wall time on a shared machine), the CPU time above the yardstick, and
that per group.

Usage: python benchmarks/score_groups_bench.py [--forecasts 100000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import generate, run_child  # noqa: E402  (the same synthetic record and process timer)

BREAKDOWNS = (("tag", 20), ("author", 200), ("source", 2000))


def write_parquet(path: Path, q, forecaster, p, outcome, made_at, resolved_at) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    labels = {by: np.char.add(by[0].upper(), (q % n).astype(str)) for by, n in BREAKDOWNS}
    table = pa.table({
        "question_key": pa.array(q.astype(str)),
        "statement": pa.array(np.char.add("Question ", q.astype(str))),
        "probability": pa.array(p),
        "resolve_by": pa.array(resolved_at[q].astype("datetime64[D]")),
        "outcome": pa.array(np.where(outcome[q], "yes", "no")),
        "resolved_at": pa.array(resolved_at[q]),
        "made_at": pa.array(made_at),
        "forecaster": pa.array(np.char.add("f", forecaster.astype(str))),
        "source_title": pa.array(labels["source"]),
        "source_author": pa.array(labels["author"]),
        "tags": pa.array(labels["tag"]),
    })
    pq.write_table(table, path)


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
        write_parquet(parquet, *generate(args.forecasts // 10, args.forecasts))
        wall, rss, _ = run_child([sys.executable, "-m", "ledger", "import", str(parquet)], env)
        print(f"ledger import: {wall:.2f} s, peak {rss:.0f} MiB ({args.forecasts:,} forecasts)")

    def best(extra: list[str]) -> tuple[float, float, float]:
        """(wall s, CPU s, peak RSS MiB) of the run with the least CPU time."""
        runs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.Popen([*ledger, *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(proc.stderr.read().decode())
            runs.append((time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))
        return min(runs, key=lambda run: run[1])

    base_wall, base, base_rss = best([])
    print(f"yardstick ledger score --json (no breakdown): {base_wall:.3f} s wall, {base:.3f} s CPU, "
          f"peak RSS {base_rss:.0f} MiB")
    print(f"{'breakdown':<10} {'groups':>7} {'wall s':>8} {'CPU s':>8} {'CPU above yardstick s':>22} "
          f"{'per group ms':>13} {'peak MiB':>9}")
    for by, n in BREAKDOWNS:
        wall, cpu, rss = best(["--by", by])
        print(f"{by:<10} {n:>7,} {wall:>8.3f} {cpu:>8.3f} {cpu - base:>22.3f} {(cpu - base) / n * 1000:>13.3f} "
              f"{rss:>9.0f}")


if __name__ == "__main__":
    main()
