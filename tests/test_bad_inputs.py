"""Every mistake a user can make, through every command: one line on stderr, the
documented exit code, no traceback, and the ledger byte for byte as it was."""

from __future__ import annotations

import pytest

from tests.conftest import ledger_bytes

YAML_DUPLICATE = """source: {title: T}
predictions:
  - statement: A happens
    probability: 0.3
    resolve_by: 2030-01-01
    criteria: as stated
predictions: []
"""
YAML_BAD_DAY = """source: {title: T}
predictions:
  - statement: A happens
    probability: 0.3
    resolve_by: 2027-02-30
    criteria: as stated
"""
# 35 KB of aliases: 5,000 entries from one anchor.
YAML_ALIASES = ("source: {title: T}\nbase: &a {statement: A, probability: 0.3, resolve_by: 2030-01-01, "
                "criteria: c}\npredictions:\n" + "  - *a\n" * 5000)

FATEBOOK_HEADER = ("Question title,Multiple choice option,Forecast created by,Forecast (scale = 0-1),Forecast created at,"
                   "Question created by,Question created at,Question resolve by,Resolution,Resolved at,Question notes\n")
# A Fatebook export whose second forecast's notes span three lines: its third forecast begins on line 6.
FATEBOOK_BAD = (FATEBOOK_HEADER + "Q1,,ann,0.6,2024-01-03 09:15:7,ann,2024-01-03 09:14:52,2024-06-30 23:59:0,YES,"
                "2024-06-12 16:02:33,\n"
                'Q2,,ann,0.3,2024-01-03 09:15:7,ann,2024-01-03 09:14:52,2024-06-30 23:59:0,,,"one\ntwo\nthree"\n'
                "Q3,,ann,0.3,2024-01-03 09:15:7,ann,2024-01-03 09:14:52,2024-06-30 23:59:0,MAYBE,,\n")
METACULUS_QUESTIONS = ("Question ID,Question Title,Question Type,MC Options (All),Scheduled Close Time,Resolution,"
                       "Resolution Known Time,Categories,Question URL\n"
                       '7,"Will it\nrain?",binary,,2024-06-30 00:00:00+00:00,,,,\n'
                       '8,Will it snow?,binary,,next week,,,,\n')
METACULUS_FORECASTS = "Question ID,Forecaster ID,Forecaster Username,Start Time,End Time,Probability Yes\n"

# Files a case may name, created in the test's folder.
FILES = {
    "dup.yaml": YAML_DUPLICATE.encode(),
    "badday.yaml": YAML_BAD_DAY.encode(),
    "aliases.yaml": YAML_ALIASES.encode(),
    "latin1.yaml": "source: {title: \"caf\u00e9\"}\n".encode("latin-1"),
    "big.yaml": b"# padding\n" * 300_000,  # 3 MB of comments
    "empty.csv": b"",
    "dupheader.csv": b"statement,statement,probability,resolve_by\na,b,0.3,2030-01-01\n",
    # 0x81 is no character in Windows-1252 either: no encoding can be told (a cp1252 file is read, test_import_cli)
    "undecodable.csv": "statement,probability,resolve_by\ncaf\u00e9,0.3,2030-01-01\n".encode("latin-1") + b"\x81\n",
    "good.csv": b"statement,probability,resolve_by\nfine,0.3,2030-01-01\n",
    "notes.txt": b"my notes, not written by ledger\n",
    "analysis.txt": b"We think it is very likely that the treaty will be ratified by 2030.\n",
    "fatebook.csv": FATEBOOK_BAD.encode(),
    "document.json": b'{"a": 1}\n',
    "number.json": b"42\n",
    "numbers.json": b'[{"statement": "A", "probability": 0.5, "resolve_by": "2030-01-01"}, 3]',
    "empty.json": b"[]",
    "metaculus/question_data.csv": METACULUS_QUESTIONS.encode(),
    "metaculus/forecast_data.csv": METACULUS_FORECASTS.encode(),
    "wide.csv": b'id,1. Will A?,2. Will B?,3. Will C?,note\nann,10,20,30,"a\nlong note"\nbob,10,twenty,30,\n',
    "pb/predictions.csv": b'1,1551514500,1577833200,0.25,2,2,ann,"Two\nlines"\n2,1551514500,1577833200,0.25,2,7,ann,X\n',
    "pb/responses.csv": b"1,1551514500,0.3,ann,\n",
}

CASES = [
    # (arguments, environment, exit code, what the line says); ID is the existing question
    (["add", "X", "-p", "0.5", "--by", "2027"], {}, 1, "add needs --criteria"),
    (["add", "X", "-p", "1.5", "--by", "2027", "-c", "c"], {}, 1, "probability must be between 0 and 1"),
    (["add", "X", "--options", "A,B", "--probabilities", "0.5,0.6", "--by", "2027", "-c", "c"], {}, 1, "sum"),
    (["add", "X", "--options", "A,B", "--by", "2027", "-c", "c"], {}, 1, "add needs a statement"),
    (["add", "X", "-p", "0.5", "--by", "+9999y", "-c", "c"], {}, 1, "outside the calendar"),
    (["add", "X", "-p", "0.5", "--by", "2027-02-30", "-c", "c"], {}, 1, "no such day"),
    (["add", "--file", "dup.yaml"], {}, 1, "dup.yaml:7: not valid YAML (key 'predictions' is given twice (first on line 2))"),
    (["add", "--file", "badday.yaml"], {}, 1, "badday.yaml:3: entry 1: resolve_by: not a date: '2027-02-30'"),
    (["add", "--file", "aliases.yaml"], {}, 1, "aliases (*name) are not allowed"),
    (["add", "--file", "latin1.yaml"], {}, 1, "latin1.yaml:1: not UTF-8 text (byte 0xe9)"),
    (["add", "--file", "big.yaml"], {}, 1, "is larger than 2,000,000 bytes"),
    (["add", "--file", "good.csv", "--max-size", "lots"], {}, 1, "not a size: 'lots'"),
    (["list", "--status", "pending"], {}, 1, "--status must be one of"),
    (["list", "--forecaster", "nobody"], {}, 1, "no forecaster 'nobody' in this ledger; known: tester"),
    (["list", "--tag", "nope"], {}, 1, "no tag 'nope' in this ledger; known: geo"),
    (["list"], {"LEDGER_BUSY_TIMEOUT": "soon"}, 1, "LEDGER_BUSY_TIMEOUT must be a number of seconds"),
    (["due", "--within", "9999y"], {}, 1, "outside the calendar"),
    (["due", "--within", "someday"], {}, 1, "not a span"),
    (["score", "--since", "+9999y"], {}, 1, "outside the calendar"),
    (["score", "--tag", "nope"], {}, 1, "no tag 'nope' in this ledger"),
    (["show", "deadbeef"], {}, 3, "no question with id deadbeef"),
    (["show", "zz"], {}, 3, "not a question id"),
    (["resolve", "ID", "maybe"], {}, 1, "outcome must be yes or no"),
    (["edit", "ID", "--by", "2001-01-01"], {}, 1, "is before"),
    (["edit", "ID"], {}, 1, "nothing to edit"),
    (["import", "empty.csv"], {}, 1, "empty.csv is empty: its first line must be the header"),
    (["import", "dupheader.csv"], {}, 1, "dupheader.csv: the header names statement more than once"),
    (["import", "undecodable.csv"], {}, 1, "undecodable.csv is not UTF-8 text (nor Windows-1252): save it as UTF-8"),
    (["import", "good.csv", "--format", "xls"], {}, 1, "unknown --format 'xls': use csv, jsonl, parquet"),
    (["import", "no-such.csv"], {}, 1, "no such file"),
    (["import", "document.json"], {}, 1, "document.json is a JSON object with keys a, not forecast rows: expected "
                                         "one JSON object per row (JSON lines, or an array of objects) with statement"),
    (["import", "number.json"], {}, 1, "number.json is a number, not forecast rows: expected one JSON object"),
    (["import", "numbers.json"], {}, 1, "numbers.json is a JSON array holding a number (item 2), not forecast rows"),
    (["import", "empty.json"], {}, 1, "empty.json is an empty JSON array, not forecast rows"),
    (["import", "fatebook.csv"], {}, 1, "fatebook.csv line 6: Resolution 'MAYBE' is not YES, NO or AMBIGUOUS"),
    (["import", "metaculus/question_data.csv"], {}, 1,
     "question_data.csv line 4: Scheduled Close Time 'next week' is not a date or time"),
    (["import", "wide.csv", "--resolve-by", "2030-01-01"], {}, 1,
     "wide.csv line 4, column '2. Will B?': 'twenty' is not a probability"),
    (["import", "pb/predictions.csv"], {}, 1, "predictions.csv line 3: not a PredictionBook dump prediction"),
    (["export", "--format", "xls"], {}, 1, "unknown --format 'xls'"),
    (["export", "-o", "LEDGER"], {}, 1, "refusing to write over the ledger"),
    (["export", "-o", "LEDGER", "--force"], {}, 1, "refusing to write over the ledger"),
    (["export", "--format", "csv", "-o", "notes.txt"], {}, 1, "notes.txt exists and this command did not write it"),
    (["calendar", "-o", "LEDGER"], {}, 1, "refusing to write over the ledger"),
    (["calendar", "-o", "LINK", "--force"], {}, 1, "refusing to write over the ledger"),
    (["calendar", "-o", "notes.txt"], {}, 1, "use --force to replace it"),
    (["calendar", "-o", "no-such-folder/x.ics"], {}, 1, "there is no folder"),
    (["review", "--summary", "LEDGER"], {"LEDGER_REVIEW_FORCE_TTY": "1"}, 1, "refusing to write over the ledger"),
    (["extract", "analysis.txt", "-o", "LEDGER", "--force"], {}, 1, "refusing to write over the ledger"),
    (["sql", "SELEC nonsense"], {}, 1, "Parser Error"),
    (["verify", "--db", "notes.txt"], {}, 1, "not a valid DuckDB database file"),
    (["forecast", "deadbeef", "-p", "0.5"], {}, 3, "no question with id deadbeef"),
    (["resolve", "deadbeef", "yes"], {}, 3, "no question with id deadbeef"),
    (["annul", "deadbeef", "-r", "why"], {}, 3, "no question with id deadbeef"),
    (["forecast", "ID", "-p", "2"], {}, 1, "probability must be between 0 and 1"),
    (["forecast", "ID", "-p", "0.4", "--at", "someday"], {}, 1, "someday"),
    (["resolve", "ID", "yes", "--on", "2027-02-30"], {}, 1, "no such day"),
    (["sql", "COPY forecast_records TO 'out.csv'"], {}, 1, "ledger sql is read-only"),
    (["report", "--out", "/"], {}, 1, "refusing to write a report into /"),
    (["report", "--out", "."], {}, 1, "is not empty and is not a report folder of ours"),
    (["demo", "--demo-db", "notes.txt"], {}, 1, "is not a demo ledger made by `ledger demo`"),
    (["frobnicate"], {}, 2, "error: No such command 'frobnicate' (see `root --help`)"),
    (["annul", "ID"], {}, 2, "error: Missing option '--reason' / '-r' (see `root annul --help`)"),
    (["list", "--colour"], {}, 2, "error: No such option: --colour"),
    (["score", "--policy", "best"], {}, 1, "error: --policy must be one of time-averaged, first, last"),
]


@pytest.fixture
def ledger_with_a_question(cli, db_path, tmp_path, monkeypatch):
    """A ledger with one question (tag geo, forecaster tester), the case files, and a symlink to the ledger."""
    monkeypatch.chdir(tmp_path)
    question = cli("add", "Something happens", "-p", "0.4", "--by", "2030", "-c", "as stated",
                   "--tag", "geo").stdout.strip()
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "link.ics").symlink_to(db_path)
    return question


@pytest.mark.parametrize(("args", "env", "code", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_input_is_one_line_and_changes_nothing(cli, db_path, tmp_path, monkeypatch, ledger_with_a_question,
                                                     args, env, code, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    names = {"ID": ledger_with_a_question, "LEDGER": str(db_path), "LINK": str(tmp_path / "link.ics")}
    args = [names.get(arg, arg) for arg in args]
    before = ledger_bytes(db_path)
    notes = (tmp_path / "notes.txt").read_bytes()
    result = cli(*args, ok=False)
    assert result.exit_code == code, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert ledger_bytes(db_path) == before
    assert (tmp_path / "notes.txt").read_bytes() == notes
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
