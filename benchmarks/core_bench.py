"""Benchmark the ledger core: an import of 1,000,000 rows and a verify of its ledger, phase by phase.

Prints CPU and wall time of each phase (CPU is the figure to read on a shared
machine), beside DuckDB's own ``read_csv`` into a table (the import's
yardstick, run in the same minutes on the same file) and the floor the chain
contract sets: recomputing every record's hash (canonical text + SHA-256),
which an import and a verify both must do once. Then cold `ledger add`.

    python benchmarks/core_bench.py            # 100,000 questions, 1,000,000 rows
    python benchmarks/core_bench.py --small    # a quick run: 10,000 / 100,000

Aims (issue 13): import <= 2x read_csv; verify of ~1.2M records <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The import's steps as ledger.io.import_files reports them (on_progress), then what follows its last step.
IMPORT_PHASES = ("read the file's shape", "stage rows (typed read)", "check rows", "compare with the ledger",
                 "questions (+ their hashes)", "forecasts (+ their hashes)", "resolutions (+ their hashes)",
                 "seal: digests, head, commit")

# Runs in a fresh process: the import, timed between its progress steps.
IMPORT_CHILD = """
import json, sys, time
from ledger.io import import_file
from ledger.store import Store

def now():
    return time.perf_counter(), time.process_time()

store = Store.open(sys.argv[1])
marks = [now()]
import_file(store, sys.argv[2], on_progress=lambda n: marks.append(now()))
marks.append(now())
print(json.dumps([(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]))
"""

# The floor, in a fresh process on the imported ledger: every record's canonical text and hash, recomputed set-wise.
FLOOR_CHILD = """
import json, sys, time
from ledger import chain
from ledger.store import Store

def now():
    return time.perf_counter(), time.process_time()

store = Store.open(sys.argv[1], read_only=True)
floor = {}
for label, expression in (("canonical text", chain.canonical_sql), ("text + sha256", None)):
    start = now()
    for table in chain.RECORD_TABLES:
        sql = (expression(table, "r") if expression else
               chain.record_hash_sql(table, "r", chain.sql_text(chain.GENESIS)))
        store.con.execute(f"SELECT count({sql}) FROM {table} r").fetchone()
    end = now()
    floor[label] = (end[0] - start[0], end[1] - start[1])
print(json.dumps({"floor": floor, "records": store.head()[0]}))
"""

# The checks Store.verify runs, one at a time (same order), in a fresh process on the imported ledger.
VERIFY_CHILD = """
import json, sys, time
from ledger import chain, migrations
from ledger.store import Store

store = Store.open(sys.argv[1], read_only=True)
steps = [("foreign objects", lambda: migrations.foreign_objects(store.con)),
         ("record hashes recomputed", lambda: chain.first_bad_record(store.con)),
         ("commit digests and heads", lambda: chain.first_bad_commit(store.con)),
         ("orphan records", lambda: chain.first_orphan_record(store.con)),
         ("Store.verify, all of it", store.verify)]
out = []
for label, step in steps:
    a, b = time.perf_counter(), time.process_time()
    step()
    out.append((label, time.perf_counter() - a, time.process_time() - b))
print(json.dumps(out))
"""


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


def timed(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """One fresh process: its wall time, its CPU time (user + system, all its threads), its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def line(label: str, wall: float, cpu: float, note: str = "") -> None:
    print(f"  {label:<34} {wall:7.2f} s wall {cpu:7.2f} s CPU  {note}".rstrip(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10x smaller, for a quick look")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (the one with least CPU is shown)")
    options = parser.parse_args()
    rows, questions = (100_000, 10_000) if options.small else (1_000_000, 100_000)
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "forecasts.csv"
        make_csv(csv_path, rows, questions)
        env = {**os.environ, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp), "XDG_CACHE_HOME": str(tmp / "cache"),
               "LEDGER_FORECASTER": "bench"}
        print(f"{rows:,} forecast rows on {questions:,} questions; {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.1f}; least CPU of {options.runs} runs", flush=True)

        peers, imports = [], []
        for attempt in range(options.runs):  # interleaved, so both see the same load
            peer_db, ledger_db = tmp / f"peer{attempt}.duckdb", tmp / f"ledger{attempt}.duckdb"
            peers.append(timed([python, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
                                "f\"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[2]}')\")",
                                str(peer_db), str(csv_path)], env))
            imports.append(timed([python, "-c", IMPORT_CHILD, str(ledger_db), str(csv_path)], env))
        peer = min(peers, key=lambda r: r[1])
        wall, cpu, out = min(imports, key=lambda r: r[1])
        phases = json.loads(out)
        report = json.loads(timed([python, "-c", FLOOR_CHILD, str(tmp / "ledger0.duckdb")], env)[2])
        print("import (fresh process; phases in it)")
        line("duckdb read_csv into a table", peer[0], peer[1], "(the yardstick)")
        line("ledger import, whole process", wall, cpu,
             f"{wall / peer[0]:.2f}x wall, {cpu / peer[1]:.2f}x CPU of read_csv (aim: <= 2x)")
        for label, (phase_wall, phase_cpu) in zip(IMPORT_PHASES, phases, strict=True):
            line(f"  {label}", phase_wall, phase_cpu)
        print(f"the floor: {report['records']:,} records' canonical text and hash, recomputed set-wise")
        for label, (floor_wall, floor_cpu) in report["floor"].items():
            line(label, floor_wall, floor_cpu, f"{floor_cpu / peer[1]:.2f}x read_csv's CPU")

        verifies = [timed([python, "-c", VERIFY_CHILD, str(tmp / "ledger0.duckdb")], env)
                    for _ in range(options.runs)]
        wall, cpu, out = min(verifies, key=lambda r: r[1])
        print(f"verify of {report['records']:,} records (fresh process; its checks one at a time, then all)")
        line("whole process", wall, cpu)
        for label, step_wall, step_cpu in json.loads(out):
            line(f"  {label}", step_wall, step_cpu)

        add_env = {**env, "LEDGER_DB": str(tmp / "ledger0.duckdb")}
        cold = [timed([python, "-m", "ledger", "add", f"Benchmark question {i}", "-p", "0.6", "--by", "2030",
                       "-c", "as stated"], add_env) for i in range(5)]
        floor = [timed([python, "-c", "import duckdb"], env) for _ in range(5)]
        print(f"cold `ledger add` on this ledger ({questions:,} questions), median of 5")
        line("ledger add", statistics.median(r[0] for r in cold), statistics.median(r[1] for r in cold))
        line("python -c 'import duckdb'", statistics.median(r[0] for r in floor),
             statistics.median(r[1] for r in floor), "(the start-up floor)")


if __name__ == "__main__":
    main()
