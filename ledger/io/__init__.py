"""Import and export of whole track records: CSV, JSONL and Parquet.

One row per forecast, in the columns of :mod:`ledger.io.columns` (the
README's table is generated from it). Everything is done set-wise with
DuckDB's own readers, in the store's staging tables and one transaction: a
bad row imports nothing and the message names its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ledger.errors import LedgerError
from ledger.io.columns import COLUMNS, RENORMALISE_TOLERANCE, export_sql, typed_sql
from ledger.io.csvfile import CsvFile, open_csv, physical_line

if TYPE_CHECKING:
    from ledger.store import Staging, Store

__all__ = ["FORMATS", "ImportResult", "detect_format", "export", "import_file", "import_files", "import_steps",
           "parse_mapping"]

FORMATS = ("csv", "jsonl", "parquet")

# An import's steps after reading its files (one step each): stage, check, compare with the
# ledger, write questions, forecasts, resolutions. Each is one set-wise statement, so a step
# is the finest progress there is; on a million rows each takes seconds.
STEPS_AFTER_READING = 6


def import_steps(files: int) -> int:
    """How many steps :func:`import_files` reports through ``on_progress`` for ``files`` files."""
    return files + STEPS_AFTER_READING


@dataclass(frozen=True)
class ImportResult:
    questions: int
    forecasts: int
    resolutions: int
    backfilled: int  # forecasts marked backfilled (see the forecasts view)
    resolved_at_import: int  # outcomes with no resolved_at and no default: known at the import time
    recorded_at: datetime | None = None
    forecasters: tuple[str, ...] = ()
    skipped: int = 0  # forecasts already in the ledger, skipped (--skip-existing)
    notes: tuple[str, ...] = ()  # what the user should know: formats detected, columns ignored, values changed


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet", "tsv": "csv"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise LedgerError(f"cannot tell the format of {path.name}: use .csv, .tsv, .jsonl or .parquet (or --format)")
    return fmt


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_reader(csv_file: CsvFile) -> str:
    # The header is read beforehand and the dialect fixed, so that DuckDB's
    # strict parser rejects a ragged row (naming its line) instead of guessing.
    header = csv_file.header
    if twice := sorted({name for name in header if header.count(name) > 1}):
        raise LedgerError(f"{csv_file.name}: the header names {', '.join(twice)} more than once")
    columns = ", ".join(f"{_quoted(name)}: 'VARCHAR'" for name in header)
    return (
        f"read_csv({_quoted(str(csv_file.path))}, header = true, auto_detect = false, "
        f"delim = {_quoted(csv_file.delimiter)}, quote = '\"', escape = '\"', strict_mode = true, "
        f"columns = {{{columns}}})"
    )


def _reader(path: Path, fmt: str) -> str:
    if fmt == "jsonl":  # JSON lines, or one JSON array of rows
        return f"read_json({_quoted(str(path))}, format = 'auto')"
    return f"read_parquet({_quoted(str(path))})"


@dataclass
class _Source:
    """One file of an import, as a relation the typed read selects from."""

    name: str
    fmt: str  # csv, jsonl, parquet, or a peer format's name
    relation: str
    path: Path | None = None
    csv_file: CsvFile | None = None
    types: dict[str, str] = field(default_factory=dict)
    table: object | None = None  # a peer export's rows as read (a pyarrow Table)
    places: tuple[str | None, ...] = ()  # per peer row, the file and line it was read from

    def same_export(self, other: _Source) -> bool:
        """Whether two files of one import hold one export: the same file (or a copy), or both files of a two-file
        peer export (a PredictionBook dump, a Metaculus download given as its two CSVs).

        Reading it twice would store every forecast twice, so it is read once.
        """
        import filecmp

        if self.table is not None and other.table is not None:
            return self.fmt == other.fmt and self.table.equals(other.table)
        return (self.table is None and other.table is None and self.path is not None and other.path is not None
                and filecmp.cmp(self.path, other.path, shallow=False))

    def where(self, line: int) -> str:
        """How a message names this source's row ``line`` (its record number): by file line where there are lines."""
        if self.places and (place := self.places[line - 1]):  # a peer's row: where in the export it was read
            if place.startswith("line "):
                return f"{self.name} {place}"
            return place if place.startswith(f"{self.name} ") else f"{self.name}: {place}"
        if self.csv_file is not None:
            return f"{self.name} line {physical_line(self.csv_file, line)}"
        return f"{self.name} {'line' if self.fmt == 'jsonl' else 'row'} {line}"


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

PEER_NAMES = {"fatebook": "a Fatebook export", "predictionbook": "a PredictionBook export",
              "metaculus": "a Metaculus export", "manifold": "a Manifold export",
              "cultivate": "a Good Judgment Open / Cultivate export", "wide": "a wide contest sheet"}
KNOWN_COLUMNS = frozenset(c.name for c in COLUMNS)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``--map SRC=DEST`` pairs as {src: dest}; DEST must be an import column."""
    mapping: dict[str, str] = {}
    importable = [c.name for c in COLUMNS if c.imported]
    for pair in pairs:
        src, sep, dest = (part.strip().lower() for part in pair.partition("="))
        if not sep or not src or not dest:
            raise LedgerError(f"--map {pair!r}: write it as SOURCE=COLUMN, e.g. --map category=tags")
        if dest not in importable:
            raise LedgerError(f"--map {pair!r}: {dest!r} is not an import column ({', '.join(importable)})")
        mapping[src] = dest
    return mapping


def import_files(
    store: Store,
    paths: list[Path | str],
    *,
    fmt: str | None = None,
    peer: str = "auto",
    names: list[str] | None = None,
    resolve_by: date | None = None,
    forecaster: str | None = None,
    made_at: datetime | None = None,
    resolved_at: datetime | None = None,
    tags: list[str] | None = None,
    mapping: dict[str, str] | None = None,
    skip_existing: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import files (ours, or peers' exports) atomically; a bad row imports nothing and is named by line.

    ``peer`` is ``auto`` (a peer export is recognised, anything else is read
    as the ledger's own columns), ``ledger``, or a peer format's name.
    ``made_at``, ``resolved_at``, ``resolve_by``, ``forecaster`` and ``tags``
    are defaults for rows without a value: a row's own value always wins, and
    one that cannot be read is an error, never replaced. Rows already in the
    ledger are refused, or skipped with ``skip_existing``. ``dry_run`` checks
    and counts everything, then writes nothing. ``on_progress(n)`` is called
    as steps are done (:func:`import_steps` of them in all).
    """
    import tempfile

    from ledger.models import default_forecaster

    paths = [Path(p) for p in paths]
    names = names or [p.name for p in paths]
    for path, name in zip(paths, names, strict=True):
        if not path.exists():
            raise LedgerError(f"no such file: {name}")
    mapping = mapping or {}
    step = on_progress or (lambda n: None)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ledger-import-") as workdir, store.staging() as staging:
        sources: list[_Source] = []
        for i, (path, name) in enumerate(zip(paths, names, strict=True)):
            said = len(notes)
            source = _source(staging, path, name, i, fmt=fmt, peer=peer, resolve_by=resolve_by,
                             made_at=made_at, workdir=Path(workdir), notes=notes)
            if same := next((s for s in sources if s.same_export(source)), None):
                del notes[said:]  # its notes are the first one's again
                notes.append(f"{name} holds the same export as {same.name}: read once")
            else:
                sources.append(source)
            step(1)
        _apply_mapping(staging, sources, mapping)
        for source in sources:
            _check_columns(source, resolve_by, notes)
        _stage_rows(staging, sources, {"default_resolve_by": resolve_by,
                                       "forecaster": forecaster or default_forecaster(), "tags": list(tags or [])})
        step(1)
        _check_rows(staging, sources)
        step(1)
        renormalised = staging.first("SELECT count(*) AS n FROM import_rows WHERE renormalised")["n"]
        if renormalised:
            notes.append(f"{renormalised} multiple-choice forecast{'s' if renormalised > 1 else ''} summed to within "
                         f"{RENORMALISE_TOLERANCE} of 1 (a rounding such as 0.3333 × 3): divided by the sum")
        skipped = _existing(staging, sources, made_at, skip=skip_existing)
        step(1)
        forecasters = tuple(row for row in staging.values("SELECT DISTINCT forecaster FROM import_rows ORDER BY 1"))
        if not staging.first("SELECT count(*) AS n FROM import_rows")["n"]:
            return ImportResult(0, 0, 0, 0, 0, None, (), skipped, tuple(notes))
        result = _write_import(store, staging, ", ".join(names), made_at=made_at, resolved_at=resolved_at,
                               dry_run=dry_run, step=step)
    return replace(result, forecasters=forecasters, skipped=skipped, notes=tuple(notes))


def import_file(store: Store, path: Path | str, **options) -> ImportResult:
    """Import one file (see :func:`import_files`)."""
    return import_files(store, [path], **options)


def _source(staging: Staging, path: Path, name: str, index: int, *, fmt: str | None, peer: str,
            resolve_by: date | None, made_at: datetime | None, workdir: Path, notes: list[str]) -> _Source:
    """Read a file's shape: a peer's export is read by its reader; ours is left to DuckDB's readers."""
    if peer != "ledger" and fmt is None:
        from ledger import peers

        detected = peers.detect_format(path) if peer == "auto" else peer
        if detected is not None:
            if detected not in peers.FORMATS:
                raise LedgerError(f"unknown --from {detected!r}: use auto, ledger, {', '.join(peers.FORMATS)}")
            how = "detected" if peer == "auto" else "as --from says"
            notes.append(f"reading {name} as {PEER_NAMES[detected]} ({how})")
            try:
                read = peers.read(path, detected, resolve_by=resolve_by, made_at=made_at)
            except LedgerError as error:
                text = str(error)
                if not text.startswith(path.name):  # "line 6: …" reads "name line 6: …", as for our own files
                    text = f"{name} {text}" if text.startswith("line ") else f"{name}: {text}"
                raise LedgerError(text) from None
            notes.extend(read.notes)
            relation = f"peer_rows_{index}"
            staging.register(relation, read.table)
            return _Source(name, detected, relation, path, types=staging.columns(relation), table=read.table,
                           places=read.places)
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        csv_file = open_csv(path, name, workdir)
        if csv_file.note:
            notes.append(csv_file.note)
        return _Source(name, fmt, _csv_reader(csv_file), path, csv_file=csv_file)
    return _Source(name, fmt, _reader(path, fmt), path)


def _apply_mapping(staging: Staging, sources: list[_Source], mapping: dict[str, str]) -> None:
    """Rename mapped columns (``--map category=tags``) and read every source's column types."""
    import duckdb

    used: set[str] = set()
    for source in sources:
        try:
            types = source.types or staging.columns(source.relation)
        except duckdb.Error as error:
            raise LedgerError(f"{source.name}: cannot read as {source.fmt}: {_reader_error(error)}") from None
        if source.fmt in FORMATS:
            renames = {src: dest for src, dest in mapping.items() if src in types}
            for src, dest in renames.items():
                if dest in types:
                    raise LedgerError(f"{source.name}: --map {src}={dest}, but the file has a {dest} column already")
            used.update(renames)
            if renames:
                pairs = ", ".join(f'"{src}" AS "{dest}"' for src, dest in renames.items())
                source.relation = f"(SELECT * RENAME ({pairs}) FROM {source.relation})"
                types = staging.columns(source.relation)
        source.types = types
    for src in mapping:
        if src not in used:
            raise LedgerError(f"--map {src}={mapping[src]}: no file has a column {src!r}")


def _check_columns(source: _Source, resolve_by: date | None, notes: list[str]) -> None:
    types = source.types
    missing = [c.name for c in COLUMNS if c.required and c.name not in types
               and not (c.default and resolve_by) and not (c.name == "probability" and "probabilities" in types)]
    if missing and source.fmt == "jsonl" and source.path is not None and (shape := _not_rows(source.path)):
        raise LedgerError(f"{source.name} {shape}, not forecast rows: expected one JSON object per row (JSON lines, "
                          "or an array of objects) with statement, probability and resolve_by")
    if missing:
        from ledger.peers.wide import looks_wide

        hint = " (or pass --resolve-by)" if "resolve_by" in missing else ""
        if "statement" in missing and source.csv_file is not None and looks_wide(source.csv_file.header):
            hint = ": if it is a wide contest sheet (one row per entrant, one column per question), use --wide"
        raise LedgerError(f"{source.name}: missing column {', '.join(missing)}{hint}")
    if unknown := [name for name in types if name not in KNOWN_COLUMNS]:
        notes.append(f"warning: {source.name}: column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                     f"not imported (not a ledger column; --map {unknown[0]}=COLUMN imports one, e.g. =tags)")


JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false", int: "a number",
              float: "a number", type(None): "null"}
JSON_HEAD = 1 << 20


def _not_rows(path: Path) -> str | None:
    """What a JSON file holds when it is a document rather than rows ("is a number"), or None when it is rows.

    Only the first value is read (of the first megabyte): it says whether the
    file is a bare value, a document of keys none of which is ours, or an
    array of something other than objects.
    """
    import json

    with path.open("rb") as handle:
        text = handle.read(JSON_HEAD).decode("utf-8-sig", errors="replace").lstrip()
    try:
        value, _end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None  # cut off by the megabyte, or not JSON at all: DuckDB's reader says which
    if isinstance(value, dict):
        if any(k in KNOWN_COLUMNS for k in value):
            return None
        keys = ", ".join(list(value)[:5]) + (", …" if len(value) > 5 else "")
        return f"is a JSON object with keys {keys}" if value else "is an empty JSON object"
    if isinstance(value, list):
        if not value:
            return "is an empty JSON array"
        strangers = [v for v in value if not isinstance(v, dict)]
        if not strangers:
            return None
        first = strangers[0]
        return f"is a JSON array holding {JSON_KINDS.get(type(first), 'a value')} (item {value.index(first) + 1})"
    return f"is {JSON_KINDS.get(type(value), 'a value')}"


def _stage_rows(staging: Staging, sources: list[_Source], params: dict) -> None:
    """Every source's rows, typed and numbered, in one table ``import_rows``; blank CSV rows are dropped."""
    import duckdb

    parts = []
    for i, source in enumerate(sources):
        csv = source.fmt == "csv"
        cells = [f"NULLIF(trim(CAST(raw.\"{name}\" AS VARCHAR)), '')" for name in source.types]
        blank = f"coalesce({', '.join(cells)}) IS NULL" if csv and cells else "false"
        parts.append(f"""SELECT * EXCLUDE (blank) FROM (
                            SELECT {i} AS source, row_number() OVER () AS line, {blank} AS blank,
                                   {typed_sql(source.types, csv=csv)}
                            FROM {source.relation} raw) WHERE NOT blank""")
    union = "\nUNION ALL BY NAME\n".join(parts)
    # The table holds its rows in file order (the forecasts are numbered as they lie): one file's rows are read
    # in order; several files' are sorted, since a UNION need not keep its parts' order.
    order = "ORDER BY row_key" if len(parts) > 1 else ""
    try:
        staging.create(
            "import_rows",
            f"""
            WITH typed AS ({union}),
            flagged AS (
                SELECT *, coalesce(options IS NOT NULL AND abs(list_sum(probabilities) - 1) BETWEEN 1e-9
                                   AND {RENORMALISE_TOLERANCE} AND len(probabilities) = len(options) AND NOT
                                   list_bool_or(list_transform(probabilities, lambda x: NOT x BETWEEN 0 AND 1)),
                                   false) AS renormalised
                FROM typed
            ),
            normal AS (
                SELECT * REPLACE (
                    CASE WHEN renormalised THEN list_transform(probabilities, lambda x: x / list_sum(probabilities))
                         ELSE probabilities END AS probabilities,
                    list_concat(tags, $tags::VARCHAR[]) AS tags)
                FROM flagged
            )
            SELECT *,
                   (source::BIGINT << 32) + line AS row_key,  -- (source, line) as one number: it sorts and groups fast
                   coalesce(question_key, source || '#' || line) AS key,
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
            FROM normal {order}
            """,
            params,
        )
    except duckdb.Error as error:
        which = sources[0] if len(sources) == 1 else None
        name = f"{which.name}: cannot read as {which.fmt}" if which else "cannot read the files"
        raise LedgerError(f"{name}: {_reader_error(error, which)}") from None


def _check_rows(staging: Staging, sources: list[_Source]) -> None:
    """Raise for the first row (by file and line) that breaks any check, naming line and value."""
    # One pass: each row's first failing check (a CASE stops at it), then the first such row.
    failing = " ".join(f"WHEN {condition} THEN {i}" for i, (condition, _) in enumerate(_ROW_CHECKS))
    bad = staging.first(
        f"""SELECT c.check_id, r.* FROM (SELECT check_id, source, line FROM (
                                             SELECT CASE {failing} END AS check_id, source, line FROM import_rows)
                                         WHERE check_id IS NOT NULL ORDER BY source, line LIMIT 1) c
            JOIN import_rows r USING (source, line)"""
    )
    if bad:
        where = sources[bad["source"]].where(bad["line"])
        raise LedgerError(f"{where}: {_ROW_CHECKS[bad['check_id']][1].format(**bad)}")
    conflict = staging.first(
        """
        SELECT question_key, arg_min(source, (source, line)) AS source, min(line) AS line
        FROM import_rows WHERE question_key IS NOT NULL
        GROUP BY question_key
        HAVING min(statement) < max(statement) OR min(outcome_value) < max(outcome_value)
            OR min(resolve_by) < max(resolve_by) OR min(coalesce(options::VARCHAR, '')) < max(coalesce(options::VARCHAR, ''))
        ORDER BY 2, 3 LIMIT 1
        """
    )
    if conflict:
        raise LedgerError(
            f"{sources[conflict['source']].where(conflict['line'])}: rows of question_key "
            f"{conflict['question_key']!r} disagree on the statement, resolve_by, options or outcome"
        )


def _existing(staging: Staging, sources: list[_Source], made_at: datetime | None, *, skip: bool) -> int:
    """Refuse (or, with ``skip``, drop) questions whose forecasts are already in the ledger; return how many forecasts.

    A row is in the ledger when a question with its statement and resolve-by
    has a forecast by its forecaster with its probabilities, made at its
    made_at (when the row, or --made-at, gives one). A question is skipped
    whole; one with only some of its forecasts in the ledger is refused
    either way, since an import never adds to an existing question.
    """
    present = """EXISTS (
            SELECT 1 FROM forecasts f JOIN questions q ON q.id = f.question_id
            WHERE q.statement = r.statement AND q.resolve_by = r.resolve_by AND f.forecaster = r.forecaster
              AND f.probability IS NOT DISTINCT FROM CASE WHEN r.options IS NULL THEN r.probability END
              AND f.probabilities IS NOT DISTINCT FROM r.probabilities
              AND (coalesce(r.made_at, $1::TIMESTAMP) IS NULL OR f.made_at = coalesce(r.made_at, $1::TIMESTAMP))
        )"""
    # Mostly none is: counted first, so that a million new rows are not copied to say so; a first import
    # into an empty ledger is not even compared (the comparison joins every row with the views: ~0.6 s a million).
    if not staging.first("SELECT count(*) AS n FROM (SELECT 1 FROM question_records LIMIT 1)")["n"]:
        return 0
    if not staging.first(f"SELECT count(*) AS n FROM import_rows r WHERE {present}", [made_at])["n"]:
        return 0
    staging.create("import_existing", f"SELECT r.key, r.source, r.line, {present} AS present FROM import_rows r",
                   [made_at])
    found = staging.first(
        """SELECT count(*) FILTER (WHERE present) AS n, count(*) AS rows,
                  arg_min(source, (source, line)) FILTER (WHERE present) AS source,
                  min(line) FILTER (WHERE present) AS line
           FROM import_existing"""
    )
    partial = staging.first(
        """SELECT arg_min(source, (source, line)) AS source, min(line) AS line FROM import_existing
           WHERE key IN (SELECT key FROM import_existing GROUP BY key HAVING bool_or(present) AND NOT bool_and(present))
        """
    )
    if partial["line"] is not None:
        raise LedgerError(f"{sources[partial['source']].where(partial['line'])}: its question is in the ledger with "
                          "other forecasts: nothing imported (add a new forecast with `ledger forecast ID`)")
    if not skip:
        raise LedgerError(f"{sources[found['source']].where(found['line'])}: already in the ledger "
                          f"({found['n']} of {found['rows']} forecasts are): nothing imported "
                          "(--skip-existing imports only the new ones)")
    staging.delete("import_rows", "key IN (SELECT key FROM import_existing WHERE present)")
    return found["n"]


class _DryRun(Exception):
    """Rolls the import's transaction back once it has counted what it would write."""

    def __init__(self, result: ImportResult):
        self.result = result


def _write_import(store: Store, staging: Staging, name: str, *, made_at: datetime | None,
                  resolved_at: datetime | None, dry_run: bool, step: Callable[[int], None]) -> ImportResult:
    try:
        return _write_rows(store, staging, name, made_at=made_at, resolved_at=resolved_at, dry_run=dry_run, step=step)
    except _DryRun as done:
        return done.result


def _write_rows(store: Store, staging: Staging, name: str, *, made_at: datetime | None,
                resolved_at: datetime | None, dry_run: bool, step: Callable[[int], None]) -> ImportResult:
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
            SELECT key, substr(replace(uuid()::VARCHAR, '-', ''), 1, 16) AS id,
                   row_number() OVER (ORDER BY min(row_key)) AS position,  -- questions in the order of their first rows
                   min(source) AS source, arg_min(line, row_key) AS line,
                   arg_min({'outcome': outcome_value, 'kind': outcome_kind, 'resolved_at': resolved_at,
                            'note': resolution_note, 'evidence': evidence}, row_key)
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
                      r.quote, $1::TIMESTAMP, q.position
               FROM import_questions q JOIN import_rows r USING (source, line)""",
            [writer.recorded_at],
        )
        step(1)
        forecasts = writer.append(
            "forecast_records",
            """SELECT q.id, r.forecaster, CASE WHEN r.options IS NULL THEN r.probability END, r.probabilities,
                      coalesce(r.made_at, $2::TIMESTAMP, r.source_published::TIMESTAMP,
                               least(coalesce(r.resolved_at, $3::TIMESTAMP), $1::TIMESTAMP)),
                      $1::TIMESTAMP, r.note, r.position
               FROM (SELECT *, row_number() OVER () AS position FROM import_rows) r  -- its rows are in file order
               JOIN import_questions q USING (key)""",
            [writer.recorded_at, made_at, resolved_at],
        )
        step(1)
        resolutions = writer.append(
            "resolution_records",
            """SELECT q.id, CASE WHEN q.resolution.kind = 'resolved' THEN q.resolution.outcome END,
                      q.resolution.kind = 'annulled', coalesce(q.resolution.resolved_at, $2::TIMESTAMP, $1::TIMESTAMP),
                      q.resolution.note, q.resolution.evidence, NULL, $1::TIMESTAMP,
                      row_number() OVER (ORDER BY q.position)
               FROM import_questions q WHERE q.resolution IS NOT NULL""",
            [writer.recorded_at, resolved_at],
        )
        step(1)
        undated = 0 if resolved_at else staging.first(
            "SELECT count(*) AS n FROM import_questions WHERE resolution IS NOT NULL AND resolution.resolved_at IS NULL"
        )["n"]
        backfilled = writer.count_backfilled()
        if dry_run:
            raise _DryRun(ImportResult(questions=questions, forecasts=forecasts, resolutions=resolutions,
                                       backfilled=backfilled, resolved_at_import=undated, recorded_at=None))
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


def _reader_error(error: Exception, source: _Source | None = None) -> str:
    """DuckDB's reader errors span many lines; keep the line (the file's own) and what is wrong."""
    import re

    text = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    expected = re.search(r"Expected Number of Columns: (\d+)", text)
    where = f"line {line.group(1)}" if line else None
    if line and source is not None and source.csv_file is not None:
        where = f"line {physical_line(source.csv_file, int(line.group(1)) - 1)}"
    if where and expected:
        return f"{where} does not have {expected.group(1)} cells like the header"
    if "invalid unicode" in text.lower():
        return f"{f'{where} is' if where else 'it is'} not UTF-8 text (save the file as UTF-8)"
    return _first_line(error)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
