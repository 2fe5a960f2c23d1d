"""Benchmark: ``ledger score --json`` on 1,000,000 forecasts / 100,000 questions vs sklearn.

Builds a ledger (``ledger import`` of a Parquet file) with 100,000 resolved
yes/no questions, each forecast by up to three forecasters with revisions
(1,000,000 forecasts in all; probabilities in whole percents, as people type
them), then, in the same run:

* ``ledger score --json`` in a fresh process (cold start: Python, imports,
  opening the ledger, selection with time-averaging, every metric,
  CORP + 1000 resamples, bootstrap), wall time and peak RSS of that process,
  best of 3 (the first verifies the chain in full; the later ones find that
  verify remembered, :mod:`ledger.verified`, as a user's second score does);
* sklearn's ``brier_score_loss`` + ``log_loss`` + ``calibration_curve`` on the
  same 1,000,000 (p, o) as flat numpy arrays already in memory (calls only),
  and the same in a fresh process (import sklearn, read the arrays, calls).

Usage: python benchmarks/score_bench.py [--questions 100000] [--forecasts 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKLEARN_CHILD = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss
data = np.load(sys.argv[1])
p, o = data["p"], data["o"]
t1 = time.perf_counter()
brier_score_loss(o, p); log_loss(o, p); calibration_curve(o, p, n_bins=10)
t2 = time.perf_counter()
print(t2 - t1, t2 - t0)
"""


def generate(n_questions: int, n_forecasts: int, seed: int = 1):
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = rng.beta(0.7, 0.7, n_questions)
    outcome = rng.random(n_questions) < truth
    # Each question gets k forecasts (k >= 1), summing to n_forecasts.
    extra = rng.multinomial(n_forecasts - n_questions, np.full(n_questions, 1 / n_questions))
    per_q = 1 + extra
    q = np.repeat(np.arange(n_questions), per_q)
    forecaster = rng.integers(0, 3, q.size)
    noise = rng.normal(0, 0.15, q.size)
    p = np.clip(np.round(truth[q] + noise, 2), 0.01, 0.99)
    opened = np.datetime64("2022-01-01") + rng.integers(0, 700, n_questions).astype("timedelta64[D]")
    length = rng.integers(10, 300, n_questions)
    offset = (rng.random(q.size) * length[q] * 86400).astype("int64").astype("timedelta64[s]")
    made_at = opened[q].astype("datetime64[s]") + offset
    resolved_at = opened.astype("datetime64[s]") + (length * 86400).astype("timedelta64[s]")
    # about 1% of forecasts are made after the outcome became known (they must be ignored)
    late = rng.random(q.size) < 0.01
    made_at = np.where(late, resolved_at[q] + np.timedelta64(3600, "s"), made_at)
    return q, forecaster, p, outcome, made_at, resolved_at


def write_parquet(path: Path, q, forecaster, p, outcome, made_at, resolved_at, **columns) -> None:
    """The forecasts as an import file; ``columns`` are more import columns, one value per forecast."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "question_key": pa.array(q.astype(str)),
        "statement": pa.array(np.char.add("Question ", q.astype(str))),
        "probability": pa.array(p),
        "resolve_by": pa.array((resolved_at[q]).astype("datetime64[D]")),
        "outcome": pa.array(np.where(outcome[q], "yes", "no")),
        "resolved_at": pa.array(resolved_at[q]),
        "made_at": pa.array(made_at),
        "forecaster": pa.array(np.char.add("f", forecaster.astype(str))),
        **{name: pa.array(values) for name, values in columns.items()},
    })
    pq.write_table(table, path)


def run_child(args: list[str], env: dict) -> tuple[float, float, str, float]:
    """Run a process; return (wall seconds, peak RSS MiB of that process, stdout, its CPU seconds)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode()
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--forecasts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Directory to keep (and reuse) the ledger in.")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="score_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.duckdb"
    env = dict(os.environ, LEDGER_DB=str(db))
    ledger = [sys.executable, "-m", "ledger"]

    q, forecaster, p, outcome, made_at, resolved_at = generate(args.questions, args.forecasts)
    o = outcome[q].astype(np.int64)
    arrays = work / "flat.npz"
    np.savez(arrays, p=p, o=o)
    if not db.exists():
        parquet = work / "bench.parquet"
        write_parquet(parquet, q, forecaster, p, outcome, made_at, resolved_at)
        wall, rss, _, _ = run_child([*ledger, "import", str(parquet)], env)
        print(f"ledger import: {wall:.2f} s, peak {rss:.0f} MiB ({p.size:,} forecasts, {args.questions:,} questions)")

    runs = []
    for _ in range(3):
        wall, rss, text, _ = run_child([*ledger, "score", "--json"], env)
        runs.append((wall, rss))
    result = json.loads(text)
    wall, rss = min(runs)

    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, log_loss

    sk = []
    for _ in range(3):
        t0 = time.perf_counter()
        brier_score_loss(o, p)
        log_loss(o, p)
        calibration_curve(o, p, n_bins=10)
        sk.append(time.perf_counter() - t0)
    sk_calls = min(sk)
    sk_cold, sk_rss, sk_text, _ = run_child([sys.executable, "-c", SKLEARN_CHILD, str(arrays)], env)

    print(f"ledger score --json (cold process, best of 3): {wall:.3f} s, peak RSS {rss:.0f} MiB "
          f"[runs: {', '.join(f'{w:.3f}' for w, _ in runs)}]")
    print(f"  scored {result['n_questions']:,} questions, {result['n_scored']:,} (question, forecaster) pairs, "
          f"{result['n_forecasts']:,} forecasts; ignored after outcome: {result['excluded']['after_outcome']:,}; "
          f"Brier {result['brier']:.5f}, MCB {result['corp']['mcb']:.5f} (p {result['corp']['mcb_p_value']:.3f})")
    print(f"sklearn brier_score_loss + log_loss + calibration_curve on flat arrays (calls only, best of 3): "
          f"{sk_calls:.3f} s")
    print(f"sklearn same, fresh process (import + load arrays + calls): {sk_cold:.3f} s, peak RSS {sk_rss:.0f} MiB")
    print(f"ratio ledger score / sklearn calls: {wall / sk_calls:.2f}; / sklearn fresh process: {wall / sk_cold:.2f}")
    print(f"flat-array Brier (every forecast, no policy) for reference: {brier_score_loss(o, p):.5f}")


if __name__ == "__main__":
    main()
