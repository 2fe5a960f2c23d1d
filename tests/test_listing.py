"""`ledger list` and `ledger due` pages, order and search; their --json and --csv streamed by DuckDB."""

from __future__ import annotations

import csv
import io
import json

from ledger.cli.common import DEFAULT_LIMIT, page_limit
from ledger.cli.output import _jsonable
from ledger.store import Store


def add(cli, statement, p="15%", by="2027", *extra):
    return cli("add", statement, "-p", p, "--by", by, "-c", "as stated", *extra).stdout.strip()


def ids(cli, *args):
    return [row["id"][:8] for row in cli.json(*args)]


def test_limit_offset_sort_and_search_change_the_rows(cli):
    b = add(cli, "Beta treaty signed", "20%", "2029")
    a = add(cli, "Alpha 100% sure", "30%", "2028")
    c = add(cli, "Gamma TREATY ratified", "40%", "2027")
    assert ids(cli, "list") == [c, a, b]  # soonest resolve-by first
    assert ids(cli, "list", "--sort", "statement") == [a, b, c]
    assert ids(cli, "list", "--sort", "created") == [b, a, c]
    assert ids(cli, "list", "--sort", "id") == sorted([a, b, c])
    assert ids(cli, "list", "--limit", "2") == [c, a]
    assert ids(cli, "list", "--limit", "2", "--offset", "2") == [b]
    assert ids(cli, "list", "--offset", "5") == []
    assert ids(cli, "list", "--search", "treaty") == [c, b]  # any case
    assert ids(cli, "list", "--search", "100%") == [a]  # % is a character, not a wildcard
    assert ids(cli, "list", "--search", "0%") == [a]
    assert ids(cli, "list", "--search", "'; DROP TABLE x; --") == []
    rows = list(csv.DictReader(io.StringIO(cli("list", "--csv", "--sort", "statement", "--limit", "1").stdout)))
    assert [row["id"][:8] for row in rows] == [a]


def test_the_table_is_a_page_and_says_how_many_more(cli):
    for i in range(5):
        add(cli, f"Question {i}", "50%", f"{2030 + i}")
    result = cli("list", "--limit", "2", "--offset", "1")
    assert "Question 1" in result.stdout and "Question 2" in result.stdout and "Question 3" not in result.stdout
    assert result.stderr.strip() == "2 more — use --limit/--offset (next page: --offset 3)"
    assert cli("list").stderr == ""  # not a terminal: every row, nothing left out
    assert page_limit(None, table=True, terminal=True) == DEFAULT_LIMIT
    assert page_limit(None, table=True, terminal=False) is None
    assert page_limit(None, table=False, terminal=True) is None
    assert page_limit(7, table=True, terminal=True) == 7


def test_an_unknown_sort_key_is_one_line_naming_the_known_ones(cli, db_path):
    add(cli, "Anything")
    before = db_path.read_bytes()
    for command in ("list", "due"):
        result = cli(command, "--sort", "size", ok=False)
        assert result.exit_code == 2
        [line] = result.stderr.strip().splitlines()
        assert "'size' is not a sort key; known: resolve-by, created, id, statement" in line
    assert db_path.read_bytes() == before


def test_the_csv_header_is_fixed(cli, tmp_path):
    cli("init")
    empty = cli("list", "--csv", "--status", "all").stdout.splitlines()
    assert len(empty) == 1
    question = add(cli, "Full", "60%", "2020", "--source-title", "T", "--tag", "x")
    cli("resolve", question, "yes")
    full = cli("list", "--csv", "--status", "all").stdout.splitlines()
    assert full[0] == empty[0] and len(full) == 2
    assert empty[0].split(",")[12:18] == ["source_title", "source_author", "source_outlet", "source_url",
                                          "source_published", "forecasts"]
    due_empty = cli("due", "--csv").stdout.splitlines()
    add(cli, "Overdue", "60%", "2021")
    due_full = cli("due", "--csv").stdout.splitlines()
    assert due_empty[0] == due_full[0] == empty[0] + ",days_overdue" and len(due_full) == 2


def test_streamed_json_and_csv_are_the_records_as_json(cli, db_path, tmp_path):
    """DuckDB renders --json and --csv; they must be exactly what the records' as_json() says."""
    mc = tmp_path / "mc.yaml"
    mc.write_text("predictions:\n  - statement: Who wins?\n    options: [A, B, C]\n    probabilities: [0.5, 0.3, 0.2]\n"
                  "    resolve_by: 2028-11-30\n    criteria: result\n")
    cli("add", "--file", mc)
    tricky = add(cli, "=cmd|' \x1b[31mred\u202e é 😀 \"quoted\", comma\nnewline", "0.1", "2020",
                 "--source-url", "https://example.org", "--source-date", "2020-01-02", "--quote", "q", "--tag", "a",
                 "--tag", "b", "--at", "2019-05-05")
    cli("forecast", tricky, "-p", "0.35", "--note", "@note", "--forecaster", "ana")
    cli("resolve", tricky, "no", "--on", "2020-06-01", "--note", "-1", "--evidence", "https://e.org")
    cli("resolve", tricky, "yes", "--note", "corrected")
    annulled = add(cli, "Annulled one", "0.5", "2030")
    cli("annul", annulled, "--reason", "vague")
    cli("edit", annulled, "--criteria", "new criteria", "--reason", "clearer")
    streamed = json.loads(cli("list", "--json", "--status", "all").stdout)
    with Store.open(db_path, create=False, read_only=True) as store:
        expected = [_jsonable(row) for row in store.questions(status="all")]
    assert streamed == expected
    assert len(streamed) == 3 and streamed[0]["corrected_from"] == "no" and streamed[0]["source"]["url"]
    with Store.open(db_path, create=False, read_only=True) as store:  # a page is its slice of the list, whole
        for offset, limit in ((0, 1), (1, 1), (1, 2), (2, 5)):
            page, total = store.question_page(status="all", offset=offset, limit=limit)
            assert ([_jsonable(row) for row in page], total) == (expected[offset:offset + limit], 3)
        assert [_jsonable(row) for row in store.questions(status="all", offset=1)] == expected[1:]  # no limit
        assert store.question_page(status="all", offset=3, limit=2) == ([], 3)
    rows = list(csv.DictReader(io.StringIO(cli("list", "--csv", "--status", "all").stdout)))
    row = rows[0]  # soonest resolve-by first: the tricky one, then the multiple choice, then the annulled
    assert row["statement"] == "'" + expected[0]["statement"]  # formula-guarded, newline and quotes kept
    assert row["resolution_note"] == "corrected" and row["resolution_evidence"] == ""
    assert json.loads(row["forecasts"]) == expected[0]["forecasts"]
    assert json.loads(row["forecasts"])[1]["note"] == "@note"  # inside JSON text: not a cell a sheet runs
    assert json.loads(row["tags"]) == ["a", "b"]
    assert (row["resolve_by"], row["source_published"], row["resolution_resolved_at"]) == (
        "2020-12-31", "2020-01-02", "2020-06-01T00:00:00Z")
    assert json.loads(rows[1]["options"]) == ["A", "B", "C"] and rows[1]["resolution_outcome"] == ""
    assert rows[2]["resolution_annulled"] == "True" and rows[2]["criteria"] == "new criteria"
    raw = cli("list", "--json", "--status", "all").stdout
    assert "\u202e" not in raw and "\\u202e" in raw  # a terminal never obeys it; the data is the same


def test_due_streams_with_days_overdue_and_pages(cli):
    old = add(cli, "Old treaty", "70%", "2020-01-01")
    older = add(cli, "Older", "70%", "2019-01-01")
    rows = cli.json("due")
    assert [r["id"][:8] for r in rows] == [older, old]
    assert rows[0]["days_overdue"] > rows[1]["days_overdue"] > 0
    assert ids(cli, "due", "--search", "TREATY") == [old]
    assert ids(cli, "due", "--limit", "1", "--offset", "1") == [old]
    assert ids(cli, "due", "--sort", "statement") == [old, older]
    assert cli("due", "--limit", "1").stderr.strip() == "1 more — use --limit/--offset (next page: --offset 1)"


def test_help_shows_an_example(cli):
    for command in ("list", "due"):
        text = cli(command, "--help").stdout
        assert "Example: ledger" in text and "--limit" in text and "--search" in text and "--sort" in text
