"""Benchmark the team ledger: PostgreSQL against a local DuckDB file, on the same data, in one run.

Prints, for each engine, and PostgreSQL's figure as a ratio of DuckDB's:

* ``ledger add`` latency (median and worst, each a fresh process as a user
  types it) and throughput (commits per second) with 1, 4 and 16 writers
  adding at once; every commit must land and ``ledger verify`` must pass;
* ``ledger score --json`` on 1,000,000 forecasts (100,000 questions) held
  in PostgreSQL and in a local DuckDB file: the first run after the import
  (on PostgreSQL it reads every row and fills the laptop's cache) and the
  best of 3 more (fresh processes, reading the cache and the server's digests);
* ``ledger import`` of those forecasts (one commit, COPY to the server).

PostgreSQL is a throwaway cluster started here (tests/pg_server.py, fsync on,
unix socket in its own temp folder), stopped and removed at the end:

    python benchmarks/team_bench.py            # 1,000,000 forecasts
    python benchmarks/team_bench.py --small    # 100,000, for a quick look

The laptop's cache and every other per-user file go to the temp folder
(``$HOME`` and ``$XDG_DATA_HOME`` point there), never the real home.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from pg_server import Cluster, find_bin_dir  # noqa: E402
from score_bench import generate, write_parquet  # noqa: E402

LEDGER = [sys.executable, "-m", "ledger"]
WRITERS = (1, 4, 16)


def ledger(db: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run one `ledger` command against ``db`` in a fresh process, as a user would."""
    env = dict(os.environ, LEDGER_DB=db, LEDGER_FORECASTER="bench", LEDGER_BUSY_TIMEOUT="120")
    result = subprocess.run([*LEDGER, *args], env=env, capture_output=True, text=True)
    if check and result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}")
    return result


def timed(db: str, *args: str) -> float:
    start = time.perf_counter()
    ledger(db, *args)
    return time.perf_counter() - start


def timed_add(db: str, n: int) -> float:
    return timed(db, "add", f"Benchmark question {n} resolves yes", "-p", "40%", "--by", "2030-01-01", "-c", "as stated")


def writers_run(db: str, writers: int, adds_each: int) -> dict[str, float]:
    """``writers`` concurrent writers, each adding ``adds_each`` questions one process at a time."""
    def one_writer(w: int) -> list[float]:
        return [timed_add(db, w * adds_each + i) for i in range(adds_each)]

    start = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        latencies = sorted(t for times in pool.map(one_writer, range(writers)) for t in times)
    wall = time.perf_counter() - start
    ledger(db, "verify")
    return {"median": statistics.median(latencies), "max": latencies[-1], "per_s": len(latencies) / wall}


def measure(db: str, parquet: Path, adds: int) -> dict:
    """Every figure for one engine (an initialised ledger); each write run starts from the ledger the previous left."""
    figures = {"writers": {w: writers_run(db, w, max(1, adds // w)) for w in WRITERS}}
    figures["import"] = timed(db, "import", str(parquet))
    figures["score first"] = timed(db, "score", "--json")
    figures["score"] = min(timed(db, "score", "--json") for _ in range(3))
    return figures


def pg_missing(cluster: Cluster, dbname: str) -> str | None:
    """Why PostgreSQL cannot be measured (None if it can): `ledger init` must create the schema in the server.

    Asked of the server itself, since a `ledger` without the backend would take
    the URL for a file name (created in the temp folder this script runs in).
    """
    result = ledger(cluster.url(dbname), "init", check=False)
    if cluster.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'commits'", dbname=dbname) == "1":
        return None
    said = result.stderr.strip().splitlines()
    return f"`ledger init --db <url>` created no ledger in the server ({said[-1] if said else 'it said nothing'})"


def report(duck: dict, pg: dict | None) -> None:
    def ratio(a: float, b: float) -> str:
        return f"x{a / b:.2f}" if pg else ""

    print(f"{'':28s}{'DuckDB file':>14s}{'PostgreSQL':>14s}{'PG / DuckDB':>13s}")
    for w in WRITERS:
        d, p = duck["writers"][w], pg["writers"][w] if pg else None
        for key, label, unit in (("median", "add latency median", "s"), ("max", "add latency max", "s"),
                                 ("per_s", "throughput", "/s")):
            shown = f"{p[key]:.3f}{unit}" if p else "-"
            print(f"{f'{w:2d} writers {label}':28s}{f'{d[key]:.3f}{unit}':>14s}{shown:>14s}"
                  f"{ratio(p[key], d[key]) if p else '':>13s}")
    for key, label in (("import", "import"), ("score first", "score --json first"), ("score", "score --json best of 3")):
        local, shown = f"{duck[key]:.3f}s", f"{pg[key]:.3f}s" if pg else "-"
        print(f"{label:28s}{local:>14s}{shown:>14s}{ratio(pg[key], duck[key]) if pg else '':>13s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100,000 forecasts and fewer adds, for a quick look")
    options = parser.parse_args()
    questions, forecasts, adds = (10_000, 100_000, 16) if options.small else (100_000, 1_000_000, 64)
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries found: install Debian's postgresql or set LEDGER_PG_BIN")
    with tempfile.TemporaryDirectory(prefix="team_bench_") as tmp:
        tmp = Path(tmp)
        parquet = tmp / "forecasts.parquet"
        write_parquet(parquet, *generate(questions, forecasts))
        print(f"data: {forecasts:,} forecasts on {questions:,} questions; {adds} adds per writer count")
        os.chdir(tmp)
        os.environ.update(HOME=str(tmp), XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"))
        local = str(tmp / "ledger.duckdb")
        ledger(local, "init")
        duck = measure(local, parquet, adds)
        cluster = Cluster(bin_dir, fsync=True).start()
        try:
            dbname = cluster.create_database()
            missing = pg_missing(cluster, dbname)
            pg = None if missing else measure(cluster.url(dbname), parquet, adds)
        finally:
            cluster.stop()
            os.chdir(HERE)
        if missing:
            print(f"PostgreSQL: not measured: {missing}")
        report(duck, pg)


if __name__ == "__main__":
    main()
