"""`ledger import`: zones converted, defaults never override a row, peers' exports detected, nothing doubled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ledger_bytes
from tests.terminal import run_on_a_terminal

PEERS = Path(__file__).parent / "data" / "peers"


def _write(tmp_path, name, data: str | bytes):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_offsets_and_epochs_are_converted_to_utc_and_naive_times_are_utc(cli, tmp_path):
    path = _write(tmp_path, "zones.csv", "statement,probability,resolve_by,made_at\n"
                  "A,0.5,2030-01-01,2024-01-01T10:00:00-05:00\nB,0.5,2030-01-01,2024-01-01 10:00:00\n"
                  "C,0.5,2030-01-01,1704103200\nD,0.5,2030-01-01,1704103200000\n")
    cli("import", path)
    made = {q["statement"]: q["forecasts"][0]["made_at"] for q in cli.json("list", "--status", "all")}
    assert made == {"A": "2024-01-01T15:00:00Z", "B": "2024-01-01T10:00:00Z",
                    "C": "2024-01-01T10:00:00Z", "D": "2024-01-01T10:00:00Z"}


def test_a_default_never_replaces_a_rows_unreadable_date(cli, tmp_path, db_path):
    path = _write(tmp_path, "dates.csv", "statement,probability,resolve_by\nA,0.5,\nB,0.5,12/31/2022\n")
    result = cli("import", path, "--resolve-by", "2021-12-31", ok=False)
    assert result.exit_code == 1
    assert "dates.csv line 3: resolve_by '12/31/2022' is not a date" in result.stderr
    assert ledger_bytes(db_path) == b""


def test_a_windows_1252_file_is_read_and_said(cli, tmp_path):
    path = _write(tmp_path, "excel.csv", "statement;probability;resolve_by\ncaf\u00e9 \u2013 ok;0,3;2030-01-01\n"
                  .replace("0,3", "0.3").encode("cp1252"))
    result = cli("import", path)
    assert "read as Windows-1252" in result.stderr
    assert [q["statement"] for q in cli.json("list")] == ["caf\u00e9 \u2013 ok"]


def test_fatebook_export_is_detected_and_said(cli):
    result = cli("import", PEERS / "fatebook-forecasts.csv")
    assert "as a Fatebook export (detected" in result.stderr
    assert cli.json("list", "--status", "all")


def test_reimport_is_refused_or_skipped_and_dry_run_writes_nothing(cli, tmp_path, db_path):
    path = _write(tmp_path, "a.csv", "statement,probability,resolve_by,made_at\nA,0.5,2030-01-01,2024-01-01\n")
    cli("import", path)
    before = ledger_bytes(db_path)
    refused = cli("import", path, ok=False)
    assert refused.exit_code == 1 and "a.csv line 2: already in the ledger" in refused.stderr
    assert refused.stderr.count("\n") == 1 and ledger_bytes(db_path) == before
    assert "skipped 1 already in the ledger" in cli("import", path, "--skip-existing").stderr
    other = _write(tmp_path, "b.csv", "statement,probability,resolve_by\nB,0.5,2030-01-01\n")
    assert "would import 1 forecasts" in cli("import", other, "--dry-run").stderr
    assert ledger_bytes(db_path) == before


def test_dry_run_on_no_ledger_creates_none(cli, tmp_path, db_path):
    path = _write(tmp_path, "a.csv", "statement,probability,resolve_by\nA,0.5,2030-01-01\n")
    assert "would import 1 forecasts" in cli("import", path, "--dry-run").stderr
    assert not db_path.exists()


def test_map_reads_a_column_as_ours_and_an_unmapped_one_is_named(cli, tmp_path):
    path = _write(tmp_path, "acx.csv", "statement,probability,resolve_by,category,extra\n"
                  "A,0.5,2030-01-01,politics,x\nB,0.5,2030-01-01,us;economy,y\n")
    result = cli("import", path, "--map", "category=tags")
    assert "acx.csv: column extra not imported" in result.stderr
    assert "column category" not in result.stderr
    assert {q["statement"]: q["tags"] for q in cli.json("list")} == {"A": ["politics"], "B": ["us", "economy"]}


def test_an_unknown_column_is_warned_about_by_name(cli, tmp_path):
    path = _write(tmp_path, "acx.csv", "statement,probability,resolve_by,Category\nA,0.5,2030-01-01,politics\n")
    result = cli("import", path)
    assert "acx.csv: column category not imported" in result.stderr
    assert "--map category=COLUMN" in result.stderr
    assert cli.json("list")[0]["tags"] == []


def test_map_of_a_column_no_file_has_is_refused(cli, tmp_path, db_path):
    path = _write(tmp_path, "a.csv", "statement,probability,resolve_by\nA,0.5,2030-01-01\n")
    result = cli("import", path, "--map", "topic=tags", ok=False)
    assert result.exit_code == 1 and "--map topic=tags: no file has a column 'topic'" in result.stderr
    assert not db_path.exists()


@pytest.mark.parametrize(("name", "delimiter"), [("sheet.tsv", "\t"), ("excel.csv", ";"), ("tabs.csv", "\t")])
def test_tab_and_semicolon_files_are_read(cli, tmp_path, name, delimiter):
    rows = [["statement", "probability", "resolve_by", "note"], ["A, with a comma", "0.25", "2030-01-01", "n1"],
            ["B", "0.75", "2031-06-30", ""]]
    text = "".join(delimiter.join(cells) + "\n" for cells in rows)
    cli("import", _write(tmp_path, name, text))
    got = {q["statement"]: (q["forecasts"][0]["probability"], q["resolve_by"]) for q in cli.json("list")}
    assert got == {"A, with a comma": (0.25, "2030-01-01"), "B": (0.75, "2031-06-30")}


def test_a_dash_reads_stdin(cli):
    result = cli("import", "-", input="statement,probability,resolve_by\nFrom a pipe,0.4,2030-01-01\n")
    assert "from stdin" in result.stderr
    assert [q["statement"] for q in cli.json("list")] == ["From a pipe"]


def test_export_takes_its_format_from_the_extension(cli, tmp_path):
    cli("add", "A", "-p", "0.5", "--by", "2030", "-c", "c")
    cli("export", "-o", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().startswith("question_key,statement,")


def test_zone_aware_parquet_is_the_same_instant_under_any_tz(cli, tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datetime import datetime, timedelta, timezone

    made = datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=-5)))
    table = pa.table({"statement": ["A"], "probability": [0.5], "resolve_by": ["2030-01-01"],
                      "made_at": pa.array([made], pa.timestamp("us", tz="America/New_York"))})
    pq.write_table(table, tmp_path / "z.parquet")
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        monkeypatch.setenv("TZ", zone)
        import time
        time.tzset()
        monkeypatch.setenv("LEDGER_DB", str(tmp_path / f"{zone.replace('/', '-')}.duckdb"))
        cli("import", tmp_path / "z.parquet")
        assert cli.json("list")[0]["forecasts"][0]["made_at"] == "2024-01-01T15:00:00Z", zone
    monkeypatch.delenv("TZ")
    time.tzset()


def test_a_message_names_the_physical_line_after_a_multiline_cell(cli, tmp_path):
    path = _write(tmp_path, "multi.csv", 'statement,probability,resolve_by,note\nA,0.5,2030-01-01,"one\ntwo\nthree"\n'
                  "B,abc,2030-01-01,\n")
    result = cli("import", path, ok=False)
    assert "multi.csv line 5: probability 'abc'" in result.stderr


# Each peer's export as that peer writes it, through `ledger import` with no --from: the format
# it detects, then questions (all, resolved, annulled), forecasts, forecasters and the first and
# last moment a forecast was made, in UTC, as the fixtures state them.
PEER_FILES = [
    ("fatebook-forecasts.csv", "a Fatebook export", (6, 4, 1), (8, 2), ("2024-01-03 09:15:07", "2024-05-20 08:00:00")),
    ("predictionbook-my_predictions.json", "a PredictionBook export", (4, 2, 1), (5, 2),
     ("2019-03-02 08:15:00", "2023-11-01 10:00:00")),
    ("pb-dump/predictions.csv", "a PredictionBook export", (3, 2, 0), (4, 2), ("2019-03-02 08:15:00", "2023-11-01 10:00:00")),
    ("metaculus-download.zip", "a Metaculus export", (3, 2, 1), (10, 4), ("2023-11-20 21:05:33", "2024-03-10 19:30:00")),
    ("metaculus-posts.json", "a Metaculus export", (2, 2, 0), (5, 2), ("2023-11-20 21:05:33", "2024-03-10 19:30:00")),
    ("manifold/manifold-contracts-20250101.json", "a Manifold export", (5, 3, 2), (12, 1),
     ("2024-01-01 01:00:00", "2024-10-27 00:00:00")),
    ("cultivate/questions.json", "a Good Judgment Open / Cultivate export", (3, 2, 1), (8, 3),
     ("2018-01-20 10:00:00", "2018-01-28 19:02:11")),
]


@pytest.mark.parametrize(("name", "says", "questions", "forecasts", "made"), PEER_FILES, ids=[p[0] for p in PEER_FILES])
def test_each_peers_export_imports_as_written(cli, name, says, questions, forecasts, made):
    result = cli("import", PEERS / name)
    assert f"as {says} (detected)" in result.stderr
    counts = cli.json("sql", "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'resolved') AS r, "
                      "count(*) FILTER (WHERE status = 'annulled') AS a FROM questions")[0]
    assert (counts["n"], counts["r"], counts["a"]) == questions
    row = cli.json("sql", "SELECT count(*) AS n, count(DISTINCT forecaster) AS who, strftime(min(made_at), "
                   "'%Y-%m-%d %H:%M:%S') AS first, strftime(max(made_at), '%Y-%m-%d %H:%M:%S') AS last FROM forecasts")[0]
    assert (row["n"], row["who"]) == forecasts and (row["first"], row["last"]) == made
    assert cli("verify").exit_code == 0


# Two-file exports, as a user may name them: either file finds the other, so the second name is the same export.
TWO_FILE_EXPORTS = [("pb-dump/predictions.csv", "pb-dump/responses.csv", 4),
                    ("metaculus-download.zip", "metaculus-download.zip", 10),
                    ("manifold/manifold-contracts-20250101.json", "manifold/manifold-bets-20250101.json", 12),
                    ("cultivate/questions.json", "cultivate/prediction_sets.json", 8)]


@pytest.mark.parametrize(("first", "second", "forecasts"), TWO_FILE_EXPORTS, ids=[e[0] for e in TWO_FILE_EXPORTS])
def test_a_two_file_export_given_twice_is_refused_or_skipped(cli, db_path, first, second, forecasts):
    assert f"imported {forecasts} forecasts" in cli("import", PEERS / first).stderr
    before = ledger_bytes(db_path)
    refused = cli("import", PEERS / second, ok=False)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert f"already in the ledger ({forecasts} of {forecasts} forecasts are): nothing imported" in refused.stderr
    assert ledger_bytes(db_path) == before
    skipped = cli("import", PEERS / second, "--skip-existing").stderr
    assert "imported 0 forecasts on 0 questions" in skipped and f"skipped {forecasts} already" in skipped
    assert cli.json("sql", "SELECT count(*) AS n FROM forecasts")[0]["n"] == forecasts


@pytest.mark.parametrize(("first", "second", "forecasts"), TWO_FILE_EXPORTS, ids=[e[0] for e in TWO_FILE_EXPORTS])
def test_both_files_of_an_export_in_one_import_are_read_once(cli, first, second, forecasts):
    result = cli("import", PEERS / first, PEERS / second)
    assert f"{second.split('/')[-1]} holds the same export as " in result.stderr
    assert f"imported {forecasts} forecasts" in result.stderr
    assert cli.json("sql", "SELECT count(*) AS n FROM forecasts")[0]["n"] == forecasts


def test_a_file_and_its_copy_in_one_import_are_read_once(cli, tmp_path):
    text = "statement,probability,resolve_by\nA,0.5,2030-01-01\n"
    result = cli("import", _write(tmp_path, "a.csv", text), _write(tmp_path, "copy.csv", text))
    assert "copy.csv holds the same export as " in result.stderr and "imported 1 forecasts" in result.stderr


# -- wide contest sheets ----------------------------------------------------------


def test_a_wide_sheet_is_detected_and_said(cli, tmp_path):
    sheet = _write(tmp_path, "contest.csv", "Participant ID;1. Will A?;2. Will B?;3. Will C?\n"
                   "p1;90;10;50\np2;80;;40\n")
    result = cli("import", sheet, "--resolve-by", "2030-01-01", "--made-at", "2025-01-01")
    assert "reading " in result.stderr and "contest.csv as a wide contest sheet (detected)" in result.stderr
    got = cli.json("sql", "SELECT statement, forecaster, probability FROM forecasts JOIN questions q "
                   "ON q.id = question_id ORDER BY 1, 2")
    assert [(r["statement"], r["forecaster"], r["probability"]) for r in got] == [
        ("Will A?", "p1", 0.9), ("Will A?", "p2", 0.8), ("Will B?", "p1", 0.1), ("Will C?", "p1", 0.5),
        ("Will C?", "p2", 0.4)]


def test_a_windows_1252_wide_sheet_is_read_and_said(cli, tmp_path):
    sheet = _write(tmp_path, "excel.csv", "name;1. Will the caf\u00e9 open?;2. Will B?;3. Will C?\nRen\u00e9;30;40;50\n"
                   .encode("cp1252"))
    result = cli("import", sheet, "--resolve-by", "2030-01-01")
    assert "as a wide contest sheet (detected)" in result.stderr and "read as Windows-1252" in result.stderr
    assert "imported 3 forecasts by Ren\u00e9 on 3 questions" in result.stderr
    assert "Will the caf\u00e9 open?" in [q["statement"] for q in cli.json("list")]


def test_a_sheet_too_small_to_tell_suggests_wide(cli, tmp_path, db_path):
    sheet = _write(tmp_path, "small.csv", "name,1. Will A?,2. Will B?\nann,30,40\n")
    result = cli("import", sheet, "--resolve-by", "2030-01-01", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "small.csv: missing column statement, probability: if it is a wide contest sheet" in result.stderr
    assert "use --wide" in result.stderr and not db_path.exists()
    assert "imported 2 forecasts by ann on 2 questions" in cli("import", sheet, "--wide", "--resolve-by",
                                                              "2030-01-01").stderr


def test_wide_without_numbered_columns_is_one_clear_line(cli, tmp_path, db_path):
    sheet = _write(tmp_path, "plain.csv", "name,Will it rain?\nann,30\n")
    result = cli("import", sheet, "--wide", "--resolve-by", "2030-01-01", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "plain.csv has no question columns: a wide sheet heads each with its number" in result.stderr
    assert not db_path.exists()


# -- progress -------------------------------------------------------------------


def _import_command(tmp_path) -> tuple[list[str], dict]:
    """A 200-row import as a whole process (so stderr can be a terminal or a pipe), and its environment."""
    import sys

    path = _write(tmp_path, "long.csv", "statement,probability,resolve_by\n" + "".join(
        f"Q{i},0.5,2030-01-01\n" for i in range(200)))
    return [sys.executable, "-m", "ledger", "import", str(path)], {**os.environ, "COLUMNS": "100", "TERM": "xterm"}


def test_a_terminal_sees_the_import_progress(tmp_path):
    command, env = _import_command(tmp_path)
    done, seen = run_on_a_terminal(command, env=env, timeout=120)
    assert done.stdout == b""
    assert b"importing " in seen and b"long.csv" in seen
    assert b"imported 200 forecasts" in seen


def test_a_pipe_gets_only_the_summary(tmp_path):
    import subprocess

    command, env = _import_command(tmp_path)
    done = subprocess.run(command, capture_output=True, env=env, check=True, timeout=120)
    lines = done.stderr.decode().splitlines()
    assert done.stdout == b"" and len(lines) == 2, lines
    assert lines[0].startswith("created a new ledger") and lines[1].startswith("imported 200 forecasts")


def _exporting(cli, tmp_path) -> tuple[list[str], dict]:
    """A ledger of 200 forecasts, and ``ledger export`` as a whole process with its environment."""
    import sys

    command, env = _import_command(tmp_path)
    cli(*command[3:])  # ledger import long.csv
    return [sys.executable, "-m", "ledger", "export"], env


def test_a_terminal_sees_the_export_spinner(cli, tmp_path):
    export, env = _exporting(cli, tmp_path)
    out = tmp_path / "out.csv"
    done, seen = run_on_a_terminal([*export, "-o", str(out)], env=env, timeout=120)
    assert b"exporting forecasts" in seen and b"exported 200 forecasts" in seen
    assert done.stdout == b"" and len(out.read_text().splitlines()) == 201
    # the rows down a pipe (`ledger export | gzip` in a terminal): the spinner on stderr, the rows on stdout
    done, seen = run_on_a_terminal(export, env=env, timeout=120)
    assert b"exporting forecasts" in seen and len(done.stdout.splitlines()) == 200


def test_no_spinner_where_the_rows_are_printed_or_on_a_pipe(cli, tmp_path):
    import subprocess

    export, env = _exporting(cli, tmp_path)
    done, seen = run_on_a_terminal(export, env=env, timeout=120, stdout_too=True)
    assert b"exporting" not in seen and seen.count(b'{"question_key":') == 200
    out = tmp_path / "out.jsonl"
    done = subprocess.run([*export, "-o", str(out)], capture_output=True, env=env, check=True, timeout=120)
    assert done.stderr.decode() == f"exported 200 forecasts to {out}\n" and done.stdout == b""


def test_the_library_reports_every_step(tmp_path):
    from ledger.io import import_files, import_steps
    from ledger.store import Store

    paths = [_write(tmp_path, f"{n}.csv", f"statement,probability,resolve_by\n{n},0.5,2030-01-01\n") for n in "ab"]
    steps: list[int] = []
    store = Store.open(tmp_path / "lib.duckdb")
    try:
        import_files(store, paths, on_progress=steps.append)
    finally:
        store.close()
    assert sum(steps) == import_steps(2) == 8


def test_records_of_several_files_are_numbered_densely_in_file_and_line_order(cli, tmp_path, db_path):
    """Blank rows dropped and questions skipped as already imported leave no gap in the seqs; the forecasts'
    seqs follow the files as given and their lines, the questions' their first rows."""
    import duckdb

    header = "question_key,statement,probability,resolve_by,outcome,note\n"
    first = _write(tmp_path, "first.csv", header + "k1,Old,0.5,2030-01-01,,\n")
    cli("import", first)
    second = _write(tmp_path, "second.csv", header + "k2,Two,0.2,2030-01-01,yes,s1\n,,,,,\n"
                    "k1,Old,0.5,2030-01-01,,\nk3,Three,0.3,2030-01-01,,s2\nk2,Two,0.4,2030-01-01,yes,s3\n")
    third = _write(tmp_path, "third.csv", header + "k4,Four,0.6,2030-01-01,no,t1\n")
    assert "skipped 1 already in the ledger" in cli("import", second, third, "--skip-existing").stderr
    con = duckdb.connect(str(db_path), read_only=True)
    seqs = con.execute("SELECT seq FROM question_records WHERE commit_id = 2 UNION ALL SELECT seq FROM "
                       "forecast_records WHERE commit_id = 2 UNION ALL SELECT seq FROM resolution_records "
                       "WHERE commit_id = 2 ORDER BY 1").fetchall()
    notes = con.execute("SELECT note FROM forecast_records WHERE commit_id = 2 ORDER BY seq").fetchall()
    statements = con.execute("SELECT statement FROM question_records WHERE commit_id = 2 ORDER BY seq").fetchall()
    con.close()
    assert [s for (s,) in seqs] == list(range(3, 3 + 3 + 4 + 2))  # 3 questions, 4 forecasts, 2 resolutions
    assert [n for (n,) in notes] == ["s1", "s2", "s3", "t1"]
    assert [s for (s,) in statements] == ["Two", "Three", "Four"]
    assert cli("verify").exit_code == 0
