"""Benchmark the ledger core: cold `ledger add` and a 1,000,000-row import.

Prints figures, with DuckDB's own `read_csv` into a table as the peer for the
import (measured in the same run, on the same file):

    python benchmarks/core_bench.py            # 100,000 questions, 1,000,000 rows
    python benchmarks/core_bench.py --small    # a quick run: 10,000 / 100,000

Aims (issue 2): add under 0.25 s on a ledger of 100,000 questions; import
within 3x of read_csv.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_csv(path: Path, rows: int, questions: int) -> None:
    import duckdb

    duckdb.sql(
        f"""
        COPY (
            SELECT 'q' || (i % {questions}) AS question_key,
                   'Question number ' || (i % {questions}) || ' resolves yes' AS statement,
                   round(random(), 2) AS probability,
                   DATE '2025-01-01' + CAST(i % {questions} % 700 AS INTEGER) AS resolve_by,
                   'forecaster' || (i % 7) AS forecaster,
                   TIMESTAMP '2024-01-01' + INTERVAL (i // {questions}) HOUR AS made_at,
                   CASE WHEN (i % {questions}) % 10 = 0 THEN NULL
                        WHEN hash(i % {questions}) % 2 = 0 THEN 'yes' ELSE 'no' END AS outcome,
                   TIMESTAMP '2025-06-01' AS resolved_at
            FROM range({rows}) t(i)
        ) TO '{path}' (FORMAT csv, HEADER true)
        """
    )


def time_call(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10x smaller, for a quick look")
    options = parser.parse_args()
    rows, questions = (100_000, 10_000) if options.small else (1_000_000, 100_000)
    ledger = [sys.executable, "-m", "ledger"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "forecasts.csv"
        make_csv(csv_path, rows, questions)
        env = {**os.environ, "LEDGER_DB": str(tmp / "bench.duckdb"), "XDG_DATA_HOME": str(tmp)}

        import duckdb

        peer_times, import_times = [], []
        for attempt in range(3):
            con = duckdb.connect(str(tmp / f"peer{attempt}.duckdb"))
            start = time.perf_counter()
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
            peer_times.append(time.perf_counter() - start)
            con.close()
        for attempt in range(3):
            run_env = {**env, "LEDGER_DB": str(tmp / f"import{attempt}.duckdb")}
            code = (
                "import sys, time; from ledger.store import Store; from ledger.io import import_file\n"
                "s = Store.open(sys.argv[1]); t = time.perf_counter(); import_file(s, sys.argv[2]);"
                " print(time.perf_counter() - t)"
            )
            out = subprocess.run([sys.executable, "-c", code, run_env["LEDGER_DB"], str(csv_path)],
                                 capture_output=True, text=True, check=True)
            import_times.append(float(out.stdout))
        peer, ours = min(peer_times), min(import_times)
        print(f"import of {rows:,} forecast rows on {questions:,} questions")
        print(f"  duckdb read_csv into a table : {peer:.3f} s  ({rows / peer:,.0f} rows/s)")
        print(f"  ledger import (validated, hashed, one transaction): {ours:.3f} s  ({rows / ours:,.0f} rows/s)")
        print(f"  ratio ledger/read_csv        : {ours / peer:.2f}x  (aim: <= 3x)")

        env["LEDGER_DB"] = str(tmp / "import0.duckdb")
        cold = [time_call([*ledger, "add", f"Benchmark question {i}", "-p", "0.6", "--by", "2030"], env) for i in range(7)]
        baseline = [time_call([sys.executable, "-c", "pass"], env) for _ in range(7)]
        print(f"cold `ledger add` on a ledger of {questions:,} questions ({rows:,} forecasts)")
        print(f"  median {statistics.median(cold):.3f} s, min {min(cold):.3f} s  (aim: < 0.25 s)")
        print(f"  of which bare python start-up: median {statistics.median(baseline):.3f} s")


if __name__ == "__main__":
    main()
