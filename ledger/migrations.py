"""The ledger's schema: ordered, named migrations, applied when a file is opened.

Append only: a released migration never changes, because ledgers in the
field were built by it. Record tables are frozen once released (their
canonical text, :mod:`ledger.chain`, is what the hashes cover); new facts
go into new tables.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from ledger.errors import LedgerError
from ledger.parse import utc_now

__all__ = ["DERIVED", "MIGRATIONS", "applied", "foreign_objects", "install_views", "migrate", "pending", "statements"]

# Tables that hold what the records say, kept by every write (ledger.store.refresh_state) and checked
# by verify; a team ledger's mirror keeps its own, so the server stores none.
DERIVED = ("question_state",)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_records_and_commits",
        """
        CREATE TABLE commits (
            id BIGINT NOT NULL,
            committed_at TIMESTAMP NOT NULL,
            command VARCHAR NOT NULL,
            n_records BIGINT NOT NULL,
            prev_head VARCHAR NOT NULL,
            head VARCHAR NOT NULL
        );
        CREATE TABLE question_records (
            seq BIGINT NOT NULL,
            commit_id BIGINT NOT NULL,
            id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            statement VARCHAR NOT NULL,
            criteria VARCHAR,
            resolve_by DATE NOT NULL,
            options VARCHAR[],
            tags VARCHAR[] NOT NULL,
            source_title VARCHAR,
            source_author VARCHAR,
            source_outlet VARCHAR,
            source_url VARCHAR,
            source_published DATE,
            quote VARCHAR,
            created_at TIMESTAMP NOT NULL,
            hash VARCHAR NOT NULL
        );
        CREATE TABLE forecast_records (
            seq BIGINT NOT NULL,
            commit_id BIGINT NOT NULL,
            question_id VARCHAR NOT NULL,
            forecaster VARCHAR NOT NULL,
            probability DOUBLE,
            probabilities DOUBLE[],
            made_at TIMESTAMP NOT NULL,
            recorded_at TIMESTAMP NOT NULL,
            note VARCHAR,
            hash VARCHAR NOT NULL
        );
        CREATE TABLE resolution_records (
            seq BIGINT NOT NULL,
            commit_id BIGINT NOT NULL,
            question_id VARCHAR NOT NULL,
            outcome VARCHAR,
            annulled BOOLEAN NOT NULL,
            resolved_at TIMESTAMP NOT NULL,
            note VARCHAR,
            evidence VARCHAR,
            resolver VARCHAR,
            recorded_at TIMESTAMP NOT NULL,
            hash VARCHAR NOT NULL
        );
        CREATE TABLE edit_records (
            seq BIGINT NOT NULL,
            commit_id BIGINT NOT NULL,
            question_id VARCHAR NOT NULL,
            field VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            reason VARCHAR,
            editor VARCHAR,
            recorded_at TIMESTAMP NOT NULL,
            hash VARCHAR NOT NULL
        );
        """,
    ),
    (
        "0002_documented_views",
        """
        -- The views `ledger sql` and the scoring module read. `backfilled`,
        -- `current` and `status` are derived here, never stored.
        CREATE VIEW forecasts AS
        SELECT seq, question_id, forecaster, probability, probabilities,
               made_at, recorded_at, note, made_at < recorded_at AS backfilled
        FROM forecast_records;

        CREATE VIEW resolutions AS
        SELECT seq, question_id, outcome, annulled, resolved_at, note, evidence,
               resolver, recorded_at,
               seq = max(seq) OVER (PARTITION BY question_id) AS current
        FROM resolution_records;

        CREATE VIEW edits AS
        SELECT seq, question_id, field, value, reason, editor, recorded_at
        FROM edit_records;

        CREATE VIEW questions AS
        WITH latest AS (
            SELECT question_id,
                   arg_max(value, seq) FILTER (WHERE field = 'criteria') AS criteria,
                   arg_max(value, seq) FILTER (WHERE field = 'resolve_by') AS resolve_by,
                   arg_max(value, seq) FILTER (WHERE field = 'tags') AS tags
            FROM edit_records
            GROUP BY question_id
        ),
        current_resolution AS (
            SELECT * FROM resolutions WHERE current
        ),
        merged AS (
            SELECT q.id, q.kind, q.statement,
                   coalesce(e.criteria ->> '$', q.criteria) AS criteria,
                   coalesce(CAST(e.resolve_by ->> '$' AS DATE), q.resolve_by) AS resolve_by,
                   q.resolve_by AS original_resolve_by,
                   q.options,
                   coalesce(CAST(from_json(e.tags, '["VARCHAR"]') AS VARCHAR[]), q.tags) AS tags,
                   q.source_title, q.source_author, q.source_outlet, q.source_url,
                   q.source_published, q.quote, q.created_at,
                   r.outcome, r.annulled, r.resolved_at,
                   r.recorded_at AS resolution_recorded_at
            FROM question_records q
            LEFT JOIN latest e ON e.question_id = q.id
            LEFT JOIN current_resolution r ON r.question_id = q.id
        )
        SELECT * EXCLUDE (annulled, resolution_recorded_at),
               CASE WHEN annulled THEN 'annulled'
                    WHEN outcome IS NOT NULL THEN 'resolved'
                    WHEN resolve_by < current_date THEN 'due'
                    ELSE 'open' END AS status,
               coalesce(resolution_recorded_at::DATE > resolve_by, false) AS resolved_late
        FROM merged;
        """,
    ),
    (
        "0003_honest_record",
        """
        -- A forecast is backfilled when it entered the ledger after the
        -- moment it claims, or in the same commit as (or after) its
        -- question's outcome was recorded, or when it claims a moment after
        -- the question's resolve-by date (its window had closed).
        CREATE OR REPLACE VIEW forecasts AS
        WITH first_outcome AS (
            SELECT question_id, min(commit_id) AS commit_id
            FROM resolution_records WHERE NOT annulled GROUP BY question_id
        )
        SELECT f.seq, f.question_id, f.forecaster, f.probability, f.probabilities,
               f.made_at, f.recorded_at, f.note,
               f.made_at < f.recorded_at
               OR coalesce(f.commit_id >= o.commit_id, false)
               OR f.made_at::DATE > q.resolve_by AS backfilled
        FROM forecast_records f
        JOIN questions q ON q.id = f.question_id
        LEFT JOIN first_outcome o ON o.question_id = f.question_id;

        -- A retraction: a question annulled after it had an outcome. It is
        -- disclosed wherever scores are shown, with its last outcome.
        CREATE VIEW retractions AS
        SELECT question_id,
               arg_max(outcome, seq) FILTER (WHERE NOT annulled) AS outcome,
               arg_max(resolved_at, seq) FILTER (WHERE NOT annulled) AS resolved_at,
               max(recorded_at) AS retracted_at
        FROM resolution_records
        GROUP BY question_id
        HAVING bool_or(NOT annulled) AND arg_max(annulled, seq);
        """,
    ),
    (
        "0004_forecasts_from_records",
        """
        -- The same `backfilled` as 0003, with the first outcome and the current
        -- resolve-by read per forecast from the record tables instead of the
        -- whole questions view: DuckDB decorrelates these subqueries over the
        -- forecasts' own question ids, so a filter on question ids reaches them
        -- (one page of a listing reads only its questions' records).
        CREATE OR REPLACE VIEW forecasts AS
        SELECT f.seq, f.question_id, f.forecaster, f.probability, f.probabilities,
               f.made_at, f.recorded_at, f.note,
               f.made_at < f.recorded_at
               OR coalesce(f.commit_id >= (SELECT min(o.commit_id) FROM resolution_records o
                                           WHERE o.question_id = f.question_id AND NOT o.annulled), false)
               OR f.made_at::DATE > coalesce((SELECT CAST(arg_max(e.value, e.seq) ->> '$' AS DATE)
                                              FROM edit_records e
                                              WHERE e.question_id = f.question_id AND e.field = 'resolve_by'),
                                             q.resolve_by) AS backfilled
        FROM forecast_records f
        JOIN question_records q ON q.id = f.question_id;
        """,
    ),
    (
        "0005_question_state",
        """
        -- What each question is now, as its records say: its criteria, resolve-by and tags after
        -- the latest edit of each, and its current resolution (the one of highest seq). One group
        -- a question over all its records, so a filter on ids reaches every record table: the
        -- state of a few questions is read without reading the others'.
        CREATE VIEW question_state_from_records AS
        WITH facts AS (
            SELECT id, seq, criteria, resolve_by, tags, NULL::VARCHAR AS field, NULL::VARCHAR AS value,
                   NULL::STRUCT(outcome VARCHAR, annulled BOOLEAN, resolved_at TIMESTAMP, recorded_at TIMESTAMP)
                       AS resolution
            FROM question_records
            UNION ALL (
                SELECT question_id, seq, NULL::VARCHAR, NULL::DATE, NULL::VARCHAR[], field, value, NULL
                FROM edit_records
                UNION ALL
                SELECT question_id, seq, NULL::VARCHAR, NULL::DATE, NULL::VARCHAR[], NULL::VARCHAR, NULL::VARCHAR,
                       {'outcome': outcome, 'annulled': annulled, 'resolved_at': resolved_at, 'recorded_at': recorded_at}
                FROM resolution_records
            )
        ),
        latest AS (
            SELECT id,
                   count(resolve_by) AS records,
                   coalesce(arg_max(value, seq) FILTER (WHERE field = 'criteria') ->> '$',
                            arg_max(criteria, seq) FILTER (WHERE resolve_by IS NOT NULL)) AS criteria,
                   coalesce(CAST(arg_max(value, seq) FILTER (WHERE field = 'resolve_by') ->> '$' AS DATE),
                            arg_max(resolve_by, seq) FILTER (WHERE resolve_by IS NOT NULL)) AS resolve_by,
                   coalesce(CAST(from_json(arg_max(value, seq) FILTER (WHERE field = 'tags'), '["VARCHAR"]')
                                 AS VARCHAR[]),
                            arg_max(tags, seq) FILTER (WHERE resolve_by IS NOT NULL)) AS tags,
                   arg_max(resolution, seq) FILTER (WHERE resolution IS NOT NULL) AS r
            FROM facts
            GROUP BY id
        )
        SELECT id, criteria, resolve_by, tags, r.outcome AS outcome, r.annulled AS annulled,
               r.resolved_at AS resolved_at, r.recorded_at AS resolution_recorded_at
        FROM latest
        WHERE records > 0;

        -- The same, kept: every write refreshes the rows of the questions it touched, in its own
        -- transaction (ledger.store.refresh_state), so a listing reads one narrow table instead of
        -- grouping every record; `ledger verify` proves it equal to the view above. Derived, never
        -- hashed: the records stay the only truth.
        CREATE TABLE question_state (
            id VARCHAR NOT NULL,
            criteria VARCHAR,
            resolve_by DATE NOT NULL,
            tags VARCHAR[] NOT NULL,
            outcome VARCHAR,
            annulled BOOLEAN,
            resolved_at TIMESTAMP,
            resolution_recorded_at TIMESTAMP
        );
        INSERT INTO question_state SELECT * FROM question_state_from_records;

        -- 0002's questions, with the current state read from the kept table.
        CREATE OR REPLACE VIEW questions AS
        WITH merged AS (
            SELECT q.id, q.kind, q.statement, s.criteria, s.resolve_by,
                   q.resolve_by AS original_resolve_by,
                   q.options, s.tags,
                   q.source_title, q.source_author, q.source_outlet, q.source_url,
                   q.source_published, q.quote, q.created_at,
                   s.outcome, s.annulled, s.resolved_at, s.resolution_recorded_at
            FROM question_records q
            JOIN question_state s ON s.id = q.id
        )
        SELECT * EXCLUDE (annulled, resolution_recorded_at),
               CASE WHEN annulled THEN 'annulled'
                    WHEN outcome IS NOT NULL THEN 'resolved'
                    WHEN resolve_by < current_date THEN 'due'
                    ELSE 'open' END AS status,
               coalesce(resolution_recorded_at::DATE > resolve_by, false) AS resolved_late
        FROM merged;
        """,
    ),
]


def applied(con) -> list[str]:
    """The names of the migrations this file has had, in order (one query: it runs on every open)."""
    import duckdb

    try:
        return [row[0] for row in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    except duckdb.CatalogException:  # a new file, or one that is not a ledger (see pending)
        return []


def pending(con, path: Path) -> list[tuple[str, str]]:
    """The migrations this file still needs; refuse a file a newer version migrated."""
    done = set(applied(con))
    if not done and _has_objects(con):
        raise LedgerError(f"{path} is not a ledger: it is a DuckDB database that ledger did not make; "
                          "give another --db")
    unknown = done - {name for name, _ in MIGRATIONS}
    if unknown:
        raise LedgerError(f"{path} was written by a newer version of ledger (migration {sorted(unknown)[-1]}); upgrade")
    return [(name, sql) for name, sql in MIGRATIONS if name not in done]


def _has_objects(con) -> bool:
    """Whether the file holds any table or view: an empty new file is ours to build, anything else is not."""
    return con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()) "
        "+ (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal)"
    ).fetchone()[0] > 0


def migrate(con, todo: list[tuple[str, str]]) -> None:
    """Apply ``todo`` in one transaction: a file is at one version or the next, never between."""
    if not todo:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for name, sql in todo:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, utc_now()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def statements(sql: str) -> list[str]:
    """A migration's statements. Each ends with ``;`` at the end of a line, and no ``;`` ends a line
    inside one (a test holds this against DuckDB's own parser, which costs ~0.2 s on every start-up)."""
    return [part for part in re.split(r";[ \t]*(?:\n|$)", sql) if part.strip()]


_VIEW = re.compile(r"^((?:\s|--[^\n]*\n)*)CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)", re.IGNORECASE)


@cache
def _temp_views() -> tuple[str, ...]:
    """Each view the migrations define, as its last migration defines it, as a ``CREATE OR REPLACE
    TEMP VIEW`` statement, in the order the views first appear (a view reads only earlier ones)."""
    latest: dict[str, str] = {}
    for _, sql in MIGRATIONS:
        for query in statements(sql):
            if found := _VIEW.match(query):
                latest[found.group(2).lower()] = _VIEW.sub(rf"\1CREATE OR REPLACE TEMP VIEW {found.group(2)}",
                                                           query, count=1)
    return tuple(latest.values())


def install_views(con) -> None:
    """Define the documented views on this connection, from the code, shadowing those in the file.

    Scores, reports and ``ledger sql`` read these views; the copies stored
    in the file are only what the migrations once wrote, and any DuckDB
    client can replace them. The TEMP views live on the connection, so the
    definitions that count are always this code's.
    """
    for statement in _temp_views():
        con.execute(statement)


_OBJECTS = """
    SELECT 'table' AS kind, table_name AS name, sql FROM duckdb_tables()
        WHERE database_name = current_database() AND NOT temporary
    UNION ALL SELECT 'view', view_name, sql FROM duckdb_views()
        WHERE database_name = current_database() AND NOT temporary AND NOT internal
    UNION ALL SELECT 'macro', function_name, macro_definition FROM duckdb_functions()
        WHERE database_name = current_database() AND NOT internal
    UNION ALL SELECT 'index', index_name, sql FROM duckdb_indexes() WHERE database_name = current_database()
    UNION ALL SELECT 'sequence', sequence_name, sql FROM duckdb_sequences()
        WHERE database_name = current_database() AND NOT temporary
    UNION ALL SELECT 'type', type_name, NULL FROM duckdb_types()
        WHERE database_name = current_database() AND NOT internal
    UNION ALL SELECT 'schema', schema_name, NULL FROM duckdb_schemas()
        WHERE database_name = current_database() AND NOT internal
    ORDER BY kind, name
"""


def _scratch():
    """An in-memory database the migrations have built: the reference a ledger file is checked against."""
    import duckdb

    con = duckdb.connect(config={"enable_external_access": False, "autoload_known_extensions": False,
                                 "autoinstall_known_extensions": False})  # it binds SQL read from a file
    migrate(con, MIGRATIONS)
    return con


@cache
def _made_by_migrations() -> frozenset[tuple[str, str, str | None]]:
    """(kind, name, definition) of every object the migrations make; a view's definition is its plan."""
    con = _scratch()
    try:
        return frozenset((kind, name, _plan(con, name) if kind == "view" else sql)
                         for kind, name, sql in con.execute(_OBJECTS).fetchall())
    finally:
        con.close()


def _plan(con, view: str) -> str:
    """What a view computes, as DuckDB plans it. Its stored SQL text is no measure: DuckDB prints
    it differently by version and round trip (``false`` or ``CAST('f' AS BOOLEAN)``, an EXCLUDE
    list in any order), while the plan of the same definition over the same tables is the same."""
    return "\n".join(value for _, value in con.execute(f'EXPLAIN SELECT * FROM "{view}"').fetchall())


def _as_made_here(objects: list[tuple[str, str, str | None]], *, together: bool) -> list[tuple[str, str, str | None]]:
    """A file's objects in the form :func:`_made_by_migrations` gives: each view planned beside the
    migrations' own tables, all in one scratch database (``together``) or each in a fresh one, where
    no other view of the file can change how it plans."""
    import duckdb

    result = list(objects)
    shared = _scratch() if together else None
    try:
        for i, (kind, name, sql) in enumerate(objects):
            if kind != "view" or not sql:
                continue
            con = shared or _scratch()
            try:
                con.execute(re.sub(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?VIEW", "CREATE OR REPLACE VIEW", sql, count=1,
                                   flags=re.IGNORECASE))
                result[i] = (kind, name, _plan(con, name))
            except duckdb.Error:
                pass
            finally:
                if shared is None:
                    con.close()
    finally:
        if shared is not None:
            shared.close()
    return result


def foreign_objects(con) -> list[tuple[str, str]]:
    """(kind, name) of every object in the ledger file that the migrations did not make as it is:
    a table, view or macro added, or one of ours redefined, by another DuckDB client.

    The views are planned together first (one scratch database, not one a view: it is most of
    verify's fixed cost); only one that then differs is planned again alone, to be sure of it."""
    made = _made_by_migrations()
    objects = con.execute(_OBJECTS).fetchall()
    suspects = [obj for obj, planned in zip(objects, _as_made_here(objects, together=True), strict=True)
                if planned not in made]
    return [(kind, name) for kind, name, sql in _as_made_here(suspects, together=False)
            if (kind, name, sql) not in made]
