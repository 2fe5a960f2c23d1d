"""The everyday commands, driven as a user types them, against real DuckDB files."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import REPO, ledger_bytes


def add(cli, statement="Russia and China sign a defence treaty", p="15%", by="2027", *extra):
    return cli("add", statement, "-p", p, "--by", by, "-c", "as stated", *extra).stdout.strip()


def test_add_prints_a_short_id_and_show_has_everything(cli):
    question_id = add(
        cli, "Congress allows rearming Russia", "5%", "2028-Q4",
        "--criteria", "A statute permits it", "--tag", "russia", "--tag", "congress",
        "--source-title", "Reverse Kissinger", "--source-url", "https://example.org/a",
        "--source-date", "2025-02-25", "--quote", "Congress would never allow it", "--at", "2025-02-25",
    )
    assert len(question_id) == 8
    shown = cli.json("show", question_id)
    assert shown["statement"] == "Congress allows rearming Russia"
    assert shown["resolve_by"] == "2028-12-31"
    assert shown["tags"] == ["russia", "congress"]
    assert shown["source"]["title"] == "Reverse Kissinger"
    assert shown["source"]["published"] == "2025-02-25"
    assert shown["quote"] == "Congress would never allow it"
    [forecast] = shown["forecasts"]
    assert forecast["probability"] == 0.05
    assert forecast["forecaster"] == "tester"
    assert forecast["made_at"] == "2025-02-25T00:00:00Z"
    assert forecast["backfilled"] is True
    assert shown["resolution"] is None
    assert shown["status"] == "open"


def test_forecast_revisions_are_kept_in_order(cli):
    question_id = add(cli)
    cli("forecast", question_id, "-p", "0.3", "--note", "talks began")
    cli("forecast", question_id[:5], "-p", "40%", "--forecaster", "alice")
    forecasts = cli.json("show", question_id)["forecasts"]
    assert [(f["probability"], f["forecaster"]) for f in forecasts] == [(0.15, "tester"), (0.3, "tester"), (0.4, "alice")]
    assert forecasts[1]["note"] == "talks began"
    assert not any(f["backfilled"] for f in forecasts)


def test_resolve_then_correct_keeps_history(cli):
    question_id = add(cli)
    cli("resolve", question_id, "yes", "--note", "signed", "--evidence", "https://example.org/e", "--on", "2026-01-05")
    correction = cli("resolve", question_id, "no", "--note", "it was only a memorandum")
    assert "correction" in correction.stderr
    shown = cli.json("show", question_id)
    assert shown["status"] == "resolved"
    assert shown["resolution"]["outcome"] == "no"
    assert [(r["outcome"], r["current"]) for r in shown["resolutions"]] == [("yes", False), ("no", True)]
    assert shown["resolutions"][0]["resolved_at"] == "2026-01-05T00:00:00Z"


def test_annul_and_no_forecast_after(cli):
    question_id = add(cli)
    cli("annul", question_id, "--reason", "treaty never defined")
    shown = cli.json("show", question_id)
    assert shown["status"] == "annulled"
    assert shown["resolution"]["annulled"] is True
    result = cli("forecast", question_id, "-p", "0.5", ok=False)
    assert result.exit_code == 1
    assert "annulled" in result.stderr


def test_edit_is_logged_and_statement_cannot_change(cli):
    question_id = add(cli)
    cli("edit", question_id, "--by", "2028-06-30", "--criteria", "Signed and ratified", "--reason", "summit moved")
    shown = cli.json("show", question_id)
    assert shown["resolve_by"] == "2028-06-30"
    assert shown["original_resolve_by"] == "2027-12-31"
    assert shown["criteria"] == "Signed and ratified"
    assert {(e["field"], e["reason"]) for e in shown["edits"]} == {("resolve_by", "summit moved"), ("criteria", "summit moved")}
    result = cli("edit", question_id, "--statement", "something else", ok=False)
    assert result.exit_code == 2  # no such option: statements are never edited


def test_multiple_choice_forecast_and_resolution(cli, tmp_path):
    file = tmp_path / "mc.yaml"
    file.write_text(
        "predictions:\n"
        "  - statement: Who wins the 2028 election?\n"
        "    options: [Democrat, Republican, Other]\n"
        "    probabilities: [0.5, 0.45, 0.05]\n"
        "    resolve_by: 2028-11-30\n"
        "    criteria: Certified result\n"
    )
    [question_id] = cli("add", "--file", file).stdout.split()
    cli("forecast", question_id, "--probabilities", "0.4,0.55,0.05")
    bad = cli("forecast", question_id, "-p", "0.4", ok=False)
    assert "3 options" in bad.stderr
    cli("resolve", question_id, "republican")
    shown = cli.json("show", question_id)
    assert shown["kind"] == "multiple_choice"
    assert shown["resolution"]["outcome"] == "Republican"
    assert shown["forecasts"][1]["probabilities"] == [0.4, 0.55, 0.05]
    wrong = cli("resolve", question_id, "Green", ok=False)
    assert "one of the options" in wrong.stderr


def test_list_filters_and_formats(cli):
    open_id = add(cli, "Open question", "0.6", "2099", "--tag", "econ")
    due_id = add(cli, "Overdue question", "0.2", "2026", "--tag", "geo", "--at", "2025-01-01")
    resolved_id = add(cli, "Resolved question", "0.9", "2099", "--forecaster", "alice")
    cli("resolve", resolved_id, "yes")
    statuses = {q["id"][:8]: q["status"] for q in cli.json("list", "--status", "all")}
    assert statuses[resolved_id] == "resolved"
    assert statuses[open_id] == "open"
    expected_due = "due" if __import__("datetime").date.today().year > 2026 else "open"
    assert statuses[due_id] == expected_due
    assert {q["id"][:8] for q in cli.json("list")} == {open_id, due_id}
    assert [q["id"][:8] for q in cli.json("list", "--tag", "econ")] == [open_id]
    assert [q["id"][:8] for q in cli.json("list", "--status", "all", "--forecaster", "alice")] == [resolved_id]
    [row] = csv.DictReader(io.StringIO(cli("list", "--status", "resolved", "--csv").stdout))
    [record] = cli.json("list", "--status", "resolved")
    assert row["id"] == record["id"] and len(row["id"]) == 16  # full ids, as in --json
    assert (row["resolve_by"], row["status"], row["resolution_outcome"]) == ("2099-12-31", "resolved", "yes")
    assert json.loads(row["forecasts"])[0]["probability"] == 0.9  # floats, not "90%"
    assert json.loads(row["forecasts"])[0]["forecaster"] == "alice"
    table = cli("list").stdout
    assert "Open question" in table and "Resolved question" not in table


def test_csv_defuses_formulas(cli):
    add(cli, "=HYPERLINK(\"http://evil\")", "0.5", "2099")
    row = cli("list", "--csv").stdout.splitlines()[1]
    assert "'=HYPERLINK" in row


def test_prediction_file_logs_all_backfilled(cli):
    out = cli("add", "--file", REPO / "predictions" / "reverse-kissinger.yaml")
    ids = out.stdout.split()
    assert len(ids) == 6
    questions = cli.json("list")
    assert len(questions) == 6
    for question in questions:
        assert question["source"]["published"] == "2025-02-25"
        assert question["quote"] and question["criteria"]
        assert question["forecasts"][0]["backfilled"] is True
        assert question["forecasts"][0]["forecaster"] == "bismarck-cables"


BAD_ENTRY = """\
source:
  title: An analysis
  published: 2025-01-01
predictions:
  - statement: First
    probability: 0.7
    resolve_by: 2027
    criteria: Clear
  - statement: Second
    probability: 1.5
    resolve_by: 2027
    criteria: Clear
"""


def test_prediction_file_with_one_bad_entry_logs_nothing(cli, tmp_path, db_path):
    add(cli)  # an existing ledger, to check it is left exactly as it was
    before = ledger_bytes(db_path)
    file = tmp_path / "bad.yaml"
    file.write_text(BAD_ENTRY)
    result = cli("add", "--file", file, ok=False)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"{file}:9: entry 2: probability:" in result.stderr
    assert ledger_bytes(db_path) == before
    assert len(cli.json("list")) == 1


def test_drafts_and_missing_fields_are_refused_each_named(cli, tmp_path, db_path):
    file = tmp_path / "draft.yaml"
    file.write_text(
        "predictions:\n"
        "  - statement: Drafted\n    probability: 0.2\n    resolve_by: null\n    criteria: null\n    draft: true\n"
        "  - statement: Fine\n    probability: 0.2\n    resolve_by: 2027\n    criteria: ok\n"
        "  - statement: No criteria\n    probability: 0.2\n    resolve_by: 2027\n"
    )
    result = cli("add", "--file", file, ok=False)
    assert result.exit_code == 1
    message = result.stderr
    assert "nothing logged" in message
    assert "entry 1 (line 2): draft: true" in message and "criteria missing, resolve_by missing" in message
    assert "entry 3 (line 11): criteria missing" in message
    assert "entry 2" not in message
    assert not db_path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "X", "-p", "1.5", "--by", "2027", "-c", "c"], "probability must be between 0 and 1"),
        (["add", "X", "-p", "abc", "--by", "2027", "-c", "c"], "probability must be a number"),
        (["add", "X", "-p", "0.5"], "add needs a statement, -p PROBABILITY (or --options with --probabilities), --by DATE"),
        (["add", "X", "-p", "0.5", "--by", "someday", "-c", "c"], "not a date: 'someday'"),
        (["add", "X", "-p", "0.5", "--by", "2027", "-c", "c", "--at", "2999-01-01"], "cannot be made in the future"),
        (["show", "deadbeef"], "no question with id deadbeef"),
        (["resolve", "deadbeef", "yes"], "no question with id deadbeef"),
        (["list", "--status", "pending"], "--status must be one of"),
        (["import", "no-such-file.csv"], "no such file"),
        (["export", "--format", "csv", "-o", "/no-such-dir/x.csv"], "cannot write /no-such-dir/x.csv"),
        (["init", "--db", "/proc/no-such-dir/x.duckdb"], "cannot use /proc/no-such-dir: No such file or directory"),
    ],
)
def test_user_mistakes_give_one_line_and_leave_the_ledger_unchanged(cli, db_path, args, message):
    add(cli)
    before = ledger_bytes(db_path)
    result = cli(*args, ok=False)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert ledger_bytes(db_path) == before


def test_failed_first_write_leaves_no_ledger_behind(cli, db_path):
    result = cli("add", "X", "-p", "2", "--by", "2027", "-c", "c", ok=False)
    assert result.exit_code == 1
    assert not db_path.exists()


def test_reading_commands_never_create_a_ledger(cli, db_path):
    result = cli("list", ok=False)
    assert result.exit_code == 3
    assert "no ledger at" in result.stderr
    assert not db_path.exists()


def test_verify_reports_count_and_head(cli):
    add(cli)
    report = cli.json("verify")
    assert report["ok"] is True
    assert report["records"] == 2  # a question and its forecast
    assert len(report["head"]) == 64


def test_sql_is_read_only_over_documented_views(cli, db_path):
    add(cli)
    rows = json.loads(cli("sql", "SELECT forecaster, probability FROM forecasts", "--json").stdout)
    assert rows == [{"forecaster": "tester", "probability": 0.15}]
    before = ledger_bytes(db_path)
    result = cli("sql", "DELETE FROM forecast_records", ok=False)
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert ledger_bytes(db_path) == before


def test_schema_is_json_schema_of_prediction_files(cli):
    schema = json.loads(cli("schema").stdout)
    assert schema["title"] == "Forecast Ledger prediction file"
    assert "predictions" in schema["properties"]


def test_every_command_has_help_with_an_example(cli):
    from ledger.cli import app
    from typer.main import get_command

    for name in get_command(app).commands:
        assert "Example:" in cli(name, "--help").stdout, name


def test_version(cli):
    from ledger import __version__

    assert cli("--version").stdout.strip() == f"ledger {__version__}"
