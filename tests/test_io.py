"""Import and export: atomic, line-precise, and lossless round trips."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, SHARED, ledger_bytes

ACX_2021 = SHARED / "data" / "acx" / "scott_alexander_2021_predictions.csv"


def test_acx_track_record_imports(cli):
    if not ACX_2021.exists():
        pytest.skip(f"shared data not found at {ACX_2021}")
    result = cli("import", ACX_2021, "--resolve-by", "2021-12-31", "--forecaster", "scott")
    assert "imported 108 forecasts by scott on 108 questions (104 resolved or annulled; 108 backfilled)" in result.stderr
    questions = cli.json("list", "--status", "all")
    assert len(questions) == 108
    assert sum(q["status"] == "resolved" for q in questions) == 104
    first = next(q for q in questions if q["statement"].startswith("Biden approval rating"))
    assert first["forecasts"][0]["probability"] == 0.8
    assert first["resolution"]["outcome"] == "no"


def _populate(cli, tmp_path):
    """A ledger with every kind of record: revisions, MC, annulled, corrected, tags, sources."""
    ids = [cli("add", "Plain <b>question</b>, with comma", "-p", "0.3", "--by", "2027", "--tag", "a", "--tag", "b",
               "--criteria", "=SUM(A1) looks like a formula", "--source-title", "T", "--source-url", "https://x.org",
               "--source-date", "2025-02-25", "--quote", "“quoted”", "--at", "2025-02-25").stdout.strip()]
    cli("forecast", ids[0], "-p", "0.45", "--forecaster", "alice", "--note", "second opinion")
    cli("resolve", ids[0], "yes", "--on", "2026-01-01", "--note", "happened", "--evidence", "https://e.org")
    ids.append(cli("add", "Annulled one", "-p", "0.9", "--by", "2026-06", "-c", "as stated").stdout.strip())
    cli("annul", ids[1], "--reason", "ambiguous")
    mc = tmp_path / "mc.yaml"
    mc.write_text("predictions:\n  - statement: Which?\n    options: [A, B, C]\n    probabilities: [0.2, 0.3, 0.5]\n"
                  "    resolve_by: 2028-01-01\n    criteria: c\n")
    ids.append(cli("add", "--file", mc).stdout.strip())
    cli("resolve", ids[2], "B")
    ids.append(cli("add", "Still open", "-p", "1%", "--by", "2030", "-c", "as stated").stdout.strip())
    return ids


def _comparable(export_lines: list[dict]) -> list[dict]:
    """An export without what a new ledger must record for itself (ids, recording time)."""
    return [{k: v for k, v in row.items() if k not in ("question_key", "recorded_at")} for row in export_lines]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_import_round_trips(cli, tmp_path, monkeypatch, fmt):
    _populate(cli, tmp_path)
    original = [json.loads(line) for line in cli("export").stdout.splitlines()]
    exported = tmp_path / f"export.{fmt}"
    cli("export", "--format", fmt, "-o", exported)
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "second.duckdb"))
    cli("import", exported)
    again = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert len(again) == len(original) == 5
    assert _comparable(again) == _comparable(original)
    assert {q["status"] for q in cli.json("list", "--status", "all")} == {"resolved", "annulled", "open"}
    cli("verify")


def test_csv_export_defuses_formulas_and_import_restores_them(cli, tmp_path):
    _populate(cli, tmp_path)
    text = cli("export", "--format", "csv").stdout
    assert ",'=SUM(A1) looks like a formula," in text


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("statement,probability,resolve_by\nA,0.5,2027-01-01\nB,abc,2027-01-01\n", "line 3: probability 'abc' is not a number"),
        ("statement,probability,resolve_by\nA,0.5,2027-01-01\nB,1.5,2027-01-01\n", "line 3: probability 1.5 is not between 0 and 1"),
        ("statement,probability,resolve_by\nA,0.5,2027-01-01\nB,0.5,soon\n", "line 3: resolve_by 'soon' is not a date"),
        ("statement,probability\nA,0.5\n", "missing column resolve_by (or pass --resolve-by)"),
        ("statement,probability,resolve_by\nA,0.5,2027-01-01\nB,0.5,2027-01-01,extra,cells\n", "cannot read as csv: line 3 does not have 3 cells like the header"),
        ("statement,probability,resolve_by,outcome\nA,0.5,2027-01-01,maybe\n", "line 2: outcome 'maybe' is not yes/no"),
        ("probability,resolve_by\n0.5,2027-01-01\n", "missing column statement"),
        ("question_key,statement,probability,resolve_by,outcome\nk,A,0.5,2027-01-01,yes\nk,A,0.6,2027-01-01,no\n",
         "line 2: rows of question_key 'k' disagree"),
    ],
)
def test_bad_rows_import_nothing_and_name_the_line(cli, tmp_path, db_path, content, message):
    cli("add", "Existing", "-p", "0.5", "--by", "2027", "-c", "as stated")
    before = ledger_bytes(db_path)
    result = cli("import", _write(tmp_path, "bad.csv", content), ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert ledger_bytes(db_path) == before


def test_question_key_groups_revisions_and_outcomes_are_flexible(cli, tmp_path):
    path = _write(
        tmp_path, "grouped.csv",
        "question_key,statement,probability,resolve_by,outcome,forecaster,made_at,tags\n"
        "q1,Rain tomorrow,60%,2025-01-02,TRUE,ann,2025-01-01T08:00:00,weather;local\n"
        "q1,Rain tomorrow,0.8,2025-01-02,,bob,2025-01-01T09:00:00,weather;local\n"
        "q2,Snow tomorrow,0.1,2025-01-02,0,ann,2025-01-01T08:00:00,\n",
    )
    cli("import", path)
    questions = {q["statement"]: q for q in cli.json("list", "--status", "all")}
    rain = questions["Rain tomorrow"]
    assert [(f["forecaster"], f["probability"]) for f in rain["forecasts"]] == [("ann", 0.6), ("bob", 0.8)]
    assert rain["resolution"]["outcome"] == "yes"
    assert rain["tags"] == ["weather", "local"]
    assert all(f["backfilled"] for f in rain["forecasts"])
    assert questions["Snow tomorrow"]["resolution"]["outcome"] == "no"


def test_rows_without_made_at_count_at_their_resolution_time(cli, tmp_path):
    path = _write(tmp_path, "late.csv",
                  "statement,probability,resolve_by,outcome,resolved_at\nOld call,0.8,2024-12-31,yes,2024-06-01\n")
    cli("import", path)
    [question] = cli.json("list", "--status", "all")
    [forecast] = question["forecasts"]
    assert forecast["made_at"] == "2024-06-01T00:00:00Z"
    assert forecast["backfilled"] is True
    scored = json.loads(cli("score", "--json").stdout)
    assert scored["n_questions"] == 1
    assert scored["brier"] == pytest.approx(0.04)


def test_a_forecast_made_in_the_future_is_refused(cli, tmp_path):
    path = _write(tmp_path, "future.csv", "statement,probability,resolve_by,made_at\nA,0.5,2031-01-01,2999-01-01\n")
    result = cli("import", path, ok=False)
    assert result.exit_code == 1
    assert "line 2: made_at is in the future" in result.stderr


def test_readme_column_table_is_the_column_specification():
    from ledger.io.columns import readme_table

    assert readme_table() in (REPO / "README.md").read_text()


FORMULA_LIKE = ["=x", "'=x", "''=x", "'x", "'", "-1", "+x", "@x", "\ttab note", "\rx", "'\tx", "plain", "a=b",
                "=1+2", "-", "@", "\tx", "+", "=", "'''"]


def test_formula_guard_sql_and_python_agree_and_invert():
    import duckdb

    from ledger.io.formula import guard, guard_sql, unguard, unguard_sql

    con = duckdb.connect()
    for text in FORMULA_LIKE:
        guarded, back = con.execute(f"SELECT {guard_sql('$t')}, {unguard_sql(guard_sql('$t'))}", {"t": text}).fetchone()
        assert guarded == guard(text)
        assert back == unguard(guard(text)) == text
    assert guard("=x") == "'=x" and guard("'x") == "'x" and guard("plain") == "plain"


def _notes(cli) -> dict[str, str]:
    return {q["statement"]: q["forecasts"][0]["note"] for q in cli.json("list", "--status", "all")}


def _csv_round_trip(cli, tmp_path, monkeypatch, name: str) -> dict[str, str]:
    """The notes of a second ledger made by importing the first one's CSV export."""
    exported = tmp_path / f"{name}.csv"
    cli("export", "--format", "csv", "-o", exported)
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / f"{name}.duckdb"))
    cli("import", exported)
    return _notes(cli)


def test_formula_like_notes_survive_csv_export_and_import(cli, tmp_path, monkeypatch):
    """Notes stored exactly (from JSONL, which has no guard) come back exactly from a CSV round trip."""
    rows = [{"statement": f"Q{i}", "probability": 0.5, "resolve_by": "2030-01-01", "note": note}
            for i, note in enumerate(FORMULA_LIKE)]
    cli("import", _write(tmp_path, "notes.jsonl", "".join(json.dumps(row) + "\n" for row in rows)))
    stored = _notes(cli)
    assert stored == {f"Q{i}": note for i, note in enumerate(FORMULA_LIKE)}
    assert _csv_round_trip(cli, tmp_path, monkeypatch, "again") == stored


def test_a_tab_prefixed_csv_note_round_trips_import_export_import(cli, tmp_path, monkeypatch):
    cli("import", _write(tmp_path, "tab.csv", 'statement,probability,resolve_by,note\nQ,0.5,2030-01-01,"\ttab note"\n'))
    assert _notes(cli) == {"Q": "\ttab note"}
    assert _csv_round_trip(cli, tmp_path, monkeypatch, "again") == {"Q": "\ttab note"}


def test_csv_output_guards_formulas_by_the_same_rule(cli):
    cli("add", "=HYPERLINK(x)", "-p", "0.5", "--by", "2030", "-c", "c")
    cli("add", "'x", "-p", "0.5", "--by", "2030", "-c", "c")
    text = cli("list", "--csv").stdout
    assert ",'=HYPERLINK(x)" in text and ",'x" in text and ",''x" not in text


def test_a_bad_row_past_blank_rows_and_row_groups_is_named_by_its_file_line(cli, tmp_path, db_path):
    """Rows are numbered as the file holds them, blank rows counted, past DuckDB's 122,880-row groups."""
    good = "Q,0.5,2027-01-01\n"
    rows = [good] * 130_000
    rows[10] = ",,\n"  # a blank row (every cell empty): skipped, but still a line
    rows[-1] = "Q,2,2027-01-01\n"
    path = _write(tmp_path, "big.csv", "statement,probability,resolve_by\n" + "".join(rows))
    cli("add", "Existing", "-p", "0.5", "--by", "2027", "-c", "as stated")
    before = ledger_bytes(db_path)
    result = cli("import", path, ok=False)
    assert "big.csv line 130001: probability 2.0 is not between 0 and 1" in result.stderr
    assert ledger_bytes(db_path) == before


def test_forecasts_are_numbered_in_file_order_across_files_blank_rows_and_skipped_questions(cli, tmp_path):
    header = "question_key,statement,probability,resolve_by\n"
    first = _write(tmp_path, "a.csv", header + "a,A,0.1,2027-01-01\n,,,\nb,B,0.2,2027-01-01\na,A,0.3,2027-01-01\n")
    second = _write(tmp_path, "b.csv", header + "c,C,0.4,2027-01-01\n,,,\nd,D,0.5,2027-01-01\n")

    def in_seq_order():
        rows = cli.json("sql", "SELECT probability FROM forecasts ORDER BY seq")
        return [row["probability"] for row in rows]

    cli("import", first)
    assert in_seq_order() == [0.1, 0.2, 0.3]
    # a.csv's questions are in the ledger: skipped, and the rest keep their order
    assert "skipped 3 already in the ledger" in cli("import", first, second, "--skip-existing").stderr
    assert in_seq_order() == [0.1, 0.2, 0.3, 0.4, 0.5]
    third = _write(tmp_path, "c.csv", header + "e,E,0.6,2027-01-01\n,,,\ne,E,0.7,2027-01-01\n")
    fourth = _write(tmp_path, "d.csv", header + "f,F,0.8,2027-01-01\n")
    cli("import", fourth, third)  # files in the order given
    assert in_seq_order() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 0.6, 0.7]
    cli("verify")
