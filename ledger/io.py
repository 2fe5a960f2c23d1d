"""Import and export of whole track records: CSV, JSONL and Parquet.

One row per forecast. Columns (only ``statement``, ``probability`` and
``resolve_by`` are required; ``resolve_by`` may come from the command line):

=================  ==========================================================
statement          the question
probability        P(yes) of a yes/no question: 0.7 or 70%
resolve_by         ISO date (2027-06-30)
question_key       rows sharing a key are forecasts on one question; without
                   the column every row is its own question
criteria           resolution criteria
options            multiple choice: JSON array (in CSV a JSON text) of options
probabilities      multiple choice: JSON array of probabilities, one per option
outcome            yes/no, true/false, 1/0, an option, ``annulled``, or blank
resolved_at        when the outcome became known (ISO date or timestamp, UTC)
resolution_note    note on the resolution (the reason, when annulled)
evidence           evidence URL for the resolution
forecaster         who forecast (default: ``--forecaster`` or you)
made_at            when the forecast was made (UTC). Without it: source_published,
                   else resolved_at if given (a row logged after its outcome cannot
                   claim an earlier time), else now. Earlier than now = backfilled
note               note on the forecast
tags               JSON array, or ``;``-separated text
source_title, source_author, source_outlet, source_url, source_published, quote
=================  ==========================================================

Everything is done set-wise with DuckDB's own readers and one transaction:
a bad row imports nothing and the message names its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ledger.errors import LedgerError
from ledger.store import Store

FORMATS = ("csv", "jsonl", "parquet")
TEXT_COLUMNS = (
    "question_key", "statement", "criteria", "outcome", "resolution_note", "evidence", "forecaster",
    "note", "source_title", "source_author", "source_outlet", "source_url", "quote",
)
REQUIRED = ("statement", "resolve_by")


@dataclass(frozen=True)
class ImportResult:
    questions: int
    forecasts: int
    resolutions: int


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise LedgerError(f"cannot tell the format of {path.name}: use .csv, .jsonl or .parquet (or --format)")
    return fmt


def _reader(path: Path, fmt: str) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "csv":
        # The header is read here and the dialect fixed, so that DuckDB's strict
        # parser rejects a ragged row (naming its line) instead of guessing.
        import csv

        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = [name.strip().lower() for name in next(csv.reader(handle), [])]
        except UnicodeDecodeError:
            raise LedgerError(f"{path.name} is not UTF-8 text: save it as UTF-8 (CSV UTF-8 in a spreadsheet)") from None
        if not header:
            raise LedgerError(f"{path.name} is empty: its first line must be the header (statement,probability,…)")
        if twice := sorted({name for name in header if header.count(name) > 1}):
            raise LedgerError(f"{path.name}: the header names {', '.join(twice)} more than once")
        columns = ", ".join("'" + name.replace("'", "''") + "': 'VARCHAR'" for name in header)
        return (
            f"read_csv({quoted}, header = true, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', strict_mode = true, columns = {{{columns}}})"
        )
    if fmt == "jsonl":
        return f"read_json({quoted}, format = 'newline_delimited')"
    return f"read_parquet({quoted})"


# Each check: a condition on a normalised row that makes it wrong, and what to say.
_ROW_CHECKS = [
    ("statement IS NULL OR trim(statement) = ''", "statement is empty"),
    ("resolve_by IS NULL AND raw_resolve_by IS NOT NULL", "resolve_by {raw_resolve_by!r} is not a date (use 2027-06-30)"),
    ("resolve_by IS NULL", "resolve_by is missing (add the column, or pass --resolve-by)"),
    ("options IS NULL AND probability IS NULL AND raw_probability IS NOT NULL",
     "probability {raw_probability!r} is not a number like 0.7 or 70%"),
    ("options IS NULL AND probability IS NULL", "probability is missing"),
    ("options IS NULL AND NOT probability BETWEEN 0 AND 1", "probability {probability} is not between 0 and 1"),
    ("options IS NOT NULL AND len(options) < 2", "a multiple-choice question needs at least two options"),
    ("options IS NOT NULL AND (probabilities IS NULL OR len(probabilities) <> len(options))",
     "give one probability for each option"),
    ("options IS NOT NULL AND list_bool_or(list_transform(probabilities, lambda x: NOT x BETWEEN 0 AND 1))",
     "every probability must be between 0 and 1"),
    ("options IS NOT NULL AND abs(list_sum(probabilities) - 1) > 1e-6", "probabilities must sum to 1"),
    ("made_at IS NULL AND raw_made_at IS NOT NULL", "made_at {raw_made_at!r} is not a date or time"),
    ("made_at > now() AT TIME ZONE 'UTC'", "made_at is in the future"),
    ("resolved_at IS NULL AND raw_resolved_at IS NOT NULL", "resolved_at {raw_resolved_at!r} is not a date or time"),
    ("outcome_kind = 'bad'", "outcome {raw_outcome!r} is not yes/no, 1/0, true/false, an option, annulled or blank"),
    ("source_published IS NULL AND raw_source_published IS NOT NULL",
     "source_published {raw_source_published!r} is not a date"),
]


def _column(present: set[str], name: str, sql_type: str = "VARCHAR") -> str:
    """The raw column as text, or NULL when the file does not have it."""
    if name not in present:
        return f"NULL::{sql_type}"
    return f"NULLIF(trim(CAST(raw.{name} AS VARCHAR)), '')"


def _list_column(types: dict[str, str], name: str, element: str) -> str:
    """A list column from a real list (JSONL, Parquet) or a JSON text (CSV)."""
    if name not in types:
        return f"NULL::{element}[]"
    if types[name].endswith("[]"):
        return f"CAST(raw.{name} AS {element}[])"
    return f"TRY_CAST(CAST(NULLIF(trim(CAST(raw.{name} AS VARCHAR)), '') AS JSON) AS {element}[])"


def _unquote(expression: str) -> str:
    """Undo the spreadsheet-formula guard that export puts on text (a leading ')."""
    return (
        f"CASE WHEN starts_with({expression}, chr(39)) AND substr({expression}, 2, 1) IN ('=', '+', '-', '@') "
        f"THEN substr({expression}, 2) ELSE {expression} END"
    )


def import_file(
    store: Store,
    path: Path | str,
    *,
    fmt: str | None = None,
    resolve_by: date | None = None,
    forecaster: str | None = None,
) -> ImportResult:
    """Import a track record atomically; a bad row imports nothing and is named by line."""
    import duckdb

    from ledger.models import default_forecaster

    path = Path(path)
    if not path.exists():
        raise LedgerError(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    con = store.con
    reader = _reader(path, fmt)
    try:
        types = {row[0].lower(): row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    except duckdb.Error as error:
        raise LedgerError(f"{path.name}: cannot read as {fmt}: {_reader_error(error)}") from None
    present = set(types)
    missing = [name for name in REQUIRED if name not in present and not (name == "resolve_by" and resolve_by)]
    if "probability" not in present and "probabilities" not in present:
        missing.append("probability")
    if missing:
        hint = " (or pass --resolve-by)" if "resolve_by" in missing else ""
        raise LedgerError(f"{path.name}: missing column {', '.join(missing)}{hint}")
    text = {name: _column(present, name) for name in (*TEXT_COLUMNS, "probability", "resolve_by", "made_at",
                                                      "resolved_at", "source_published")}
    if fmt == "csv":  # only CSV exports carry the formula guard
        for name in TEXT_COLUMNS:
            text[name] = _unquote(text[name])
    if "tags" not in types:
        tags = "[]::VARCHAR[]"
    elif types["tags"].endswith("[]"):
        tags = "coalesce(CAST(raw.tags AS VARCHAR[]), [])"
    else:  # a JSON array as text, or `a;b` as a person types it in a spreadsheet
        tags = (
            "CASE WHEN raw.tags IS NULL THEN []::VARCHAR[] "
            "WHEN trim(CAST(raw.tags AS VARCHAR)) LIKE '[%' THEN TRY_CAST(CAST(raw.tags AS VARCHAR)::JSON AS VARCHAR[]) "
            "ELSE list_filter(list_transform(string_split(CAST(raw.tags AS VARCHAR), ';'), lambda t: trim(t)), lambda t: t <> '') END"
        )
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE import_rows AS
            WITH typed AS (
                SELECT row_number() OVER () + {1 if fmt == 'csv' else 0} AS line,
                       {text['statement']} AS statement,
                       {text['criteria']} AS criteria,
                       {text['question_key']} AS question_key,
                       {text['resolve_by']} AS raw_resolve_by,
                       coalesce(TRY_CAST({text['resolve_by']} AS DATE), $default_resolve_by::DATE) AS resolve_by,
                       {text['probability']} AS raw_probability,
                       CASE WHEN {text['probability']} LIKE '%\\%' ESCAPE '\\'
                            THEN TRY_CAST(rtrim({text['probability']}, '%') AS DOUBLE) / 100
                            ELSE TRY_CAST({text['probability']} AS DOUBLE) END AS probability,
                       {_list_column(types, 'options', 'VARCHAR')} AS options,
                       {_list_column(types, 'probabilities', 'DOUBLE')} AS probabilities,
                       {tags} AS tags,
                       coalesce({text['forecaster']}, $forecaster) AS forecaster,
                       {text['made_at']} AS raw_made_at,
                       TRY_CAST({text['made_at']} AS TIMESTAMP) AS made_at,
                       {text['note']} AS note,
                       {text['outcome']} AS raw_outcome,
                       {text['resolved_at']} AS raw_resolved_at,
                       TRY_CAST({text['resolved_at']} AS TIMESTAMP) AS resolved_at,
                       {text['resolution_note']} AS resolution_note,
                       {text['evidence']} AS evidence,
                       {text['source_title']} AS source_title,
                       {text['source_author']} AS source_author,
                       {text['source_outlet']} AS source_outlet,
                       {text['source_url']} AS source_url,
                       {text['source_published']} AS raw_source_published,
                       TRY_CAST({text['source_published']} AS DATE) AS source_published,
                       {text['quote']} AS quote
                FROM {reader} raw
            )
            SELECT *,
                   coalesce(question_key, '#' || line) AS key,
                   CASE WHEN raw_outcome IS NULL THEN NULL
                        WHEN lower(raw_outcome) IN ('annulled', 'annul', 'ambiguous', 'void') THEN 'annulled'
                        WHEN options IS NULL AND lower(raw_outcome) IN ('yes', 'y', 'true', '1', '1.0') THEN 'yes'
                        WHEN options IS NULL AND lower(raw_outcome) IN ('no', 'n', 'false', '0', '0.0') THEN 'no'
                        WHEN options IS NOT NULL THEN
                             options[list_position(list_transform(options, lambda o: lower(o)), lower(raw_outcome))]
                   END AS outcome_value,
                   CASE WHEN raw_outcome IS NULL THEN 'none'
                        WHEN outcome_value IS NULL THEN 'bad'
                        WHEN outcome_value = 'annulled' THEN 'annulled'
                        ELSE 'resolved' END AS outcome_kind
            FROM typed
            """,
            {"default_resolve_by": resolve_by, "forecaster": forecaster or default_forecaster()},
        )
    except duckdb.Error as error:
        raise LedgerError(f"{path.name}: cannot read as {fmt}: {_reader_error(error)}") from None
    _check_rows(con, path.name)
    return _write_import(store, path.name)


def _check_rows(con, name: str) -> None:
    """Raise for the first row (by line) that breaks any check, naming line and value."""
    union = " UNION ALL ".join(
        f"SELECT {i} AS check_id, line FROM import_rows WHERE {condition}"
        for i, (condition, _) in enumerate(_ROW_CHECKS)
    )
    bad = con.execute(f"SELECT check_id, line FROM ({union}) ORDER BY line, check_id LIMIT 1").fetchone()
    if bad:
        check_id, line = bad
        row = con.execute("SELECT * FROM import_rows WHERE line = ?", [line]).fetchone()
        columns = [c[0] for c in con.execute("DESCRIBE import_rows").fetchall()]
        values = dict(zip(columns, row, strict=True))
        raise LedgerError(f"{name} line {line}: {_ROW_CHECKS[check_id][1].format(**values)}")
    conflict = con.execute(
        """
        SELECT question_key, min(line) FROM import_rows WHERE question_key IS NOT NULL
        GROUP BY question_key
        HAVING count(DISTINCT statement) > 1 OR count(DISTINCT outcome_value) > 1
            OR count(DISTINCT resolve_by) > 1 OR count(DISTINCT coalesce(options::VARCHAR, '')) > 1
        ORDER BY 2 LIMIT 1
        """
    ).fetchone()
    if conflict:
        raise LedgerError(
            f"{name} line {conflict[1]}: rows of question_key {conflict[0]!r} disagree on the "
            "statement, resolve_by, options or outcome"
        )


def _write_import(store: Store, name: str) -> ImportResult:
    con = store.con
    with store.write(f"import {name}") as writer:
        # One id per question; its fields come from its first row, its
        # resolution from its first row with an outcome (checks made sure
        # the rows agree).
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE import_questions AS
            SELECT key, substr(replace(uuid()::VARCHAR, '-', ''), 1, 16) AS id, min(line) AS line,
                   arg_min({'outcome': outcome_value, 'kind': outcome_kind, 'resolved_at': resolved_at,
                            'note': resolution_note, 'evidence': evidence}, line)
                       FILTER (WHERE outcome_kind <> 'none') AS resolution
            FROM import_rows GROUP BY key
            """
        )
        questions = writer._append(
            "question_records",
            """SELECT q.id, CASE WHEN r.options IS NULL THEN 'binary' ELSE 'multiple_choice' END,
                      r.statement, r.criteria, r.resolve_by, r.options,
                      list_filter(r.tags, lambda t, i: list_position(r.tags, t) = i),
                      r.source_title, r.source_author, r.source_outlet, r.source_url, r.source_published,
                      r.quote, $1::TIMESTAMP
               FROM import_questions q JOIN import_rows r USING (line) ORDER BY q.line""",
            [writer.recorded_at],
        )
        forecasts = writer._append(
            "forecast_records",
            """SELECT q.id, r.forecaster, CASE WHEN r.options IS NULL THEN r.probability END, r.probabilities,
                      coalesce(r.made_at, r.source_published::TIMESTAMP, least(r.resolved_at, $1::TIMESTAMP)),
                      $1::TIMESTAMP, r.note
               FROM import_rows r JOIN import_questions q USING (key)""",
            [writer.recorded_at],
        )
        resolutions = writer._append(
            "resolution_records",
            """SELECT q.id, CASE WHEN q.resolution.kind = 'resolved' THEN q.resolution.outcome END,
                      q.resolution.kind = 'annulled', coalesce(q.resolution.resolved_at, $1::TIMESTAMP),
                      q.resolution.note, q.resolution.evidence, NULL, $1::TIMESTAMP
               FROM import_questions q WHERE q.resolution IS NOT NULL ORDER BY q.line""",
            [writer.recorded_at],
        )
    for table in ("import_rows", "import_questions"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return ImportResult(questions=questions, forecasts=forecasts, resolutions=resolutions)


_EXPORT = """
SELECT q.id AS question_key, q.statement, q.criteria, q.resolve_by, q.options, q.tags,
       f.forecaster, f.probability, f.probabilities, f.made_at, f.recorded_at, f.note,
       CASE WHEN r.annulled THEN 'annulled' ELSE r.outcome END AS outcome,
       r.resolved_at, r.note AS resolution_note, r.evidence,
       q.source_title, q.source_author, q.source_outlet, q.source_url, q.source_published, q.quote
FROM forecasts f
JOIN questions q ON q.id = f.question_id
LEFT JOIN resolutions r ON r.question_id = q.id AND r.current
ORDER BY f.seq
"""


def export(store: Store, out: Path | None, fmt: str) -> int:
    """Write every forecast, with its question and current resolution, as one row each.

    CSV cells that a spreadsheet would evaluate get a leading ``'`` (import
    removes it again); lists are JSON text in CSV, real lists elsewhere.
    """
    import tempfile

    if fmt not in FORMATS:
        raise LedgerError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    query = _EXPORT
    if fmt == "csv":
        guarded = ", ".join(
            f"CASE WHEN left({c}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN chr(39) || {c} ELSE {c} END AS {c}"
            for c in TEXT_COLUMNS
        )
        query = (
            f"SELECT * REPLACE ({guarded}, to_json(options) AS options, to_json(tags) AS tags, "
            f"to_json(probabilities) AS probabilities) FROM ({_EXPORT})"
        )
    options = {"csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json", "parquet": "FORMAT parquet"}[fmt]
    copy = f"COPY ({query}) TO ? ({options})"
    count = store.con.execute("SELECT count(*) FROM forecasts").fetchone()[0]
    if out is None:
        import shutil
        import sys

        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"export.{fmt}"
            store.con.execute(copy, [str(target)])
            with target.open("rb") as handle:
                sys.stdout.flush()
                shutil.copyfileobj(handle, sys.stdout.buffer)
    else:
        import duckdb

        try:
            store.con.execute(copy, [str(out)])
        except duckdb.IOException as error:
            raise LedgerError(f"cannot write {out}: {_first_line(error)}") from None
    return count


def _reader_error(error: Exception) -> str:
    """DuckDB's reader errors span many lines; keep the line and what is wrong."""
    import re

    text = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    expected = re.search(r"Expected Number of Columns: (\d+)", text)
    if line and expected:
        return f"line {line.group(1)} does not have {expected.group(1)} cells like the header"
    if "invalid unicode" in text.lower():
        return f"{f'line {line.group(1)} is' if line else 'it is'} not UTF-8 text (save the file as UTF-8)"
    return _first_line(error)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
