"""Every row of issue 13's table in one go: each figure, its yardstick, the ratio, the aim, peak memory.

    python benchmarks/run_all.py            # the issue's sizes: 1,000,000 forecasts on 100,000 questions,
                                            # a 1,000,000-question ledger for `list`
    python benchmarks/run_all.py --small    # ten times smaller, a few minutes
    python benchmarks/run_all.py --only list,verify --keep /tmp/bench   # some rows; reuse the ledgers

Every command runs as a user runs it, in a fresh process (start-up and imports
count); its wall time and that process's own peak RSS (GNU ``/usr/bin/time``) are
printed. The ledgers are built once (``ledger import`` of generated files,
the same generator as ``score_bench.py``) and reused with ``--keep``. Runs
that would take far too long stop at ``--timeout`` seconds and say so.

Figures, 3 December 2026, the 2-core machine shared with other agents (load 2-7), so wall times
run high; ``list`` rows on 1,000,000 questions (``--only list --runs 1``), after `list` was paged
and streamed: a screen (``--limit 50``) 3.70 s, 554 MiB; ``--csv`` 31.3 s, 2,142 MiB; ``--json``
38.4 s, 2,295 MiB (issue 13's before: 433 s and 6.6 GB for the table, ``--csv`` 68 s and 5.0 GB).
Python holds one chunk of rows; the rest is DuckDB evaluating the views: the ``forecasts`` view
joins the whole ``questions`` view (for ``backfilled``), and no filter on question ids reaches
through it, so even a 50-id page costs ~2.8 s there. After migration 0004 (forecasts from the record tables),
the page chosen in one pass and list_sort (branch `listing`, load 0.6, one run): a screen 2.41 s, 431 MiB;
``--csv`` 22.7 s, 1,817 MiB; ``--json`` 15.3 s, 1,992 MiB; cold ``add`` on 100,000 questions 1.03 s, 3.32x the
import floor (before: 4.75x). The screen is one pass of the questions view (its joins take no id filter).
Listing round 3 (load 7-10, so CPU is the figure to read): a screen of 1,000,000 questions, its page a
min_by kept while the view streams past instead of a window over every row: peak 430-441 -> 255-272 MiB,
CPU 2.7-3.1 -> 2.5-2.9 s (same bytes); cold ``add`` CPU 1.12 -> 1.05 s beside ``import duckdb``'s 0.33 s
(3.4x -> 3.2x; pydantic's import and model build are most of the rest). ``verify`` on 1,500,000 records, quiet: 5.2 s
(records 3.6 s, of which sha256 ~2 s; commits 1.0 s; the foreign-object check 0.56 s, fixed).
After the ingest branch (same day, load ~2, one run each, main and branch side by side on one 1,000,000-row
CSV): ``import`` 14.96 s -> 10.13 s (read_csv beside it 1.36 s warm; run_all's own row said 13.11 s against
2.13 s), ``verify`` of the 1,200,000 records 4.63 s -> 3.87 s (peak RSS 462 -> 646 MiB: the commit digests'
chunks pass through Python). Single-threaded CPU of an import, by phase: read_csv into typed rows 3.7 s,
the record hashes (to_json + sha256, ~2.4 us a record in DuckDB) ~3.5 s, question grouping 1.3 s, checks
1.3 s, commit 2.0 s: the hash the chain contract asks for alone is above 2x read_csv.
``demo`` (best of 3; main and branch `demo` run in turn at load ~9): main 18.3 s, 7.75 s CPU; after the Writer
kept its questions' state in memory and the history was written in one batch (``Store.batch``), 10.1 s, 4.02 s
CPU (quiet, before: 6.95 s, 7.06 s CPU). In one process, CPU by phase: history writes 3.77 -> 0.18 s, copy into
the file 0.13 s, imports ~0.35 s; the rest, ~3.3 s, is the report (scoring passes ~2/3, question pages ~1/3).
Ingest, round 3 (3 December, the machine loaded by the other helpers: wall times are not comparable across runs,
the ratio to read_csv run beside it is): ``import`` 23.49 s against read_csv 2.68 s (8.78x, 934 MiB, load ~2) ->
33.80 s against 5.47 s (6.18x, 639 MiB, load ~8.5); ``verify`` 6.06 s, 624 MiB (load ~2) -> 10.18 s, 238 MiB
(load ~8.5). The commit digests aggregate a span of 131,072 seqs at a time: that step alone 598 -> 202 MiB
(it was the peak of both commands). Interleaved CPU A/B of the forecast append (1M rows): 4.3-4.4 -> 3.5-3.8 CPU s
(seqs from a streaming row_number, no sort); the comparison with an empty ledger (0.4-0.6 CPU s) is gone. The
floor: DuckDB's sha256 is software, ~2.4 CPU us a 270-byte record (hashlib with SHA-NI in a Python loop: ~1.4,
mostly the loop), so an import's ~1.2M record hashes (to_json ~0.9 + sha256 ~2.4 CPU s) already cost ~2x
read_csv's whole CPU (1.36 s), and the same hashes are ~3 of verify's ~4.2 CPU s.
After the scoring branch (same day, load 6-9, so CPU beside wall): a score remembers a full verify of an
unchanged ledger file (ledger.verified). ``score --json`` on 1,000,000 forecasts, one run: the first score
of the file (full verify) 20.69 s wall, 9.05 s CPU; later ones 10.75 s wall, 4.22 s CPU (1.44x the sklearn
script, itself 7.45 s on that load; an earlier run at load 9: 8.66 s -> 3.70 s CPU). ``--small``: before
2.43 s (1.07x, load 3.4); after, load 6-9, first 3.07 s CPU, later 2.19 s CPU. ``--by source`` is unchanged:
2,000 groups 57 ms CPU a group at full size (--small 14.7 before, 18.3 after, on heavier load); its cost is
per (group, distinct value) cell, 1000 binomial draws and PAV refits each (PAV ~65%, the draws ~20%).
Ingest, session 24 (4 December, load 8-12 throughout, so CPU is the figure; ``core_bench.py`` prints each phase):
an import of 1,000,000 rows is 5.0-5.3 CPU s against read_csv's 1.0-1.1 (4.7-5.1x CPU), main and branch alike;
by phase (CPU s): typed read 1.3-1.4, checks 0.4, questions 0.4, forecasts 1.8, resolutions 0.15, seal 0.65
(digests 0.3). The contract's floor, measured beside it: 1,190,000 records' canonical text + sha256 1.16-1.25 CPU s
(text alone 0.27), i.e. >= 1.1x read_csv's whole CPU before a row is read or written; with start-up, the typed
read and the table writes the floor is ~3.5 CPU s, ~3.3x read_csv, so <= 2x is out of reach while DuckDB's
software SHA-256 (~0.8 CPU us a record) is the hash (a Python UDF with hashlib's SHA-NI: 0.96 vs 1.09 CPU s, but
single-threaded under the GIL). The typed read ran on one thread (a streaming ``row_number() OVER ()``; per-thread
CPU 1.31 + 0.03 s); numbered by rowid, one table a file, it runs on both (0.53 + 0.51 s). Not merged: a wall gain
only where two cores are free (6 interleaved --small imports at load 10-12: 7.66 -> 6.98 s mean, CPU 1.06 -> 1.05),
and the 1M import's peak RSS went 255 -> 583 MiB in run_all's one run each (branch ``ingest``, 2c5adc2). ``verify``
of 1.2M records: 1.66 CPU s in-process, of which recomputed hashes 1.30 (the floor) and commit digests 0.31, so
<= 3 s holds with a free core (run_all at load 9: 5.30 s); one pass recomputing and aggregating together was
slower (1.67-1.74 -> 1.81-1.84 CPU s) and was dropped.
Scoring round 4 (4 December, load 7-11, CPU the figure to read): every group of a breakdown now draws the seeded
stream afresh (its figures are those it has scored alone); a cell of one effective forecast draws a uniform
below x, and a group of at most 256 pairs draws pair indices, instead of numpy's binomial and multinomial
(~30-40 ns a draw). ``score(con, by="source")`` in one process on the groups bench's ledger (100,000 forecasts,
2,000 sources, 67,670 cells), interleaved, 6 runs each: main 9.5-10.4 s CPU, branch 7.8-8.7 s (the draws 2.18 ->
0.93 s, the pair bootstrap 1.04 -> 0.18 s; PAV ~4.6 s and the band's quantiles ~0.9 s unchanged, now ~70% of
it). ``score_groups_bench.py`` (fresh processes, best of 2, two rounds): source 8.81-9.42 -> 8.65-8.69 s CPU,
author 3.87-4.19 -> 3.83-4.26, tag ~1.5 both. ``score --json`` at 1,000,000 unchanged (1.74-1.79 vs
1.66-1.77 s CPU, 1.19-1.42x the sklearn script at load ~9): in one process 1.22 s CPU, of which the selection
0.83 (the rows window 0.45, pairs 0.13, candidates 0.11), three bootstraps 0.2; the process adds ~0.3.
Listing round 4 (4 December, load 5-10, main and branch `listing` interleaved, user+sys CPU of the whole
process, two rounds): migration 0005 keeps each question's current state in ``question_state`` (refreshed by
every write, checked by verify) and a page is chosen as ids. A screen of 1,000,000 questions 1.02-1.13 ->
0.73-0.87 CPU s (in-process ``question_page``: 0.80-0.90 -> 0.44-0.54 s); ``--csv`` 10.9-12.0 -> 10.6-11.7 and
``--json`` 7.9-8.5 -> 8.2-8.8 CPU s, 1.8-2.0 GB both sides: unchanged, their cost is the forecasts grouped per
question (a pass per 50,000 questions cut the peak to 600 MiB but tripled the CPU: reverted). Cold ``add`` on
100,000 questions: 0.26-0.36 -> 0.31-0.38 CPU s (the refresh, ~11 CPU ms in-process) beside ``import duckdb``'s
0.08-0.11; its rest is typer ~65 ms, pydantic ~55, DuckDB's connect ~20 and close ~11. Run these with
PYTHONDONTWRITEBYTECODE unset: with it set, every module is compiled on every run (~0.1 s of a cold ``add``).
Extraction, issue 16's fifth round (4 December, load 3-5, main and branch `extract` in turn, twice each,
``extract_eval.timing``, best of 3 fresh processes): 5,205 words including imports and model load, main 1.92 /
1.95 s, branch 1.82 / 1.89 s (yardstick spaCy load + parse 1.45-1.64 s; ratio 1.17-1.32 on both; aim 3 s);
the retrained detector.json is 279 KiB (242 before).
Report branch, 4 December (main and branch back to back from /tmp, one run each, load 3-14, so CPU beside wall):
a republish makes only the question pages and records files whose inputs changed (digests of their record hashes),
reuses unchanged side-file rows as text, and trusts a remembered verify. 100,000 forecasts, nothing changed: main
5.3-6.1 s wall, 5.0-5.3 s CPU, 396-410 MiB -> 2.3-3.7 s, 2.4-2.7 s CPU, 250 MiB; first publish unchanged (6.8 s,
~6.6 s CPU). 1,000,000 forecasts: nothing changed, main 110-122 s wall, 35-38 s CPU, 1.41 GB -> 8.5-9.4 s, 9.2 s CPU,
1.06-1.13 GB; one question more (an existing forecaster, the file verified before), main 40.9 s, 38.7 s CPU ->
10.8 s, 11.2 s CPU; first publish unchanged (52-61 s wall, ~37 s CPU). What is left of a republish at 1M is the four
scoring passes (~70%, Selection temp tables the most) and the questions view pass of the page digests (~2.5 s).
Report round 2 (4 December, load 2-8, main and branch `report2` in turn from /tmp): a site makes one selection;
each forecaster's pass scores its part of it (``Scored.narrowed``: its rows a view, its pairs a filtered table; the
same figures to 1e-12), corrections are filtered from the overview's, every forecaster's status counts come from one
pass. In-process ``collect_site`` (the scoring passes, 3 forecasters; process CPU): 100,000 forecasts 1.55-1.64 ->
1.27-1.28 s warm, 1.74-2.27 -> 1.70-1.94 s cold; 1,000,000 5.72-7.21 -> 3.80-4.65 s. A whole first publish
(``ledger report`` under GNU time): 100,000 main 5.1-5.3 s CPU -> 4.7-5.0; 1,000,000 (two runs each) 40.2 / 32.9 s
CPU, 46.9 / 33.4 s wall -> 35.4 / 31.4 s CPU, 43.3 / 36.4 s wall. The run_all row (wall) moved within its noise
(7.0-8.5 s both). Main's published floats already differ in the last digits run to run (DuckDB's threaded sums).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import SKLEARN_CHILD, generate, write_parquet  # noqa: E402  (one generator for every bench)

LEDGER = [sys.executable, "-m", "ledger"]
ROWS = ("add", "list", "import", "score", "verify", "report", "demo", "groups")


@dataclass
class Run:
    wall: float
    rss: float  # MiB, this process alone
    cpu: float
    out: str
    timed_out: bool = False


def run(args: list[str], env: dict, *, timeout: float, stdout=None) -> Run:
    """One fresh process: wall time, its own peak RSS and CPU time; killed after ``timeout`` seconds.

    Memory and CPU are GNU time's (``/usr/bin/time``): a child forked from this script would count
    this script's own pages (the generated arrays) in its peak RSS.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as usage:
        proc = subprocess.Popen(["/usr/bin/time", "-q", "-o", usage.name, "-f", "%M %U %S", *args], env=env,
                                stdout=stdout or out, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # time and the command it runs
            proc.communicate()
            return Run(time.perf_counter() - start, 0.0, 0.0, "", timed_out=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, args))} failed: {err.decode()}")
        rss, user, system = usage.read().split()[-3:]
        out.seek(0)
        return Run(wall, int(rss) / 1024, float(user) + float(system), out.read().decode(errors="replace"))


def best(args: list[str], env: dict, *, runs: int, timeout: float) -> Run:
    """The fastest of ``runs`` runs (a shared machine only ever slows a run down)."""
    results = [run(args, env, timeout=timeout) for _ in range(runs)]
    return min(results, key=lambda r: (r.timed_out, r.wall))


class Table:
    """The report: one line a figure, printed as it is measured (a long run shows progress)."""

    def __init__(self) -> None:
        print(f"{'row':<44} {'figure':>10} {'yardstick':>22} {'ratio':>7} {'aim':>22} {'peak MiB':>9}", flush=True)

    def line(self, row: str, r: Run, *, yardstick: tuple[str, float] | None = None, aim: str = "",
             note: str = "") -> None:
        figure = "timeout" if r.timed_out else f"{r.wall:.2f} s"
        stick = f"{yardstick[0]} {yardstick[1]:.2f} s" if yardstick else "–"
        ratio = f"{r.wall / yardstick[1]:.2f}x" if yardstick and not r.timed_out else "–"
        print(f"{row:<44} {figure:>10} {stick:>22} {ratio:>7} {aim:>22} {r.rss:>9.0f}" + (f"  {note}" if note else ""),
              flush=True)


def build(path: Path, source: Path, env: dict, *, timeout: float) -> Run:
    """A ledger from an import file (the import is itself a row of the table)."""
    if path.exists():
        path.unlink()
    return run([*LEDGER, "import", str(source)], {**env, "LEDGER_DB": str(path)}, timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="ten times smaller sizes, for a quick run")
    parser.add_argument("--only", default=",".join(ROWS), help=f"comma-separated rows: {', '.join(ROWS)}")
    parser.add_argument("--keep", type=Path, help="a folder to keep (and reuse) the ledgers in")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timed command (best is shown)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a command is given up")
    options = parser.parse_args()
    only = set(options.only.split(","))
    scale = 10 if options.small else 1
    questions, forecasts, list_questions = 100_000 // scale, 1_000_000 // scale, 1_000_000 // scale
    work = options.keep or Path(tempfile.mkdtemp(prefix="ledger_run_all_"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
           "NO_COLOR": "1", "LEDGER_FORECASTER": "bench"}
    # Commands run as from an install, whose modules pip compiled: with PYTHONDONTWRITEBYTECODE set (as on
    # this workplace's machines) a checkout's would be compiled again by every process, ~0.1 s of a cold add.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    timeout, runs = options.timeout, options.runs
    print(f"sizes: {forecasts:,} forecasts on {questions:,} questions; `list` on {list_questions:,} questions; "
          f"best of {runs}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)

    import duckdb
    import numpy as np

    # One record of forecasts (question k's source is k mod 2000: `score --by source` has thousands of groups),
    # written as CSV: the import row's yardstick is DuckDB's read_csv of the same file.
    main_csv, main_db = work / f"forecasts-{forecasts}.csv", work / f"forecasts-{forecasts}.duckdb"
    q, forecaster, p, outcome, made_at, resolved_at = generate(questions, forecasts)
    sources = min(2000, questions // 5)
    if not main_csv.exists():
        parquet = work / "forecasts.parquet"
        write_parquet(parquet, q, forecaster, p, outcome, made_at, resolved_at,
                      source_title=np.char.add("Source ", (q % sources).astype(str)))
        duckdb.sql(f"COPY (SELECT * FROM '{parquet}') TO '{main_csv}' (FORMAT csv, HEADER true)")
    table = Table()

    if "import" in only or not main_db.exists():
        imported = build(main_db, main_csv, env, timeout=timeout)
        peer_db = work / "peer.duckdb"
        peer_db.unlink(missing_ok=True)
        peer = run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
                    "f\"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[2]}')\")", str(peer_db), str(main_csv)],
                   env, timeout=timeout)
        table.line(f"ledger import {forecasts:,} rows (CSV)", imported, yardstick=("read_csv", peer.wall),
                   aim="<= 2x")
    env["LEDGER_DB"] = str(main_db)

    if "add" in only:
        copy = work / "add.duckdb"
        shutil.copyfile(main_db, copy)
        add_env = {**env, "LEDGER_DB": str(copy)}
        adds = [run([*LEDGER, "add", f"Benchmark question {i}", "-p", "0.6", "--by", "2030", "-c", "as stated"],
                    add_env, timeout=timeout) for i in range(max(runs, 5))]
        floor = [run([sys.executable, "-c", "import duckdb"], env, timeout=timeout) for _ in range(max(runs, 5))]
        median = Run(statistics.median(r.wall for r in adds), max(r.rss for r in adds), 0.0, "")
        table.line(f"cold ledger add, {questions:,}-question ledger (median)", median,
                   yardstick=("import duckdb", statistics.median(r.wall for r in floor)), aim="<= 1.5x")

    if "list" in only:
        list_csv, list_db = work / f"questions-{list_questions}.csv", work / f"questions-{list_questions}.duckdb"
        if not list_db.exists():
            record = generate(list_questions, list_questions, seed=2)
            parquet = work / "questions.parquet"
            write_parquet(parquet, *record)
            duckdb.sql(f"COPY (SELECT * FROM '{parquet}') TO '{list_csv}' (FORMAT csv, HEADER true)")
            build(list_db, list_csv, env, timeout=timeout)
        list_env = {**env, "LEDGER_DB": str(list_db)}
        command = [*LEDGER, "list", "--status", "resolved"]
        table.line(f"list --status resolved, {list_questions:,} q: a screen", best(
            [*command, "--limit", "50"], list_env, runs=runs, timeout=timeout), aim="<= 1 s")
        for form in ("--csv", "--json"):
            with open(os.devnull, "w") as sink:
                r = run([*command, form], list_env, timeout=timeout, stdout=sink)
            table.line(f"list --status resolved {form}, {list_questions:,} q", r, aim="<= 10 s, <= 300 MiB")

    if "score" in only:
        arrays = work / "flat.npz"
        np.savez(arrays, p=p, o=outcome[q].astype(np.int64))
        # The first score of the file verifies it in full; later ones find that verify remembered (ledger.verified).
        shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
        first = run([*LEDGER, "score", "--json"], env, timeout=timeout)
        ours = best([*LEDGER, "score", "--json"], env, runs=runs, timeout=timeout)
        sk = best([sys.executable, "-c", SKLEARN_CHILD, str(arrays)], env, runs=runs, timeout=timeout)
        table.line("score --json, first (full verify)", first, yardstick=("sklearn script", sk.wall),
                   aim="<= 0.6x", note=f"CPU {first.cpu:.2f} s")
        table.line(f"score --json, {forecasts:,} f on {questions:,} q", ours, yardstick=("sklearn script", sk.wall),
                   aim="<= 0.6x", note=f"CPU {ours.cpu:.2f} s")

    if "groups" in only:
        base = best([*LEDGER, "score", "--json"], env, runs=runs, timeout=timeout)
        grouped = best([*LEDGER, "score", "--json", "--by", "source"], env, runs=runs, timeout=timeout)
        per_group = (grouped.cpu - base.cpu) / sources * 1000
        table.line(f"score --json --by source ({sources:,} groups)", grouped, yardstick=("score --json", base.wall),
                   aim="linear in forecasts", note=f"{per_group:.2f} ms CPU a group above the yardstick")

    if "verify" in only:
        r = best([*LEDGER, "verify"], env, runs=runs, timeout=timeout)
        table.line(f"verify ({r.out.split()[1] if r.out else '?'} records)", r, aim="<= 3 s")

    if "report" in only:
        out = work / "report"
        shutil.rmtree(out, ignore_errors=True)  # the first report writes every page; the second only what changed
        for label in ("report", "report again, nothing changed"):
            r = run([*LEDGER, "report", "--out", str(out), "--force"], env, timeout=timeout)
            index = out / "index.html"
            pages = len(list((out / "q").glob("???.html")))  # a page per id prefix of the questions
            size = (f"index.html {index.stat().st_size / 1e6:.2f} MB, {pages:,} question pages"
                    if index.exists() and not r.timed_out else "")
            table.line(f"{label}, {forecasts:,} forecasts", r, aim="<= 3 s, index <= 2 MB", note=size)

    if "demo" in only:
        demo_home = work / "demo-home"
        shutil.rmtree(demo_home, ignore_errors=True)
        demo_home.mkdir()
        demo_env = {**env, "HOME": str(demo_home), "XDG_DATA_HOME": str(demo_home / "data")}
        demo_env.pop("LEDGER_DB")
        # each run rebuilds the demo ledger it made the run before, as a user's second run does
        r = best([*LEDGER, "demo", "--out", str(demo_home / "site")], demo_env, runs=runs, timeout=timeout)
        table.line("ledger demo", r, aim="<= 3 s", note=f"CPU {r.cpu:.2f} s")

    if options.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
