"""The import/export columns: one specification that generates the import's typed read, the export query and the README table.

One row per forecast. Each :class:`Column` says what it holds (``kind``),
where the export takes it from, whether the import needs it, whether its
text is formula-guarded in CSV, and what it means (the README's table is
:func:`readme_table`, checked by ``tests/test_io.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.io.formula import guard_sql, unguard_sql

__all__ = ["COLUMNS", "Column", "RENORMALISE_TOLERANCE", "epoch_sql", "export_sql", "moment_sql", "readme_table", "typed_sql"]

# How each kind of column is typed, and what its missing value is.
SQL_TYPES = {
    "text": "VARCHAR", "probability": "DOUBLE", "date": "DATE", "moment": "TIMESTAMP",
    "text_list": "VARCHAR[]", "number_list": "DOUBLE[]", "tags": "VARCHAR[]",
}
PARSED = ("probability", "date", "moment")  # kept raw as well, to name a value that is not one
# Multiple-choice sums this close to 1 are a rounding (0.3333 × 3 is 0.9999): divided out, with a note.
RENORMALISE_TOLERANCE = 0.01


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # a key of SQL_TYPES
    export: str  # its value in the export, over forecasts f, questions q and current resolutions r
    meaning: str
    required: bool = False
    default: str | None = None  # the import's parameter used when a row has no value
    imported: bool = True  # False: export only (what a new ledger records for itself)

    @property
    def guarded(self) -> bool:
        """Free text, which a spreadsheet could run: formula-guarded in CSV."""
        return self.kind == "text"


COLUMNS: tuple[Column, ...] = (
    Column("question_key", "text", "q.id",
           "rows sharing a key are forecasts on one question; without it each row is its own question "
           "(export: the question's id)"),
    Column("statement", "text", "q.statement", "the question", required=True),
    Column("criteria", "text", "q.criteria", "resolution criteria"),
    Column("resolve_by", "date", "q.resolve_by", "ISO date (`2027-06-30`)", required=True,
           default="default_resolve_by"),
    Column("options", "text_list", "q.options", "multiple choice: the options, a JSON array (JSON text in a CSV cell)"),
    Column("tags", "tags", "q.tags", "JSON array, or `a;b`"),
    Column("forecaster", "text", "f.forecaster", "who forecast (default: `--forecaster`, or you)", default="forecaster"),
    Column("probability", "probability", "f.probability", "P(yes) of a yes/no question: `0.7` or `70%`",
           required=True),
    Column("probabilities", "number_list", "f.probabilities",
           "multiple choice: one probability per option, a JSON array"),
    Column("made_at", "moment", "f.made_at", "when the forecast was made (UTC)"),
    Column("recorded_at", "moment", "f.recorded_at",
           "export only: when the ledger recorded the forecast (an import records its own time)", imported=False),
    Column("note", "text", "f.note", "note on the forecast"),
    Column("outcome", "text", "CASE WHEN r.annulled THEN 'annulled' ELSE r.outcome END",
           "`yes`/`no`, `true`/`false`, `1`/`0`, an option, `annulled`, or blank"),
    Column("resolved_at", "moment", "r.resolved_at", "when the outcome became known (UTC)"),
    Column("resolution_note", "text", "r.note", "note on the resolution (the reason, when annulled)"),
    Column("evidence", "text", "r.evidence", "evidence URL for the resolution"),
    Column("source_title", "text", "q.source_title", "the source's title"),
    Column("source_author", "text", "q.source_author", "the source's author"),
    Column("source_outlet", "text", "q.source_outlet", "where the source was published"),
    Column("source_url", "text", "q.source_url", "the source's URL"),
    Column("source_published", "date", "q.source_published", "when the source was published (ISO date)"),
    Column("quote", "text", "q.quote", "the sentence the prediction was taken from"),
)


def readme_table() -> str:
    """The README's column table (Markdown)."""
    rows = [f"| `{c.name}` | {'required: ' if c.required else ''}{c.meaning} |" for c in COLUMNS]
    return "\n".join(["| column | meaning |", "|---|---|", *rows])


NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "DECIMAL")
# Epoch numbers from this size up are milliseconds: 1e11 seconds would be the year 5138.
EPOCH_MS_FROM = 100_000_000_000
# A time of day followed by a zone (`Z`, `UTC`, `+05:30`, `-0500`, `-05`): converted to UTC.
ZONED = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|UTC|[+-]\d\d(:?\d\d)?)$"
EPOCH = r"\d{9,13}(\.\d+)?"


def epoch_sql(number: str) -> str:
    """Epoch seconds, or milliseconds (from :data:`EPOCH_MS_FROM` up), as a UTC TIMESTAMP."""
    return (f"make_timestamp(CAST(CAST({number} AS DOUBLE) * CASE WHEN CAST({number} AS DOUBLE) >= {EPOCH_MS_FROM} "
            f"THEN 1000 ELSE 1000000 END AS BIGINT))")


def moment_sql(text: str) -> str:
    """A time written as text, as a UTC TIMESTAMP (NULL when it is none), whatever the session's zone.

    An offset or zone is converted; a naive time is UTC; a bare 9-13 digit
    number is an epoch in seconds or milliseconds.
    """
    # The plain forms (what our export writes) first, by a cheap LIKE: they are most rows, and
    # neither regular expression below can match them.
    return (f"CASE WHEN {text} LIKE '____-__-__ __:__:__' OR {text} LIKE '____-__-__' THEN TRY_CAST({text} AS TIMESTAMP) "
            f"WHEN regexp_full_match({text}, '{EPOCH}') THEN {epoch_sql(text)} "
            f"WHEN regexp_matches({text}, '{ZONED}') THEN TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
            f"ELSE TRY_CAST({text} AS TIMESTAMP) END")


def _time_value(column: Column, file_type: str, text: str) -> str:
    """A date or moment column's value from the file's own type (a zone-aware or epoch column), else its text."""
    name = f"raw.{column.name}"
    if file_type == "TIMESTAMP WITH TIME ZONE":  # Parquet's and pandas' zone-aware times: an instant
        moment = f"({name} AT TIME ZONE 'UTC')"
    elif file_type.startswith(NUMERIC):
        moment = epoch_sql(name)
    elif file_type in ("TIMESTAMP", "DATE") or file_type.startswith("TIMESTAMP_"):
        moment = f"CAST({name} AS TIMESTAMP)"
    else:
        return moment_sql(text) if column.kind == "moment" else f"TRY_CAST({text} AS DATE)"
    return f"CAST({moment} AS DATE)" if column.kind == "date" else moment


def _typed(column: Column, types: dict[str, str], csv: bool) -> dict[str, str]:
    """The typed value (and, for a parsed kind, the raw text) of one column of the file."""
    name, sql_type = column.name, SQL_TYPES[column.kind]
    if name not in types:
        missing = "[]::VARCHAR[]" if column.kind == "tags" else f"NULL::{sql_type}"
        text = "NULL::VARCHAR" if column.kind in PARSED else missing
    else:
        text = f"NULLIF(trim(CAST(raw.{name} AS VARCHAR)), '')"
        missing = None
    is_list = types.get(name, "").endswith("[]")  # JSONL and Parquet carry real lists
    if column.kind == "text":
        value = unguard_sql(text) if csv and name in types else text
    elif column.kind == "probability":
        value = (f"CASE WHEN {text} LIKE '%\\%' ESCAPE '\\' THEN TRY_CAST(rtrim({text}, '%') AS DOUBLE) / 100 "
                 f"ELSE TRY_CAST({text} AS DOUBLE) END")
    elif column.kind in ("date", "moment"):
        value = _time_value(column, types[name], text) if name in types else f"NULL::{sql_type}"
    elif missing is not None:
        value = missing
    elif is_list and column.kind == "tags":
        value = f"coalesce(CAST(raw.{name} AS VARCHAR[]), [])"
    elif is_list:
        value = f"CAST(raw.{name} AS {sql_type})"
    elif column.kind == "tags":  # a JSON array as text, or `a;b` as a person types it in a spreadsheet
        value = (f"CASE WHEN {text} IS NULL THEN []::VARCHAR[] "
                 f"WHEN {text} LIKE '[%' THEN TRY_CAST(CAST({text} AS JSON) AS VARCHAR[]) "
                 f"ELSE list_filter(list_transform(string_split({text}, ';'), lambda t: trim(t)), lambda t: t <> '') END")
    else:  # a list as JSON text (CSV)
        value = f"TRY_CAST(CAST({text} AS JSON) AS {sql_type})"
    if column.name == "options":  # `options: []` (Metaculus writes it on every binary row) is a yes/no question
        value = f"CASE WHEN len({value}) = 0 THEN NULL ELSE {value} END"
    if column.default:  # a default fills a missing value only: a row's own value, even unreadable, wins
        value = f"CASE WHEN {text} IS NULL THEN ${column.default}::{sql_type} ELSE {value} END"
    typed = {name: value}
    if column.kind in PARSED:
        typed[f"raw_{name}"] = text
    return typed


def typed_sql(types: dict[str, str], csv: bool) -> str:
    """The select list that reads a file (``raw``, with columns ``types``) into typed import columns.

    A column the file lacks is NULL (tags: empty); a parsed column that does
    not parse is NULL beside its ``raw_`` text, for the checks to name it;
    CSV text loses the formula guard export gave it.
    """
    typed: dict[str, str] = {}
    for column in COLUMNS:
        if column.imported:
            typed.update(_typed(column, types, csv))
    return ",\n".join(f"{value} AS {name}" for name, value in typed.items())


def export_sql(csv: bool) -> str:
    """Every forecast with its question and current resolution, one row each, in :data:`COLUMNS` order.

    CSV carries lists as JSON text and guards free text against formulas.
    """

    def value(column: Column) -> str:
        if csv and column.guarded:
            return guard_sql(column.export)
        if csv and SQL_TYPES[column.kind].endswith("[]"):
            return f"to_json({column.export})"
        return column.export

    select = ",\n       ".join(f"{value(c)} AS {c.name}" for c in COLUMNS)
    return f"""
SELECT {select}
FROM forecasts f
JOIN questions q ON q.id = f.question_id
LEFT JOIN resolutions r ON r.question_id = q.id AND r.current
ORDER BY f.seq
"""
