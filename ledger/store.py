"""The ledger: one DuckDB file, append-only and tamper-evident.

:class:`Store` owns every SQL statement that touches the ledger. It applies
ordered, named migrations when the file is opened, and it writes only
through :meth:`Store.write`, one transaction per command.

How the chain works. Every record (question, forecast, resolution, edit)
belongs to a *commit*: the records one command wrote. A record's ``hash`` is
``sha256(prev_head || record as JSON)``, where ``prev_head`` is the chain
head before its commit, so each hash covers its content and the previous
hash. The commit's ``head`` is ``sha256(prev_head || commit fields ||
the record hashes in seq order)``. Hashes are computed set-wise in SQL,
which keeps a million-row import as fast as the rest of the import;
``verify`` recomputes both levels and names the first record or commit that
does not match.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerBusy, LedgerError, NotFound, Tampered
from ledger.format import short_id as short
from ledger.parse import parse_seconds, utc_now

if TYPE_CHECKING:
    import duckdb

    from ledger.models import Forecast, Question, Resolution

GENESIS = "0" * 64
RECORD_TABLES = ("question_records", "forecast_records", "resolution_records", "edit_records")
EDITABLE = ("criteria", "resolve_by", "tags")


def busy_timeout() -> float:
    """$LEDGER_BUSY_TIMEOUT (default 5 s), read when a ledger is opened: a bad value is one line."""
    return parse_seconds(os.environ.get("LEDGER_BUSY_TIMEOUT", "5"), name="LEDGER_BUSY_TIMEOUT")


# Ordered, named migrations. Append only: a released migration never changes,
# because ledgers in the field were built by it. Record tables are frozen
# once released (their row JSON is what the hashes cover); new facts go
# into new tables.
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
]


def data_dir() -> Path:
    """Where per-user ledgers live: ``$XDG_DATA_HOME/forecast-ledger`` (``~/.local/share`` by default)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "forecast-ledger"


def default_path() -> Path:
    """``$LEDGER_DB``, else the per-user ledger in the XDG data directory."""
    if env := os.environ.get("LEDGER_DB"):
        return Path(env)
    return data_dir() / "ledger.duckdb"


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting up to busy_timeout() seconds while another process holds it."""
    import duckdb

    deadline = time.monotonic() + busy_timeout()
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("SET enable_progress_bar = false")  # stdout carries data only, even in a long import
            return con
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise LedgerError(f"cannot open ledger {path}: {str(error).splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                raise LedgerBusy(
                    f"ledger is busy: another process is using {path}; try again in a moment"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        except duckdb.Error as error:
            raise LedgerError(f"cannot open {path} as a ledger: {str(error).splitlines()[0]}") from None


@dataclass(frozen=True)
class VerifyReport:
    n_records: int
    n_commits: int
    head: str


class Store:
    """An open ledger file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self.con = con
        self.path = path
        self._columns: dict[str, list[tuple[str, str]]] = {}

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, type) of a record table's hashed columns: all but ``hash``, in order."""
        if table not in self._columns:
            rows = self.con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            self._columns[table] = [(name, kind) for name, kind in rows if name != "hash"]
        return self._columns[table]

    def content_sql(self, table: str, alias: str) -> str:
        """The canonical text a record's hash covers: its columns, in order, as JSON."""
        fields = ", ".join(f"'{name}': {alias}.{name}" for name, _ in self.columns(table))
        return f"to_json({{{fields}}})"

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True, read_only: bool = False) -> Store:
        """Open (and, if ``create``, create) the ledger at ``path``, migrating it forward."""
        path = Path(path) if path else default_path()
        if not path.exists():
            if not create or read_only:
                raise NotFound(f"no ledger at {path} (run `ledger init`, or add a prediction)")
            path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect(path, read_only=read_only)
        store = cls(con, path)
        try:
            pending = store.pending_migrations()
            if pending and read_only:
                con.close()
                cls.open(path).close()  # migrate with a writable connection first
                return cls.open(path, create=False, read_only=True)
            store.migrate(pending)
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- migrations --------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return []
        return [row[0] for row in self.con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]

    def pending_migrations(self) -> list[tuple[str, str]]:
        applied = set(self.applied_migrations())
        unknown = applied - {name for name, _ in MIGRATIONS}
        if unknown:
            raise LedgerError(
                f"{self.path} was written by a newer version of ledger (migration {sorted(unknown)[-1]}); upgrade"
            )
        return [(name, sql) for name, sql in MIGRATIONS if name not in applied]

    def migrate(self, pending: list[tuple[str, str]]) -> None:
        if not pending:
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            for name, sql in pending:
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, utc_now()])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # -- writing -----------------------------------------------------------

    @contextmanager
    def write(self, command: str, *, at: datetime | None = None) -> Iterator[Writer]:
        """One command's transaction: everything written in it commits, or nothing does.

        ``at`` is the recording moment (default: now). Only a replay of a
        history (the demo) passes it, and the chain's clock never runs
        backwards: it may not precede the last commit.
        """
        self.con.execute("BEGIN TRANSACTION")
        try:
            last = self.con.execute(
                "SELECT id, head, committed_at, "
                f"greatest({', '.join(f'(SELECT max(seq) FROM {t})' for t in RECORD_TABLES)}) "
                "FROM commits ORDER BY id DESC LIMIT 1"
            ).fetchone()
            commit_id, prev_head, last_seq = (last[0] + 1, last[1], last[3]) if last else (1, GENESIS, 0)
            now, previous = utc_now(), last[2] if last else None
            if at is None:
                at = max(now, previous) if previous else now  # a clock set back never reorders the chain
            elif at > now or (previous and at < previous):
                raise LedgerError("a commit cannot be recorded in the future or before the ledger's last commit")
            writer = Writer(self, commit_id, prev_head, command, next_seq=(last_seq or 0) + 1, recorded_at=at)
            yield writer
            writer.seal()
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    # -- reading -----------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """(number of records, chain head hash) — what a published dashboard shows."""
        row = self.con.execute(
            "SELECT coalesce(sum(n_records), 0), coalesce(arg_max(head, id), ?) FROM commits", [GENESIS]
        ).fetchone()
        return int(row[0]), row[1]

    def resolve_id(self, prefix: str) -> str:
        """The full id of the question whose id starts with ``prefix``."""
        prefix = prefix.strip().lower()
        if len(prefix) < 4 or not all(c in "0123456789abcdef" for c in prefix):
            raise NotFound(f"not a question id: {prefix!r} (ids are hex, give at least 4 characters)")
        matches = [
            row[0]
            for row in self.con.execute(
                "SELECT id FROM question_records WHERE starts_with(id, ?) ORDER BY id LIMIT 5", [prefix]
            ).fetchall()
        ]
        if not matches:
            raise NotFound(f"no question with id {prefix}")
        if len(matches) > 1:
            raise LedgerError(f"id {prefix} is ambiguous: {', '.join(short(m) for m in matches)}…; type more of it")
        return matches[0]

    def question(self, question_id: str) -> dict[str, Any]:
        """One question with its whole history, as the JSON contract describes it."""
        rows = self._question_rows("WHERE q.id = ?", [question_id])
        if not rows:
            raise NotFound(f"no question with id {short(question_id)}")
        question = rows[0]
        question["resolutions"] = self._dicts(
            "SELECT outcome, annulled, resolved_at, note, evidence, resolver, recorded_at, current "
            "FROM resolutions WHERE question_id = ? ORDER BY seq",
            [question_id],
        )
        question["edits"] = [
            {**edit, "value": json.loads(edit["value"])}
            for edit in self._dicts(
                "SELECT field, value, reason, editor, recorded_at FROM edits WHERE question_id = ? ORDER BY seq",
                [question_id],
            )
        ]
        return question

    def questions(
        self,
        *,
        status: str = "all",
        tag: str | None = None,
        forecaster: str | None = None,
        due_within_days: int | None = None,
        latest_first: bool = False,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Questions matching the filters, soonest resolve-by first.

        ``status`` is one of open (which includes due), due, resolved,
        annulled, closed (resolved or annulled) or all. ``latest_first``
        orders by resolution, most recent first; ``limit`` bounds the list.
        """
        where, params = self._filters(status=status, tag=tag, forecaster=forecaster)
        if due_within_days is not None:
            where += " AND q.status IN ('open', 'due') AND q.resolve_by <= current_date + ?::INTEGER"
            params.append(due_within_days)
        order = "q.resolved_at DESC, q.id" if latest_first else "q.resolve_by, q.created_at, q.id"
        if limit is not None:
            where = f"q.id IN (SELECT q.id FROM questions q WHERE {where} ORDER BY {order} LIMIT {int(limit)})"
        return self._question_rows(f"WHERE {where}", params, order)

    def status_counts(self, *, tag: str | None = None, forecaster: str | None = None) -> dict[str, int]:
        """How many questions are open, due, resolved and annulled."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        counts = dict(
            self.con.execute(f"SELECT status, count(*) FROM questions q WHERE {where} GROUP BY status", params).fetchall()
        )
        return {status: int(counts.get(status, 0)) for status in ("open", "due", "resolved", "annulled")}

    @staticmethod
    def _filters(*, status: str = "all", tag: str | None = None, forecaster: str | None = None) -> tuple[str, list]:
        statuses = {"open": ("open", "due"), "closed": ("resolved", "annulled"), "all": None}.get(status, (status,))
        where, params = ["TRUE"], []
        if statuses:
            where.append(f"q.status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if tag:
            where.append("list_contains(q.tags, ?)")
            params.append(tag)
        if forecaster:
            where.append("q.id IN (SELECT question_id FROM forecasts WHERE forecaster = ?)")
            params.append(forecaster)
        return " AND ".join(where), params

    def _question_rows(self, where: str, params: list, order: str = "q.resolve_by, q.created_at, q.id") -> list[dict[str, Any]]:
        rows = self._dicts(
            f"""
            WITH chosen AS (SELECT * FROM questions q {where}),
            standing AS (
                SELECT question_id,
                       list({{'probability': probability, 'probabilities': probabilities,
                              'forecaster': forecaster, 'made_at': made_at,
                              'recorded_at': recorded_at, 'backfilled': backfilled,
                              'note': note}} ORDER BY made_at, seq) AS forecasts
                FROM forecasts WHERE question_id IN (SELECT id FROM chosen) GROUP BY question_id
            )
            SELECT q.id, q.kind, q.statement, q.criteria, q.resolve_by, q.original_resolve_by,
                   q.options, q.tags, q.status, q.resolved_late, q.created_at, q.quote,
                   {{'title': q.source_title, 'author': q.source_author, 'outlet': q.source_outlet,
                     'url': q.source_url, 'published': q.source_published}} AS source,
                   coalesce(s.forecasts, []) AS forecasts,
                   r.outcome, r.annulled, r.resolved_at, r.note, r.evidence, r.resolver, r.recorded_at
            FROM chosen q
            LEFT JOIN standing s ON s.question_id = q.id
            LEFT JOIN resolutions r ON r.question_id = q.id AND r.current
            ORDER BY {order}
            """,
            params,
        )
        for row in rows:
            resolution_keys = ("outcome", "annulled", "resolved_at", "note", "evidence", "resolver", "recorded_at")
            resolution = {key: row.pop(key) for key in resolution_keys}
            row["resolution"] = resolution if resolution["annulled"] is not None else None
            if not any(row["source"].values()):
                row["source"] = None
        return rows

    def _dicts(self, sql: str, params: list | dict | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run a read-only query (``ledger sql``) and return column names and rows."""
        import duckdb

        try:
            cursor = self.con.execute(sql)
        except duckdb.Error as error:
            raise LedgerError(str(error).splitlines()[0]) from None
        if cursor.description is None:
            return [], []
        return [column[0] for column in cursor.description], cursor.fetchall()

    # -- integrity ---------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute every record hash and commit head; raise :class:`Tampered` at the first mismatch."""
        for table in RECORD_TABLES:
            bad = self.con.execute(
                f"""
                SELECT r.seq, r.commit_id, {"r.id" if table == "question_records" else "r.question_id"}
                FROM {table} r
                LEFT JOIN commits c ON c.id = r.commit_id
                WHERE c.id IS NULL OR r.hash <> sha256(c.prev_head || {self.content_sql(table, "r")})
                ORDER BY r.seq LIMIT 1
                """
            ).fetchone()
            if bad:
                kind = table.removesuffix("_records")
                raise Tampered(
                    f"{kind} record {bad[0]} (question {short(bad[2])}, commit {bad[1]}) "
                    "does not match its hash: it was changed outside ledger"
                )
        bad_commit = self.con.execute(
            f"""
            WITH per_commit AS ({_digests("TRUE")}),
            chained AS (
                SELECT c.*, lag(c.head, 1, '{GENESIS}') OVER (ORDER BY c.id) AS expected_prev,
                       row_number() OVER (ORDER BY c.id) AS position,
                       coalesce(p.n, 0) AS found, p.digest
                FROM commits c LEFT JOIN per_commit p ON p.commit_id = c.id
            )
            SELECT id, command, committed_at, n_records, found,
                   prev_head <> expected_prev AS broken_link, id <> position AS missing_commit
            FROM chained
            WHERE prev_head <> expected_prev OR id <> position OR found <> n_records
               OR head <> sha256(prev_head || {_COMMIT_FIELDS} || coalesce(digest, ''))
            ORDER BY id LIMIT 1
            """
        ).fetchone()
        if bad_commit:
            commit_id, command, at, expected, found, broken_link, missing = bad_commit
            if missing:
                why = "a commit before it is missing"
            elif found != expected:
                why = f"it wrote {expected} records, {found} are left (deleted outside ledger)"
            elif broken_link:
                why = "it does not link to the head of the commit before it"
            else:
                why = "its head hash does not match its records"
            raise Tampered(f"commit {commit_id} ({command}, {at:%Y-%m-%d %H:%M} UTC): {why}")
        extra = self.con.execute(
            f"""SELECT min(seq) FROM ({" UNION ALL ".join(f"SELECT seq, commit_id FROM {t}" for t in RECORD_TABLES)})
                WHERE commit_id NOT IN (SELECT id FROM commits)"""
        ).fetchone()[0]
        if extra is not None:
            raise Tampered(f"record {extra} belongs to no commit: it was inserted outside ledger")
        n_records, head = self.head()
        n_commits = self.con.execute("SELECT count(*) FROM commits").fetchone()[0]
        return VerifyReport(n_records=n_records, n_commits=n_commits, head=head)


# The commit's own fields covered by its head, in a fixed textual form.
_COMMIT_FIELDS = "id::VARCHAR || '|' || command || '|' || strftime(committed_at, '%Y-%m-%dT%H:%M:%S.%f') || '|'"
DIGEST_CHUNK = 8192


def _digests(where: str) -> str:
    """Per commit: its record count and a digest of its record hashes in seq order.

    The digest is the concatenation of chunk hashes (8192 records by seq a
    chunk), so the ordered aggregation runs in parallel over small groups
    instead of one sort of every hash of a million-row import.
    """
    records = " UNION ALL ".join(f"SELECT commit_id, seq, hash FROM {t} WHERE {where}" for t in RECORD_TABLES)
    return f"""
        SELECT commit_id, sum(n) AS n, string_agg(chunk_hash, '' ORDER BY chunk) AS digest
        FROM (SELECT commit_id, seq // {DIGEST_CHUNK} AS chunk, count(*) AS n,
                     sha256(string_agg(hash, '' ORDER BY seq)) AS chunk_hash
              FROM ({records}) GROUP BY commit_id, chunk)
        GROUP BY commit_id
    """


class Writer:
    """What one command may write. Each method validates, then appends.

    Rows are cast to the record table's exact column types before they are
    hashed, so that ``to_json`` of the row hashed here equals ``to_json`` of
    the stored row that ``verify`` later reads.
    """

    def __init__(
        self, store: Store, commit_id: int, prev_head: str, command: str, *, next_seq: int, recorded_at: datetime
    ):
        self.store = store
        self.con = store.con
        self.commit_id = commit_id
        self.prev_head = prev_head
        self.command = command
        self.next_seq = next_seq
        self.recorded_at = recorded_at

    def _append(self, table: str, select_sql: str, params: list | None = None) -> int:
        """Append the rows ``select_sql`` yields (every column but seq, commit_id and hash)."""
        columns = [(name, kind) for name, kind in self.store.columns(table) if name not in ("seq", "commit_id")]
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        typed = ", ".join(f"CAST(s.c{i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(columns))
        count = self.con.execute(
            f"""
            INSERT INTO {table}
            SELECT r.*, sha256({_sql_text(self.prev_head)} || {self.store.content_sql(table, "r")})
            FROM (SELECT {self.next_seq - 1} + row_number() OVER () AS seq, {self.commit_id}::BIGINT AS commit_id,
                         {typed}
                  FROM ({select_sql}) AS s({aliases})) r
            """,
            params or [],
        ).fetchone()[0]
        self.next_seq += count
        return count

    def seal(self) -> None:
        """Close the commit: its head covers the previous head and every record hash in it."""
        self.con.execute(
            f"""
            INSERT INTO commits
            SELECT id, committed_at, command, n, prev_head, sha256(prev_head || {_COMMIT_FIELDS} || digest)
            FROM (SELECT $id::BIGINT AS id, $at::TIMESTAMP AS committed_at, $command AS command,
                         $prev AS prev_head, n, digest
                  FROM ({_digests("commit_id = $id")}))
            """,
            {"id": self.commit_id, "at": self.recorded_at, "command": self.command, "prev": self.prev_head},
        )

    # -- domain writes -----------------------------------------------------

    def add_question(self, question: Question, forecast: Forecast) -> str:
        """Log a new question with its first forecast; return the question's id."""
        import secrets

        forecast.check_fits(question)
        question_id = secrets.token_hex(8)
        source = question.source
        self._append(
            "question_records",
            "SELECT ?, ?, ?, ?, ?::DATE, ?::VARCHAR[], ?::VARCHAR[], ?, ?, ?, ?, ?::DATE, ?, ?::TIMESTAMP",
            [
                question_id, question.kind, question.statement, question.criteria, question.resolve_by,
                question.options, question.tags,
                source.title if source else None, source.author if source else None,
                source.outlet if source else None, source.url if source else None,
                source.published if source else None, question.quote, self.recorded_at,
            ],
        )
        self._append_forecast(question_id, forecast)
        return question_id

    def add_forecast(self, question_id: str, forecast: Forecast) -> None:
        """Add a revision, or another forecaster's forecast, to an open question."""
        question = self._current(question_id)
        if question["status"] == "annulled":
            raise LedgerError(f"question {short(question_id)} is annulled: it takes no more forecasts")
        forecast.check_fits(question_model(question))
        self._append_forecast(question_id, forecast)

    def _append_forecast(self, question_id: str, forecast: Forecast) -> None:
        made_at = forecast.made_at or self.recorded_at
        if made_at > self.recorded_at:
            raise LedgerError("a forecast cannot be made in the future (check --at)")
        self._append(
            "forecast_records",
            "SELECT ?, ?, ?::DOUBLE, ?::DOUBLE[], ?::TIMESTAMP, ?::TIMESTAMP, ?",
            [question_id, forecast.forecaster, forecast.probability, forecast.probabilities,
             made_at, self.recorded_at, forecast.note],
        )

    def resolve(self, question_id: str, resolution: Resolution) -> bool:
        """Record an outcome or an annulment; return True if it corrects an earlier one."""
        question = self._current(question_id)
        outcome = resolution.outcome
        if outcome is not None:
            outcome = question_model(question).outcome_for(outcome)
        resolved_at = resolution.resolved_at or self.recorded_at
        if resolved_at > self.recorded_at:
            raise LedgerError("an outcome cannot become known in the future (check --on)")
        self._append(
            "resolution_records",
            "SELECT ?, ?, ?::BOOLEAN, ?::TIMESTAMP, ?, ?, ?, ?::TIMESTAMP",
            [question_id, outcome, resolution.annulled, resolved_at,
             resolution.note, resolution.evidence, resolution.resolver, self.recorded_at],
        )
        return question["status"] in ("resolved", "annulled")

    def edit(self, question_id: str, field: str, value: Any, *, reason: str | None, editor: str | None) -> None:
        """Record a visible edit of criteria, resolve-by or tags."""
        if field not in EDITABLE:
            raise LedgerError(f"only {', '.join(EDITABLE)} can be edited, not {field}")
        self._current(question_id)
        self._append(
            "edit_records",
            "SELECT ?, ?, ?, ?, ?, ?::TIMESTAMP",
            [question_id, field, json.dumps(value, default=str), reason, editor, self.recorded_at],
        )

    def _current(self, question_id: str) -> dict[str, Any]:
        rows = self.store._dicts(
            """SELECT statement, options, resolve_by,
                      CASE (SELECT annulled FROM resolution_records WHERE question_id = $id ORDER BY seq DESC LIMIT 1)
                           WHEN true THEN 'annulled' WHEN false THEN 'resolved' END AS status
               FROM question_records WHERE id = $id""",
            {"id": question_id},
        )
        if not rows:
            raise NotFound(f"no question with id {short(question_id)}")
        return rows[0]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def question_model(row: dict[str, Any]) -> Question:
    """The model of a stored question row, to validate forecasts and outcomes against it."""
    from ledger.models import Question

    return Question(statement=row["statement"], resolve_by=row["resolve_by"], options=row["options"])

