"""Import and export of whole track records: CSV, JSONL and Parquet.

One row per forecast, in the columns of :mod:`ledger.io.columns` (the
README's table is generated from it). Everything is done set-wise with
DuckDB's own readers, in the store's staging tables and one transaction: a
bad row imports nothing and the message names its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import LedgerError
from ledger.io.columns import COLUMNS, export_sql, typed_sql

if TYPE_CHECKING:
    from ledger.store import Staging, Store

__all__ = ["FORMATS", "ImportResult", "detect_format", "export", "import_file"]

FORMATS = ("csv", "jsonl", "parquet")


@dataclass(frozen=True)
class ImportResult:
    questions: int
    forecasts: int
    resolutions: int
    backfilled: int  # forecasts marked backfilled (see the forecasts view)
    resolved_at_import: int  # outcomes with no resolved_at and no default: known at the import time
    recorded_at: datetime | None = None


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
    ("outcome_kind = 'bad'", "outcome {outcome!r} is not yes/no, 1/0, true/false, an option, annulled or blank"),
    ("source_published IS NULL AND raw_source_published IS NOT NULL",
     "source_published {raw_source_published!r} is not a date"),
]


def import_file(
    store: Store,
    path: Path | str,
    *,
    fmt: str | None = None,
    resolve_by: date | None = None,
    forecaster: str | None = None,
    made_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> ImportResult:
    """Import a track record atomically; a bad row imports nothing and is named by line.

    ``made_at`` and ``resolved_at`` are defaults for rows without them (a
    sheet that lacks the columns). An outcome with neither is taken as
    known at the import time; the result counts those so the caller says so.
    """
    import duckdb

    from ledger.models import default_forecaster

    path = Path(path)
    if not path.exists():
        raise LedgerError(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    reader = _reader(path, fmt)
    with store.staging() as staging:
        try:
            types = staging.columns(reader)
        except duckdb.Error as error:
            raise LedgerError(f"{path.name}: cannot read as {fmt}: {_reader_error(error)}") from None
        missing = [c.name for c in COLUMNS if c.required and c.name not in types
                   and not (c.default and resolve_by) and not (c.name == "probability" and "probabilities" in types)]
        if missing:
            hint = " (or pass --resolve-by)" if "resolve_by" in missing else ""
            raise LedgerError(f"{path.name}: missing column {', '.join(missing)}{hint}")
        try:
            staging.create(
                "import_rows",
                f"""
                WITH typed AS (
                    SELECT row_number() OVER () + {1 if fmt == 'csv' else 0} AS line,
                           {typed_sql(types, csv=fmt == "csv")}
                    FROM {reader} raw
                )
                SELECT *,
                       coalesce(question_key, '#' || line) AS key,
                       CASE WHEN outcome IS NULL THEN NULL
                            WHEN lower(outcome) IN ('annulled', 'annul', 'ambiguous', 'void') THEN 'annulled'
                            WHEN options IS NULL AND lower(outcome) IN ('yes', 'y', 'true', '1', '1.0') THEN 'yes'
                            WHEN options IS NULL AND lower(outcome) IN ('no', 'n', 'false', '0', '0.0') THEN 'no'
                            WHEN options IS NOT NULL THEN
                                 options[list_position(list_transform(options, lambda o: lower(o)), lower(outcome))]
                       END AS outcome_value,
                       CASE WHEN outcome IS NULL THEN 'none'
                            WHEN outcome_value IS NULL THEN 'bad'
                            WHEN outcome_value = 'annulled' THEN 'annulled'
                            ELSE 'resolved' END AS outcome_kind
                FROM typed
                """,
                {"default_resolve_by": resolve_by, "forecaster": forecaster or default_forecaster()},
            )
        except duckdb.Error as error:
            raise LedgerError(f"{path.name}: cannot read as {fmt}: {_reader_error(error)}") from None
        _check_rows(staging, path.name)
        return _write_import(store, staging, path.name, made_at=made_at, resolved_at=resolved_at)


def _check_rows(staging: Staging, name: str) -> None:
    """Raise for the first row (by line) that breaks any check, naming line and value."""
    union = " UNION ALL ".join(
        f"SELECT {i} AS check_id, line FROM import_rows WHERE {condition}"
        for i, (condition, _) in enumerate(_ROW_CHECKS)
    )
    bad = staging.first(
        f"""SELECT c.check_id, r.* FROM (SELECT check_id, line FROM ({union}) ORDER BY line, check_id LIMIT 1) c
            JOIN import_rows r USING (line)"""
    )
    if bad:
        raise LedgerError(f"{name} line {bad['line']}: {_ROW_CHECKS[bad['check_id']][1].format(**bad)}")
    conflict = staging.first(
        """
        SELECT question_key, min(line) AS line FROM import_rows WHERE question_key IS NOT NULL
        GROUP BY question_key
        HAVING count(DISTINCT statement) > 1 OR count(DISTINCT outcome_value) > 1
            OR count(DISTINCT resolve_by) > 1 OR count(DISTINCT coalesce(options::VARCHAR, '')) > 1
        ORDER BY 2 LIMIT 1
        """
    )
    if conflict:
        raise LedgerError(
            f"{name} line {conflict['line']}: rows of question_key {conflict['question_key']!r} disagree on the "
            "statement, resolve_by, options or outcome"
        )


def _write_import(store: Store, staging: Staging, name: str, *,
                  made_at: datetime | None, resolved_at: datetime | None) -> ImportResult:
    if made_at and resolved_at and made_at > resolved_at:
        raise LedgerError("--made-at is after --resolved-at: a forecast made after the outcome is no forecast")
    with store.write(f"import {name}") as writer:
        if any(d and d > writer.recorded_at for d in (made_at, resolved_at)):
            raise LedgerError("--made-at and --resolved-at cannot be in the future")
        # One id per question; its fields come from its first row, its
        # resolution from its first row with an outcome (checks made sure
        # the rows agree).
        staging.create(
            "import_questions",
            """
            SELECT key, substr(replace(uuid()::VARCHAR, '-', ''), 1, 16) AS id, min(line) AS line,
                   arg_min({'outcome': outcome_value, 'kind': outcome_kind, 'resolved_at': resolved_at,
                            'note': resolution_note, 'evidence': evidence}, line)
                       FILTER (WHERE outcome_kind <> 'none') AS resolution
            FROM import_rows GROUP BY key
            """,
        )
        questions = writer.append(
            "question_records",
            """SELECT q.id, CASE WHEN r.options IS NULL THEN 'binary' ELSE 'multiple_choice' END,
                      r.statement, r.criteria, r.resolve_by, r.options,
                      list_filter(r.tags, lambda t, i: list_position(r.tags, t) = i),
                      r.source_title, r.source_author, r.source_outlet, r.source_url, r.source_published,
                      r.quote, $1::TIMESTAMP
               FROM import_questions q JOIN import_rows r USING (line) ORDER BY q.line""",
            [writer.recorded_at],
        )
        forecasts = writer.append(
            "forecast_records",
            """SELECT q.id, r.forecaster, CASE WHEN r.options IS NULL THEN r.probability END, r.probabilities,
                      coalesce(r.made_at, $2::TIMESTAMP, r.source_published::TIMESTAMP,
                               least(coalesce(r.resolved_at, $3::TIMESTAMP), $1::TIMESTAMP)),
                      $1::TIMESTAMP, r.note
               FROM import_rows r JOIN import_questions q USING (key)""",
            [writer.recorded_at, made_at, resolved_at],
        )
        resolutions = writer.append(
            "resolution_records",
            """SELECT q.id, CASE WHEN q.resolution.kind = 'resolved' THEN q.resolution.outcome END,
                      q.resolution.kind = 'annulled', coalesce(q.resolution.resolved_at, $2::TIMESTAMP, $1::TIMESTAMP),
                      q.resolution.note, q.resolution.evidence, NULL, $1::TIMESTAMP
               FROM import_questions q WHERE q.resolution IS NOT NULL ORDER BY q.line""",
            [writer.recorded_at, resolved_at],
        )
        undated = 0 if resolved_at else staging.first(
            "SELECT count(*) AS n FROM import_questions WHERE resolution IS NOT NULL AND resolution.resolved_at IS NULL"
        )["n"]
        backfilled = writer.count_backfilled()
    return ImportResult(questions=questions, forecasts=forecasts, resolutions=resolutions, backfilled=backfilled,
                        resolved_at_import=undated, recorded_at=writer.recorded_at)


COPY_OPTIONS = {"csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json", "parquet": "FORMAT parquet"}


def export(store: Store, out: Path | None, fmt: str) -> int:
    """Write every forecast, with its question and current resolution, as one row each (to stdout without ``out``).

    CSV cells that a spreadsheet would run are guarded (:mod:`ledger.io.formula`;
    import removes the guard again); lists are JSON text in CSV, real lists
    elsewhere. Returns the number of rows.
    """
    if fmt not in FORMATS:
        raise LedgerError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    query = export_sql(csv=fmt == "csv")
    if out is not None:
        return store.copy_out(query, out, COPY_OPTIONS[fmt])
    import shutil
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"export.{fmt}"
        count = store.copy_out(query, target, COPY_OPTIONS[fmt])
        with target.open("rb") as handle:
            sys.stdout.flush()
            shutil.copyfileobj(handle, sys.stdout.buffer)
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
