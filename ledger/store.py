"""The ledger: one DuckDB file, append-only and tamper-evident.

:class:`Store` owns the ledger's connection: no other module touches it. It
applies ordered, named migrations when the file is opened, and it writes
only through :meth:`Store.write`, one transaction per command. Bulk input
(``ledger import``) reads its file into :meth:`Store.staging` tables, checks
them set-wise and appends them with :meth:`Writer.append`; bulk output
(``ledger export``) is :meth:`Store.copy_out`. :meth:`Store.query` is the
raw query door of ``ledger sql`` and is used by nothing else.

How the chain works. Every record (question, forecast, resolution, edit)
belongs to a *commit*: the records one command wrote. A record's ``hash`` is
``sha256(prev_head || its canonical text)``, where ``prev_head`` is the
chain head before its commit, so each hash covers its content and the
previous hash. The commit's ``head`` is ``sha256(prev_head || commit fields
|| the record hashes in seq order)``. :mod:`ledger.chain` defines both as a
contract; a bulk import's hashes are computed set-wise in SQL, which keeps
a million-row import as fast as the rest of the import, and a command's few
records are hashed by its Python reference, which costs microseconds where
planning the SQL costs tens of milliseconds; ``verify`` recomputes both levels
and names the first record or commit that does not match. The schema is
:mod:`ledger.migrations`.
"""

from __future__ import annotations

import json
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ledger import chain, filelock, migrations
from ledger.chain import GENESIS, RECORD_FIELDS, RECORD_TABLES
from ledger.errors import LedgerBusy, LedgerError, NotFound, Tampered
from ledger.format import short_id as short
from ledger.location import ServerUrl, location
from ledger.parse import parse_date, parse_seconds, utc_now
from ledger.records import (
    DueQuestion,
    QuestionHistory,
    ResolutionEntry,
    StoredEdit,
    StoredForecast,
    StoredQuestion,
    StoredResolution,
    StoredSource,
    question_fields,
)

if TYPE_CHECKING:
    import duckdb

    from ledger.models import Forecast, Question, Resolution

__all__ = [
    "busy_timeout", "EDITABLE", "SORTS", "STORAGE_VERSION", "Staging", "Store", "VerifyReport", "Writer",
    "csv_columns", "data_dir", "default_path", "first_stale_state", "mark_touched", "open_error", "question_model",
    "refresh_state", "restate_touched",
]

EDITABLE = ("criteria", "resolve_by", "tags")


def busy_timeout() -> float:
    """$LEDGER_BUSY_TIMEOUT (default 5 s), read when a ledger is opened: a bad value is one line."""
    return parse_seconds(os.environ.get("LEDGER_BUSY_TIMEOUT", "5"), name="LEDGER_BUSY_TIMEOUT")


def data_dir() -> Path:
    """Where per-user ledgers live: ``$XDG_DATA_HOME/forecast-ledger`` (``~/.local/share`` by default)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "forecast-ledger"


def default_path() -> Path | ServerUrl:
    """``$LEDGER_DB`` (a file, or a ``postgresql://…`` server), else the per-user ledger in the XDG data directory."""
    if env := os.environ.get("LEDGER_DB"):
        return location(env)
    return data_dir() / "ledger.duckdb"


# New ledger files are written in DuckDB's storage format v1.0.0, which every
# DuckDB from 1.0 on opens: a reader can verify a ledger with the DuckDB they
# have. Files an earlier version made in DuckDB 2's own format open as well.
STORAGE_VERSION = "v1.0.0"


# Every connection to a ledger: never fetch or load an extension (opening a
# SQLite or Parquet file by mistake must not reach the network or run code
# from elsewhere), and write new files in the storage format above.
CONNECT_CONFIG = {
    "storage_compatibility_version": STORAGE_VERSION,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _close(con: duckdb.DuckDBPyConnection, hold: filelock.Hold | None) -> None:
    """Close the file, then let its lock go: in this order, or DuckDB's lock goes with it."""
    con.close()
    if hold is not None:
        hold.release()


def _connect(path: Path, *, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, filelock.Hold | None]:
    """Open the file, waiting up to busy_timeout() seconds while another process holds it.

    The file's lock (:mod:`ledger.filelock`) is taken first, so DuckDB never
    reads the file while another ledger process writes it. A process that
    created a ledger and failed removes it while it still holds the lock
    (:meth:`Store.discard_if_unused`); a process that waited on that lock
    then holds a file nobody will see, so it checks that the path still
    names the file it locked, and raises :class:`filelock.Replaced` if not.
    """
    import duckdb

    deadline = time.monotonic() + busy_timeout()
    busy = f"ledger is busy: another process is using {path}; try again in a moment"
    try:
        hold = filelock.hold(path, exclusive=not read_only, deadline=deadline)
    except TimeoutError:
        raise LedgerBusy(busy) from None
    delay = 0.02
    try:
        while True:
            try:
                before = _inode(path)
                if before is None:
                    raise filelock.Replaced
                con = duckdb.connect(str(path), read_only=read_only, config=CONNECT_CONFIG)
                if _inode(path) != before:
                    con.close()
                    raise filelock.Replaced
                con.execute("SET enable_progress_bar = false")  # stdout carries data only, even in a long import
                return con, hold
            except duckdb.IOException as error:  # DuckDB's own lock: a program that is not a ledger holds it
                if "lock" not in str(error).lower():
                    raise LedgerError(open_error(path, str(error), duckdb.__version__)) from None
                if time.monotonic() >= deadline:
                    raise LedgerBusy(busy) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
            except duckdb.Error as error:
                raise LedgerError(f"cannot open {path} as a ledger: {str(error).splitlines()[0]}") from None
    except BaseException:
        if hold is not None:
            hold.release()
        raise


def _create(path: Path) -> bool:
    """Make an empty, migrated ledger at ``path`` atomically; False if another process made one first.

    It is built under a temporary name beside ``path`` and linked into place,
    which fails if ``path`` exists: a ledger another process has committed
    to is never replaced, and nobody ever opens a half-made file.
    """
    import secrets

    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.creating")
    try:
        try:
            con = duckdb.connect(str(temporary), config=CONNECT_CONFIG)
        except duckdb.Error as error:
            raise LedgerError(f"cannot create ledger {path}: {str(error).splitlines()[0]}") from None
        try:
            migrations.migrate(con, migrations.pending(con, path))
        finally:
            con.close()
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        raise LedgerError(f"cannot create ledger {path}: {error.strerror}") from None
    finally:
        for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
            leftover.unlink(missing_ok=True)


def open_error(path: Path, error: str, duckdb_version: str) -> str:
    """One line for a file DuckDB cannot open; for a newer storage format, the cause and the fix."""
    if "newer version of duckdb" in error.lower().replace(" an newer", " a newer"):
        return (f"cannot open {path}: it was written by a newer DuckDB than this ledger's {duckdb_version}; "
                "upgrade forecast-ledger (README \"DuckDB versions\")")
    if "extension" in error.lower():  # a SQLite or other foreign file: DuckDB would need an extension
        return f"cannot open {path}: it is not a ledger (not a DuckDB file)"
    return f"cannot open ledger {path}: {error.splitlines()[0]}"


@dataclass(frozen=True)
class VerifyReport:
    n_records: int
    n_commits: int
    head: str


class Store:
    """An open ledger file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, *, created: bool = False,
                 hold: filelock.Hold | None = None):
        self.con = con
        self.path = path
        # A store dropped unclosed closes its file, then lets its lock go, when it is collected.
        self._close = weakref.finalize(self, _close, con, hold)
        self.created = created  # this open made the file (see discard_if_unused)
        self._tip: tuple[int, str, datetime, int] | None = None  # the last commit's id, head, time and last seq
        self._known: dict[str, _Current] = {}  # what the writes check a question against, true while _tip is
        self._pending: dict[str, list[list]] | None = None  # a batch's rows by table, not inserted yet (see batch)

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True, read_only: bool = False) -> Store:
        """Open (and, if ``create``, create) the ledger at ``path``, migrating it forward.

        A ``postgresql://…`` location opens a team ledger (:mod:`ledger.store_pg`).
        """
        path = location(path) if path else default_path()
        if isinstance(path, ServerUrl):
            from ledger.store_pg import ServerStore

            return ServerStore.open_server(path, create=create, read_only=read_only)
        created = False
        for _ in range(100):  # each round, another process removed the file it had just made
            if not path.exists():
                if not create or read_only:
                    raise NotFound(f"no ledger at {path} (run `ledger init`, or add a prediction)")
                created = _create(path) or created
            try:
                con, hold = _connect(path, read_only=read_only)
                break
            except filelock.Replaced:
                created = False
        else:
            raise LedgerBusy(f"ledger is busy: {path} keeps being created and removed; try again in a moment")
        store = cls(con, path, created=created, hold=hold)
        try:
            pending = migrations.pending(con, path)
            if pending and read_only:
                store.close()
                cls.open(path, create=False).close()  # migrate with a writable connection first
                return cls.open(path, create=False, read_only=True)
            migrations.migrate(con, pending)
            migrations.install_views(con)
        except BaseException:
            store.close()
            raise
        return store

    def discard_if_unused(self) -> bool:
        """Remove the ledger file if this open created it and it holds no commit; say whether it did.

        Called by a command that failed on a ledger it created, so a mistake
        leaves no trace. It runs while the connection still holds the lock,
        so no other process can commit in between, and a process waiting on
        that lock sees the file gone (:func:`_connect`) rather than writing
        into it.
        """
        import duckdb

        try:
            if not self.created or self.con.execute("SELECT count(*) FROM commits").fetchone()[0]:
                return False
        except duckdb.Error:  # a connection left unusable: keep the file rather than guess
            return False
        for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        return True

    def close(self) -> None:
        self.con.close()  # the store's connection now, which a team ledger's reload replaces
        self._close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def applied_migrations(self) -> list[str]:
        """The names of the migrations this ledger has had, in order."""
        return migrations.applied(self.con)

    # -- writing -----------------------------------------------------------

    @contextmanager
    def write(self, command: str, *, at: datetime | None = None) -> Iterator[Writer]:
        """One command's transaction: everything written in it commits, or nothing does.

        ``at`` is the recording moment (default: now). Only a replay of a
        history (the demo) passes it, and the chain's clock never runs
        backwards: it may not precede the last commit.
        """
        batched, writer = self._pending is not None, None
        if not batched:
            self.con.execute("BEGIN TRANSACTION")
        try:
            if self._tip is None:  # what this process knew of its questions is only as true as its tip
                self._known.clear()
            last = self._tip or self.con.execute(
                "SELECT id, head, committed_at, "
                f"greatest({', '.join(f'(SELECT max(seq) FROM {t})' for t in RECORD_TABLES)}) "
                "FROM commits ORDER BY id DESC LIMIT 1"
            ).fetchone()
            commit_id, prev_head, last_seq = (last[0] + 1, last[1], last[3]) if last else (1, GENESIS, 0)
            now, previous = self.clock(), last[2] if last else None
            if at is None:
                at = max(now, previous) if previous else now  # a clock set back never reorders the chain
            elif at > now or (previous and at < previous):
                raise LedgerError("a commit cannot be recorded in the future or before the ledger's last commit")
            writer = Writer(self, commit_id, prev_head, command, next_seq=(last_seq or 0) + 1, recorded_at=at)
            yield writer
            head = writer.seal()
            if not batched:
                refresh_state(self.con, f"commit_id = {writer.commit_id}", created=writer.created)  # a batch's, when it ends
                self.con.execute("COMMIT")
        except BaseException:
            self._tip = None
            if not batched:
                self.con.execute("ROLLBACK")
            elif writer is not None:
                self._undo(writer.commit_id)
            raise
        # The tip is remembered for this process's next write: while this
        # connection is open no other process can write the file (DuckDB
        # locks it), so it stays true, and so does what the writes learnt of
        # their questions (:meth:`Writer._current`).
        if head is not None:
            self._tip = (writer.commit_id, head, writer.recorded_at, writer.next_seq - 1)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many commits in one transaction, their rows inserted together: a statement per table
        instead of one per record (~1.5 ms each, most of it DuckDB's per-statement cost).

        For a replay of a history into a ledger no one reads while it runs (the demo's, in memory;
        never a team ledger, whose commits reach the server one by one): the rows reach the tables
        when the batch ends or when a write reads the ledger; a commit that fails leaves the batch's
        others, an error out of the batch leaves none of them.
        """
        self.con.execute("BEGIN TRANSACTION")
        self._pending = {}
        before = self.con.execute("SELECT coalesce(max(id), 0) FROM commits").fetchone()[0]
        try:
            yield
            self._flush()
            refresh_state(self.con, f"commit_id > {int(before)}")
            self.con.execute("COMMIT")
        except BaseException:
            self._tip = None
            self.con.execute("ROLLBACK")
            raise
        finally:
            self._pending = None

    def _flush(self) -> None:
        """Insert a batch's pending rows (nothing outside a batch): each table's in one statement, a
        list a column, unnested (~0.01 ms a row; a VALUES row of parameters costs ~0.13 ms to plan)."""
        for table, rows in (self._pending or {}).items():
            if rows:
                columns = [list(column) for column in zip(*rows, strict=True)]
                unnested = ", ".join(f"unnest(${i})" for i in range(1, len(columns) + 1))
                self.con.execute(f"INSERT INTO {table} SELECT {unnested}", columns)
                rows.clear()

    def _undo(self, commit_id: int) -> None:
        """Take a failed commit out of the batch it was written in: its rows, inserted or not."""
        self._flush()
        for table in ("commits", *RECORD_TABLES):
            self.con.execute(f"DELETE FROM {table} WHERE {'id' if table == 'commits' else 'commit_id'} = ?",
                             [commit_id])

    def clock(self) -> datetime:
        """The recording clock (UTC, naive): this machine's; a team ledger uses its server's."""
        return utc_now()

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

    def question(self, question_id: str) -> QuestionHistory:
        """One question with its whole history (every resolution and edit, in order)."""
        found = self._histories("q.id = ?", [question_id])
        if not found:
            raise NotFound(f"no question with id {short(question_id)}")
        return found[0]

    def histories(self, *, tag: str | None = None, forecaster: str | None = None) -> list[QuestionHistory]:
        """Every question matching the filters with its whole history, as :meth:`question` gives
        one, soonest resolve-by first: three queries in all, however many questions (a site)."""
        return self._histories(*self._filters(tag=tag, forecaster=forecaster))

    def history_batches(self, *, tag: str | None = None, forecaster: str | None = None,
                        size: int = 5_000, by_id: bool = False,
                        prefixes: list[str] | None = None) -> Iterator[list[QuestionHistory]]:
        """:meth:`histories` in the same order (or in id order, ``by_id``), ``size`` questions at a time:
        a site of a large ledger holds one batch of histories in memory, not all of them. ``prefixes``:
        only the questions whose ids start with one of them (the pages of a site that changed)."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        if prefixes is not None:
            where += " AND list_contains(?::VARCHAR[], left(q.id, ?))"
            params = [*params, prefixes, len(prefixes[0]) if prefixes else 1]
        order = "q.id" if by_id else "q.resolve_by, q.created_at, q.id"
        ids = [row[0] for row in self.con.execute(
            f"SELECT q.id FROM questions q WHERE {where} ORDER BY {order}", params).fetchall()]
        for start in range(0, len(ids), size):
            batch = self._histories(f"{where} AND q.id IN (SELECT unnest(?::VARCHAR[]))", [*params, ids[start:start + size]])
            yield sorted(batch, key=lambda q: q.id) if by_id else batch

    def history_digests(self, *, tag: str | None = None, forecaster: str | None = None,
                        prefix: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """What the histories of the questions matching the filters are made of, by id prefix of
        ``prefix`` characters: ``{prefix: digest of every record of those questions}`` (a record's hash
        covers its content, seq and commit), and each question's ``(id, status)`` in :meth:`histories`'
        order (the status moves from open to due with the calendar, not with a record). A prefix
        whose digest and statuses are those of an earlier run holds the same histories."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        chosen = self.con.execute(f"SELECT q.id, q.status FROM questions q WHERE {where} "
                                  "ORDER BY q.resolve_by, q.created_at, q.id", params).fetchall()
        records = " UNION ALL ".join(
            f"SELECT {'id' if table == 'question_records' else 'question_id'} AS question_id, seq, hash FROM {table}"
            for table in RECORD_TABLES)
        digests = self.con.execute(f"""
            SELECT left(r.question_id, {prefix:d}), md5(string_agg(r.hash, '' ORDER BY r.seq))
            FROM ({records}) r SEMI JOIN unnest(?::VARCHAR[]) AS c(id) ON c.id = r.question_id
            GROUP BY ALL""", [[question_id for question_id, _ in chosen]]).fetchall()
        return dict(digests), chosen

    def _histories(self, where: str, params: list) -> list[QuestionHistory]:
        rows = self._question_rows(f"WHERE {where}", params)
        chosen = f"question_id IN (SELECT q.id FROM questions q WHERE {where})"
        resolutions: dict[str, list[ResolutionEntry]] = {}
        for question_id, *entry in self.con.execute(
            "SELECT question_id, outcome, annulled, resolved_at, note, evidence, resolver, recorded_at, current "
            f"FROM resolutions WHERE {chosen} ORDER BY seq", params,
        ).fetchall():
            resolutions.setdefault(question_id, []).append(ResolutionEntry(*entry))
        edits: dict[str, list[StoredEdit]] = {}
        for question_id, field, value, *rest in self.con.execute(
            f"SELECT question_id, field, value, reason, editor, recorded_at FROM edits WHERE {chosen} ORDER BY seq",
            params,
        ).fetchall():
            edits.setdefault(question_id, []).append(StoredEdit(field, json.loads(value), *rest))
        return [QuestionHistory(**question_fields(row), resolutions=tuple(resolutions.get(row.id, ())),
                                edits=tuple(edits.get(row.id, ()))) for row in rows]

    def questions(
        self,
        *,
        status: str = "all",
        tag: str | None = None,
        forecaster: str | None = None,
        due_within_days: int | None = None,
        search: str | None = None,
        sort: str = "resolve-by",
        latest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[StoredQuestion]:
        """Questions matching the filters, soonest resolve-by first (or in ``sort``'s order, see :data:`SORTS`).

        ``status`` is one of open (which includes due), due, resolved,
        annulled, closed (resolved or annulled) or all. ``search`` keeps the
        statements that contain it, ignoring case. ``latest_first`` orders by
        resolution, most recent first; ``offset`` and ``limit`` take one page
        of the list, in SQL: only that page's questions are read.
        """
        where, params = self._selection(status=status, tag=tag, forecaster=forecaster,
                                        due_within_days=due_within_days, search=search)
        order = "q.resolved_at DESC, q.id" if latest_first else _order(sort)
        if limit is None and not offset:
            return self._question_rows(f"WHERE {where}", params, order)
        return self._page_rows(where, params, order, offset, limit)[0]

    def question_page(
        self, *, offset: int = 0, limit: int, sort: str = "resolve-by", **filters: Any
    ) -> tuple[list[StoredQuestion], int]:
        """One page of :meth:`questions` (same ``filters``) and how many questions the whole list has."""
        where, params = self._selection(**filters)
        return self._page_rows(where, params, _order(sort), offset, limit)

    def _page_rows(self, where: str, params: list, order: str, offset: int, limit: int | None):
        """A page in two steps. One pass over the questions view chooses the page's ids and counts the list
        into a TEMP table (:func:`_counted_page_sql`); then the page's questions, forecasts and resolutions
        are read by those ids, which reach the record tables and the kept state through the views."""
        self.con.execute("CREATE OR REPLACE TEMP TABLE listing_page AS "
                         + _counted_page_sql(where, order, offset, limit), params)
        try:
            found = self.con.execute("SELECT id, listed FROM temp.listing_page").fetchall()
            if not found:
                total = self.con.execute(f"SELECT count(*) FROM questions q WHERE {where}", params).fetchone()[0]
                return [], total
            ids = ", ".join(chain.sql_text(question_id) for question_id, _ in found)  # ids the ledger made: hex
            rows = self.con.execute(_listing_sql(_ROW_SELECT, f"SELECT * FROM questions q WHERE q.id IN ({ids})",
                                                 order, ids=ids))
            return [_stored_question(*row) for row in rows.fetchall()], found[0][1]
        finally:
            self.con.execute("DROP TABLE IF EXISTS temp.listing_page")  # never a table of that name in the file

    def question_texts(
        self,
        form: str,
        *,
        sort: str = "resolve-by",
        offset: int = 0,
        limit: int | None = None,
        due_on: date | None = None,
        chunk: int = 10_000,
        **filters: Any,
    ) -> Iterator[tuple]:
        """The rows of :meth:`questions` (same ``filters``), rendered by DuckDB and streamed ``chunk`` at a time.

        ``form`` ``json``: one 1-tuple a question holding its ``as_json()`` as
        JSON text (the same values; compact, and characters a terminal would
        obey left raw). ``form`` ``csv``: a tuple of the cells of
        :func:`csv_columns`, formula-guarded, times as ISO text with ``Z``.
        With ``due_on`` each row is a :class:`DueQuestion` on that day (it
        carries ``days_overdue``). Python never builds a record and holds one
        chunk; DuckDB still sorts and groups the whole selection (its memory,
        not the rows', is what a million questions cost: see benchmarks/run_all.py).
        """
        if form not in ("json", "csv"):
            raise ValueError(f"no listing form {form!r}")
        where, params = self._selection(**filters)
        record = StoredQuestion if due_on is None else DueQuestion
        select = _json_select(record, due_on) if form == "json" else ", ".join(_csv_select(record, due_on))
        cursor = self.con.execute(_listing_sql(select, _chosen_sql(f"WHERE {where}", _order(sort), _page(offset, limit)),
                                               _order(sort)), params)
        while rows := cursor.fetchmany(chunk):
            yield from rows

    def status_counts(self, *, tag: str | None = None, forecaster: str | None = None) -> dict[str, int]:
        """How many questions are open, due, resolved and annulled."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        counts = dict(
            self.con.execute(f"SELECT status, count(*) FROM questions q WHERE {where} GROUP BY status", params).fetchall()
        )
        return {status: int(counts.get(status, 0)) for status in ("open", "due", "resolved", "annulled")}

    def forecasters(self, *, tag: str | None = None) -> list[str]:
        """Everyone who has forecast in this ledger (on a question with ``tag``), in order."""
        where, params = self._filters(tag=tag)
        return [row[0] for row in self.con.execute(
            f"SELECT DISTINCT forecaster FROM forecasts WHERE question_id IN (SELECT q.id FROM questions q WHERE {where}) "
            "ORDER BY 1", params).fetchall()]

    def tags(self) -> list[str]:
        """Every tag a question carries now (after edits), in order."""
        return [row[0] for row in self.con.execute(
            "SELECT DISTINCT tag FROM (SELECT unnest(tags) AS tag FROM questions) ORDER BY 1"
        ).fetchall()]

    def record_counts(self) -> dict[str, int]:
        """How many records of each kind the ledger holds: questions, forecasts, resolutions, edits."""
        tables = {table.removesuffix("_records") + "s": table for table in RECORD_TABLES}
        row = self.con.execute(
            "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in tables.values())
        ).fetchone()
        return dict(zip(tables, row, strict=True))

    def edit_counts(self, field: str) -> dict[str, int]:
        """How many times each question's ``field`` was edited (questions never edited are absent)."""
        if field not in EDITABLE:
            raise LedgerError(f"only {', '.join(EDITABLE)} can be edited, not {field}")
        return dict(self.con.execute(
            "SELECT question_id, count(*) FROM edits WHERE field = ? GROUP BY question_id", [field]
        ).fetchall())

    # -- bulk input and output -------------------------------------------------

    @contextmanager
    def staging(self) -> Iterator[Staging]:
        """Temporary tables for a bulk import, dropped when the block ends (see :class:`Staging`)."""
        staging = Staging(self.con)
        try:
            yield staging
        finally:
            staging.drop()

    def copy_out(self, select_sql: str, path: Path, options: str) -> int:
        """Write the rows of ``select_sql`` (over the documented views) to ``path`` with DuckDB's COPY.

        ``options`` are COPY's (``FORMAT csv, HEADER true``); returns the
        number of rows written.
        """
        import duckdb

        try:
            return self.con.execute(f"COPY ({select_sql}) TO ? ({options})", [str(path)]).fetchone()[0]
        except duckdb.IOException as error:
            raise LedgerError(f"cannot write {path}: {str(error).strip().splitlines()[0]}") from None

    def corrected(self, *, tag: str | None = None, forecaster: str | None = None) -> list[StoredQuestion]:
        """The questions whose current resolution corrects an earlier one (a retraction included),
        most recently resolved first; each says what it was (``corrected_from``)."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        return self._question_rows(
            f"""WHERE {where}
                AND q.id IN (SELECT question_id FROM resolutions GROUP BY question_id HAVING count(*) > 1)""",
            params, order="q.resolved_at DESC NULLS LAST, q.id")

    def commits(self) -> list[dict[str, Any]]:
        """Every commit in chain order, with the fields its head covers."""
        cursor = self.con.execute("SELECT id, command, committed_at, n_records, prev_head, head FROM commits ORDER BY id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def published_records(self, *, tag: str | None = None, forecaster: str | None = None,
                          size: int = 50_000, seqs: list[tuple[int, int]] | None = None) -> Iterator[tuple]:
        """Every record as (table, seq, commit_id, hash, text) in seq order, for a published site,
        fetched ``size`` at a time (a million records' texts are never all held at once); ``seqs``:
        only those within these (first, last) ranges (files of :meth:`published_chunks`), in one pass.

        ``text`` is the exact canonical text the hash covers for records in
        the selection (its questions, their resolutions and edits, and the
        selected forecaster's forecasts on them), NULL for every other
        record, whose hash alone lets the chain recompute.
        """
        within = "TRUE" if seqs is None else " OR ".join(
            f"r.seq BETWEEN {int(first)} AND {int(last)}" for first, last in seqs) or "FALSE"
        sql, params = self._published(tag, forecaster, lambda table, shown: f"""
            SELECT '{table}' AS tbl, r.seq, r.commit_id, r.hash,
                   CASE WHEN {shown} THEN {chain.canonical_sql(table, "r")} END AS text
            FROM {table} r WHERE {within}""")
        cursor = self.con.cursor()  # its own: the store may be asked other things before the last record is read
        migrations.install_views(cursor)  # a cursor is a connection of its own: it must read this code's views
        cursor.execute(sql + " ORDER BY seq", params)
        while rows := cursor.fetchmany(size):
            yield from rows
        cursor.close()

    def published_chunks(self, *, tag: str | None = None, forecaster: str | None = None,
                         size: int = 50_000) -> list[tuple[str, int, int]]:
        """The records :meth:`published_records` gives, ``size`` at a time in seq order, as ``(digest,
        first seq, last seq)``: the digest covers each record's table, hash (its content, seq and commit)
        and whether its text is published, so a chunk whose digest an earlier publish saw is the same
        file, and no canonical text is built to know it."""
        sql, params = self._published(tag, forecaster, lambda table, shown: f"""
            SELECT '{table}' AS tbl, r.seq, r.hash, {shown} AS shown FROM {table} r""")
        return self.con.execute(f"""
            SELECT md5(string_agg(tbl || r.hash || shown::INTEGER, ',' ORDER BY seq)), min(seq), max(seq)
            FROM (SELECT *, (row_number() OVER (ORDER BY seq) - 1) // {int(size)} AS chunk FROM ({sql})) r
            GROUP BY chunk ORDER BY chunk""", params).fetchall()

    def _published(self, tag: str | None, forecaster: str | None, select) -> tuple[str, list]:
        """The union of ``select(table, shown)`` over the record tables, ``shown`` the SQL that tells
        a record of the selection (whose text is published) from the others."""
        where, params = self._filters(tag=tag, forecaster=forecaster)
        parts = []
        for table in RECORD_TABLES:
            question = "r.id" if table == "question_records" else "r.question_id"
            shown = f"{question} IN (SELECT id FROM published_questions)"
            if table == "forecast_records" and forecaster:
                shown += f" AND r.forecaster = {chain.sql_text(forecaster)}"
            parts.append(select(table, f"({shown})"))
        return (f"WITH published_questions AS MATERIALIZED (SELECT q.id FROM questions q WHERE {where}) "
                + " UNION ALL ".join(parts)), params

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

    @classmethod
    def _selection(cls, *, status: str = "all", tag: str | None = None, forecaster: str | None = None,
                   due_within_days: int | None = None, search: str | None = None) -> tuple[str, list]:
        """The WHERE of a question listing: :meth:`_filters`, a due window and a statement search."""
        where, params = cls._filters(status=status, tag=tag, forecaster=forecaster)
        if due_within_days is not None:
            where += " AND q.status IN ('open', 'due') AND q.resolve_by <= current_date + ?::INTEGER"
            params.append(due_within_days)
        if search:  # a parameter, never spliced: % and _ are plain characters here
            where += " AND contains(lower(q.statement), lower(?))"
            params.append(search)
        return where, params

    def _question_rows(self, where: str, params: list, order: str = "q.resolve_by, q.created_at, q.id",
                       page: str = "") -> list[StoredQuestion]:
        rows = self.con.execute(_listing_sql(_ROW_SELECT, _chosen_sql(where, order, page), order), params).fetchall()
        return [_stored_question(*row) for row in rows]

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one read-only query (``ledger sql``) and return column names and rows.

        Exactly one SELECT (or WITH … SELECT) statement, on a connection that
        then reaches no file but the ledger and whose settings are locked:
        a query can read the ledger and nothing else, and write nothing.
        """
        import duckdb

        try:
            statements = duckdb.extract_statements(sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                kinds = ", ".join(str(s.type).removeprefix("StatementType.") for s in statements) or "nothing"
                raise LedgerError(f"ledger sql is read-only: it runs one SELECT (or WITH … SELECT) statement, not {kinds}")
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
            cursor = self.con.execute(sql)
        except duckdb.Error as error:
            raise LedgerError(str(error).splitlines()[0]) from None
        if cursor.description is None:
            return [], []
        return [column[0] for column in cursor.description], cursor.fetchall()

    # -- integrity ---------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute every record hash and commit head; raise :class:`Tampered` at the first mismatch.

        First, the file may hold nothing the migrations did not make: a view
        or macro written by another client is named even though the code's
        own views (:func:`migrations.install_views`) shadow it.
        """
        if foreign := migrations.foreign_objects(self.con):
            described = ", ".join(f"{kind} {name}" for kind, name in foreign[:5]) + (", …" if len(foreign) > 5 else "")
            raise Tampered(f"the ledger file holds {described}, which ledger's migrations did not make: "
                           "it was created or changed outside ledger")
        if bad := chain.first_bad_record(self.con):
            raise Tampered(
                f"{bad.table.removesuffix('_records')} record {bad.seq} (question {short(bad.question_id)}, "
                f"commit {bad.commit_id}) does not match its hash: it was changed outside ledger"
            )
        if bad_commit := chain.first_bad_commit(self.con):
            raise Tampered(f"commit {bad_commit.id} ({bad_commit.command}, "
                           f"{bad_commit.committed_at:%Y-%m-%d %H:%M} UTC): {bad_commit.why}")
        if (orphan := chain.first_orphan_record(self.con)) is not None:
            raise Tampered(f"record {orphan} belongs to no commit: it was inserted outside ledger")
        if (stale := first_stale_state(self.con)) is not None:
            raise Tampered(f"the kept state of question {short(stale)} is not what its records say: "
                           "it was changed outside ledger")
        n_records, head = self.head()
        n_commits = self.con.execute("SELECT count(*) FROM commits").fetchone()[0]
        return VerifyReport(n_records=n_records, n_commits=n_commits, head=head)


class Staging:
    """Temporary tables on the ledger's connection, for reading and checking a file set-wise.

    An import reads its file with DuckDB's own readers into these tables,
    looks for the first bad row in them, then appends them to the ledger in
    one :meth:`Store.write` with :meth:`Writer.append`. They live on the
    connection only (``TEMP``), never in the ledger file.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._tables: list[str] = []
        self._views: list[str] = []

    def columns(self, relation_sql: str) -> dict[str, str]:
        """(lower-case name → type) of the columns ``relation_sql`` (e.g. a ``read_csv(...)``) yields."""
        rows = self._con.execute(f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
        return {row[0].lower(): row[1] for row in rows}

    def create(self, name: str, select_sql: str, params: list | dict | None = None) -> None:
        """Create (or replace) the temporary table ``name`` from ``select_sql``."""
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select_sql}", params or [])
        self._tables.append(name)

    def first(self, select_sql: str, params: list | dict | None = None) -> dict[str, Any] | None:
        """The first row ``select_sql`` yields, by column name, or None."""
        cursor = self._con.execute(select_sql, params or [])
        row = cursor.fetchone()
        return None if row is None else dict(zip([c[0] for c in cursor.description], row, strict=True))

    def register(self, name: str, table: Any) -> None:
        """Make an Arrow table (a peer export read in Python) readable as ``name``."""
        self._con.register(name, table)
        self._views.append(name)

    def values(self, select_sql: str, params: list | dict | None = None) -> list[Any]:
        """The first column of every row ``select_sql`` yields."""
        return [row[0] for row in self._con.execute(select_sql, params or []).fetchall()]

    def delete(self, name: str, where_sql: str) -> None:
        """Delete the rows of temporary table ``name`` where ``where_sql`` holds."""
        self._con.execute(f"DELETE FROM {name} WHERE {where_sql}")

    def drop(self) -> None:
        for name in self._tables:
            self._con.execute(f"DROP TABLE IF EXISTS {name}")
        for name in self._views:
            self._con.unregister(name)
        self._tables.clear()
        self._views.clear()


class Writer:
    """What one command may write. Each method validates, then appends.

    Rows are cast to the record table's exact column types before they are
    hashed, so that the canonical text hashed here is the canonical text of
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
        self.first_seq = next_seq  # this commit's records are those from here on (seqs only grow)
        self.recorded_at = recorded_at
        self.warnings: list[str] = []  # what the command should tell the user, one line each
        self.created: list[str] = []  # the questions add_question made, under fresh random ids (see refresh_state)
        # (seq, hash) of the records hashed here in Python; None once a bulk append hashed in SQL
        self._hashed: list[tuple[int, str]] | None = []

    def append(self, table: str, select_sql: str, params: list | dict | None = None) -> int:
        """Append the rows ``select_sql`` yields to record ``table``; return how many.

        The bulk path (an import appends a million rows in one statement):
        ``select_sql`` yields the table's columns in order, all but ``seq``,
        ``commit_id`` and ``hash``, which the writer assigns, then one more:
        each row's position among them, 1 to n, which makes its seq (the
        caller numbers them where they are in order: a streaming
        ``row_number() OVER ()`` over an import's rows costs a third of the
        sort a window ordered here took). Nothing is validated here: the domain
        writes below validate through the models, an import through its
        set-wise checks first.
        """
        self.store._flush()  # the statement may read the tables, and its rows follow the pending ones
        columns = [(name, kind) for name, kind in RECORD_FIELDS[table] if name not in ("seq", "commit_id")]
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        typed = ", ".join(f"CAST(s.c{i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(columns))
        count = self.con.execute(
            f"""
            INSERT INTO {table}
            SELECT r.*, {chain.record_hash_sql(table, "r", chain.sql_text(self.prev_head))}
            FROM (SELECT {self.next_seq - 1} + s.position AS seq, {self.commit_id}::BIGINT AS commit_id, {typed}
                  FROM ({select_sql}) AS s({aliases}, position)) r
            """,
            params or [],
        ).fetchone()[0]
        first, last = self.con.execute(f"SELECT min(seq), max(seq) FROM {table} WHERE seq >= ?",
                                       [self.next_seq]).fetchone()
        if count and (first, last) != (self.next_seq, self.next_seq + count - 1):
            raise RuntimeError(f"append to {table}: positions of {count} rows are not 1 to {count}")
        self.next_seq += count
        self._hashed = None
        self.store._known.clear()  # the rows may resolve or edit questions the writes knew in memory
        return count

    def append_row(self, table: str, values: dict[str, Any]) -> int:
        """Append one record of a domain write; return its seq.

        The small path: the row is hashed here with the Python reference
        (:func:`chain.record_hash`, proven equal to the SQL form) rather than
        by planning the canonical SQL, which costs tens of milliseconds per
        statement. ``values`` names every column but ``seq``, ``commit_id``
        and ``hash``; each is first put in the exact form the column stores.
        """
        seq = self.next_seq
        row = {"seq": seq, "commit_id": self.commit_id}
        row |= {name: _stored(kind, values[name]) for name, kind in RECORD_FIELDS[table] if name not in row}
        digest = chain.record_hash(self.prev_head, table, row)
        self._insert(table, [*row.values(), digest])
        self.next_seq += 1
        if self._hashed is not None:
            self._hashed.append((seq, digest))
        return seq

    def count_backfilled(self) -> int:
        """How many of this commit's forecasts the forecasts view marks backfilled."""
        # A range of seq, not a join with this commit's records: a million-row import's count is a scan.
        self.store._flush()
        return self.con.execute(
            "SELECT count(*) FROM forecasts WHERE backfilled AND seq >= ?", [self.first_seq]
        ).fetchone()[0]

    def seal(self) -> str | None:
        """Close the commit: its head covers the previous head and every record hash in it; return it.

        A commit of records hashed here gets its head from the Python
        reference; one with a bulk append aggregates its hashes from the
        table (:func:`chain.commit_digests`). A commit that wrote nothing is
        not recorded (and returns None).
        """
        if self._hashed is not None:
            n = len(self._hashed)
            head = chain.commit_head(self.prev_head, self.commit_id, self.command, self.recorded_at, self._hashed)
        else:
            self.store._flush()
            n, digest = chain.commit_digests(self.con, self.commit_id).get(self.commit_id, (0, ""))
            head = chain.head_of(self.prev_head, self.commit_id, self.command, self.recorded_at, digest)
        if not n:
            return None
        self._insert("commits", [self.commit_id, self.recorded_at, self.command, n, self.prev_head, head])
        return head

    def _insert(self, table: str, row: list) -> None:
        """One row of ``table``, now, or with its batch's (:meth:`Store.batch`)."""
        if self.store._pending is not None:
            self.store._pending.setdefault(table, []).append(row)
            return
        # No casts in the statement: they double its cost, and the values already have the column types.
        self.con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)

    # -- domain writes -----------------------------------------------------

    def add_question(self, question: Question, forecast: Forecast) -> str:
        """Log a new question with its first forecast; return the question's id."""
        import secrets

        forecast.check_fits(question)
        question_id = secrets.token_hex(8)
        source = question.source
        self.append_row("question_records", {
            "id": question_id, "kind": question.kind, "statement": question.statement, "criteria": question.criteria,
            "resolve_by": question.resolve_by, "options": question.options, "tags": question.tags,
            "source_title": source.title if source else None, "source_author": source.author if source else None,
            "source_outlet": source.outlet if source else None, "source_url": source.url if source else None,
            "source_published": source.published if source else None, "quote": question.quote,
            "created_at": self.recorded_at,
        })
        self._append_forecast(question_id, forecast)
        self.created.append(question_id)
        # A question just logged is open, with no resolution: what the questions view would say of it.
        self.store._known[question_id] = _Current(
            question.statement, _stored("VARCHAR[]", question.options), _stored("DATE", question.resolve_by),
            None, None, None, None, _stored("TIMESTAMP", self.recorded_at))
        return question_id

    def add_forecast(self, question_id: str, forecast: Forecast) -> None:
        """Add a revision, or another forecaster's forecast, to an open question."""
        question = self._current(question_id)
        if question.status == "annulled":
            raise LedgerError(f"question {short(question_id)} is annulled: it takes no more forecasts")
        if question.status == "resolved":
            raise LedgerError(f"question {short(question_id)} already has an outcome ({question.outcome}): "
                              "a forecast now would be a retrodiction, so it is refused")
        forecast.check_fits(question_model(question))
        made_at = self._append_forecast(question_id, forecast)
        if made_at.date() > question.resolve_by:
            self.warnings.append(f"warning: {short(question_id)} was due by {question.resolve_by}; a forecast "
                                 f"made {made_at:%Y-%m-%d} is after its window closed and is marked backfilled")

    def _append_forecast(self, question_id: str, forecast: Forecast) -> datetime:
        made_at = forecast.made_at or self.recorded_at
        if made_at > self.recorded_at:
            raise LedgerError("a forecast cannot be made in the future (check --at)")
        self.append_row("forecast_records", {
            "question_id": question_id, "forecaster": forecast.forecaster, "probability": forecast.probability,
            "probabilities": forecast.probabilities, "made_at": made_at, "recorded_at": self.recorded_at,
            "note": forecast.note,
        })
        return made_at

    def resolve(self, question_id: str, resolution: Resolution, *, force: bool = False) -> bool:
        """Record an outcome or an annulment; return True if it corrects an earlier one.

        Annulling a question that has an outcome is a retraction (it would
        drop a scored question from the record), so it needs ``force`` and
        is disclosed beside the scores. A correction without its own
        ``resolved_at`` keeps the moment the outcome first became known:
        moving it to now would let forecasts made in between count.
        """
        question = self._current(question_id)
        if resolution.annulled and question.status == "resolved" and not force:
            raise LedgerError(f"question {short(question_id)} resolved {question.outcome}: annulling it now is a "
                              "retraction, disclosed beside every score; pass --force to record it")
        outcome = resolution.outcome
        if outcome is not None:
            outcome = question_model(question).outcome_for(outcome)
        _refuse_repeat(question_id, question, resolution, outcome)
        resolved_at = resolution.resolved_at or question.first_known or self.recorded_at
        if resolved_at > self.recorded_at:
            raise LedgerError("an outcome cannot become known in the future (check --on)")
        self.append_row("resolution_records", {
            "question_id": question_id, "outcome": outcome, "annulled": resolution.annulled,
            "resolved_at": resolved_at, "note": resolution.note, "evidence": resolution.evidence,
            "resolver": resolution.resolver, "recorded_at": self.recorded_at,
        })
        self.store._known.pop(question_id)  # its status and outcome are the view's to derive: read again if asked
        return question.status in ("resolved", "annulled")

    def edit(self, question_id: str, field: str, value: Any, *, reason: str | None, editor: str | None) -> None:
        """Record a visible edit of criteria, resolve-by or tags."""
        if field not in EDITABLE:
            raise LedgerError(f"only {', '.join(EDITABLE)} can be edited, not {field}")
        question = self._current(question_id)
        if field == "resolve_by":
            _check_new_resolve_by(question_id, question, parse_date(value))
        self.append_row("edit_records", {
            "question_id": question_id, "field": field, "value": json.dumps(value, default=str), "reason": reason,
            "editor": editor, "recorded_at": self.recorded_at,
        })
        self.store._known.pop(question_id)  # as edited, by the view: read again if asked

    def _current(self, question_id: str) -> _Current:
        """What a write checks ``question_id`` against: as an earlier write of this process left it,
        else read from the questions view (one read per question, not one per write: most writes
        are forecasts, which change none of it)."""
        known = self.store._known.get(question_id)
        if known is None:
            known = self.store._known[question_id] = self._read_current(question_id)
        return known

    def _read_current(self, question_id: str) -> _Current:
        """Read from the records themselves: the kept state (``question_state``) is refreshed when the
        commit (or a batch of them) ends, and this commit's earlier writes may have changed the question."""
        self.store._flush()
        row = self.con.execute(
            """SELECT statement, options, resolve_by,
                      CASE status WHEN 'annulled' THEN 'annulled' WHEN 'resolved' THEN 'resolved' END, outcome,
                      (SELECT min(resolved_at) FILTER (WHERE NOT annulled) FROM resolution_records
                       WHERE question_id = $id),
                      resolved_at, created_at
               FROM (SELECT q.statement, q.options, q.created_at, s.*,
                            CASE WHEN s.annulled THEN 'annulled' WHEN s.outcome IS NOT NULL THEN 'resolved' END AS status
                     FROM question_records q JOIN question_state_from_records s ON s.id = q.id
                     WHERE q.id = $id AND s.id = $id)""",
            {"id": question_id},
        ).fetchone()
        if row is None:
            raise NotFound(f"no question with id {short(question_id)}")
        return _Current(*row)


class _Current(NamedTuple):
    """What a write checks a question against: its words and options, and whether it is closed."""

    statement: str
    options: list[str] | None
    resolve_by: date  # as edited: a forecast made after it is backfilled
    status: str | None  # resolved, annulled, or None while open
    outcome: str | None
    first_known: datetime | None  # when the first outcome became known: a correction keeps it
    known_at: datetime | None  # when the current resolution says the outcome became known
    created_at: datetime


def _refuse_repeat(question_id: str, question: _Current, resolution: Resolution, outcome: str | None) -> None:
    """A resolution that says again what the current one says is not a correction: refuse it,
    so the history does not show corrections that changed nothing."""
    name = short(question_id)
    if resolution.annulled and question.status == "annulled":
        raise LedgerError(f"{name} is already annulled; nothing recorded")
    if resolution.annulled or question.status != "resolved":
        return
    if outcome == question.outcome and resolution.resolved_at in (None, question.known_at):
        raise LedgerError(f"{name} is already resolved {question.outcome}; nothing recorded "
                          "(to correct when the outcome became known, give --on)")


def _check_new_resolve_by(question_id: str, question: _Current, new_date: date) -> None:
    """A resolve-by date cannot precede the question, and once a question is resolved or annulled
    its date decided whether that was late: moving it then would rewrite the record."""
    name = short(question_id)
    created = question.created_at.date()
    if new_date < created:
        raise LedgerError(f"--by {new_date} is before {name} was created ({created})")
    if question.status in ("resolved", "annulled"):
        raise LedgerError(f"{name} is {question.status}: its resolve-by date decided whether that was late "
                          "and can no longer change")


def _stored(kind: str, value: Any) -> Any:
    """``value`` as a column of type ``kind`` stores it, so the text hashed is the text verify reads.

    A zoned moment becomes naive UTC (the ledger's form); a whole number in
    a DOUBLE column becomes the double it is stored as.
    """
    if value is None:
        return None
    if kind.endswith("[]"):
        return [_stored(kind[:-2], item) for item in value]
    if kind == "DOUBLE":
        return float(value)
    if kind == "BIGINT":
        return int(value)
    if kind == "BOOLEAN":
        return bool(value)
    if kind == "VARCHAR":
        return str(value)
    if kind == "DATE":
        return value.date() if isinstance(value, datetime) else value
    if kind == "TIMESTAMP":
        if isinstance(value, datetime):
            return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        return datetime(value.year, value.month, value.day)  # a date: midnight, as a DATE casts
    raise ValueError(f"no stored form for column type {kind}")


# Up to this many questions touched, their ids reach the state's records as constants (DuckDB pushes
# them into each record table's scan: ~30 CPU ms a question on a million-question ledger); more
# (an import) are refreshed by a join, one pass over the records.
_FEW_TOUCHED = 1_000


def refresh_state(con: duckdb.DuckDBPyConnection, commits: str, *, created: list[str] | tuple = ()) -> None:
    """Make ``question_state`` say what the records say for every question the records of ``commits``
    (a condition on ``commit_id``) created, resolved or edited, in the caller's transaction.

    Every write calls it before it commits (:meth:`Store.write`, :meth:`Store.batch`), and so does a
    team ledger's mirror after it takes commits from the server; forecasts change no state.

    ``created``: questions a domain write made in these commits, under ids it drew at random, so no
    earlier record names them; unless these commits also resolved or edited one, its state is its own
    record's, inserted as it is (regrouping its records costs a cold ``add`` ~10 CPU ms on 100,000
    questions; verify checks both alike)."""
    touched = _touched_sql(commits)
    if created:
        fresh, later = ", ".join(chain.sql_text(question_id) for question_id in created), _touched_sql(
            commits, ("resolution_records", "edit_records"))
        con.execute(f"""INSERT INTO question_state
                        SELECT id, criteria, resolve_by, tags, NULL, NULL, NULL, NULL FROM question_records
                        WHERE {commits} AND id IN ({fresh}) AND id NOT IN ({later})""")
        touched = f"SELECT id FROM ({touched}) WHERE id NOT IN ({fresh}) OR id IN ({later})"
    _restate(con, touched)


def mark_touched(con: duckdb.DuckDBPyConnection, commits: str) -> None:
    """Note (in a TEMP table) the questions the records of ``commits`` touch, for :func:`restate_touched`:
    before those records are deleted, when a team ledger's mirror forgets a commit the server refused."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE touched_questions AS {_touched_sql(commits)}")


def restate_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the kept state of the questions :func:`mark_touched` noted with what their records say now."""
    try:
        _restate(con, "SELECT id FROM temp.touched_questions")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.touched_questions")  # never a table of that name in the file


def _touched_sql(commits: str, tables: tuple[str, ...] = ("question_records", "resolution_records", "edit_records")) -> str:
    """The questions the records of ``commits`` in ``tables`` belong to (a scan of commit_id, which only
    grows: its zone maps skip every block of older commits)."""
    return " UNION ".join(f"SELECT {'id' if table == 'question_records' else 'question_id'} AS id FROM {table} "
                          f"WHERE {commits}" for table in tables)


def _restate(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    ids = [row[0] for row in con.execute(f"{touched} LIMIT {_FEW_TOUCHED + 1}").fetchall()]
    if not ids:
        return
    chosen = (f"IN ({touched})" if len(ids) > _FEW_TOUCHED
              else f"IN ({', '.join(chain.sql_text(question_id) for question_id in ids)})")  # ids the ledger made
    con.execute(f"DELETE FROM question_state WHERE id {chosen}")
    con.execute(f"INSERT INTO question_state SELECT * FROM question_state_from_records WHERE id {chosen}")


def first_stale_state(con: duckdb.DuckDBPyConnection) -> str | None:
    """The first question (by id) whose kept state differs from its records' (or is missing, kept twice,
    or kept for no question), or None: what proves that a listing or a score read from the kept state
    says what the records say."""
    differs = " OR ".join(f"k.{column} IS DISTINCT FROM r.{column}" for column in _STATE_COLUMNS)
    row = con.execute(f"""
        SELECT coalesce(k.id, r.id) AS id
        FROM (SELECT *, count(*) OVER (PARTITION BY id) AS copies FROM question_state) k
        FULL JOIN question_state_from_records r ON r.id = k.id
        WHERE k.id IS NULL OR r.id IS NULL OR k.copies > 1 OR {differs}
        ORDER BY 1 LIMIT 1""").fetchone()
    return row[0] if row else None


_STATE_COLUMNS = ("criteria", "resolve_by", "tags", "outcome", "annulled", "resolved_at", "resolution_recorded_at")


SORTS = {  # `--sort` keys and their SQL order; each ends in the id, so pages never overlap or skip
    "resolve-by": "q.resolve_by, q.created_at, q.id",
    "created": "q.created_at, q.id",
    "id": "q.id",
    "statement": "q.statement, q.id",
}


def _order(sort: str) -> str:
    if sort not in SORTS:
        raise LedgerError(f"unknown sort key {sort!r}; known: {', '.join(SORTS)}")
    return SORTS[sort]


def _page(offset: int, limit: int | None) -> str:
    """The LIMIT/OFFSET of a listing's chosen questions (whole numbers only: never user text)."""
    return (f" LIMIT {int(limit)}" if limit is not None else "") + (f" OFFSET {int(offset)}" if offset else "")


# Beyond this many rows (offset + limit) a page is chosen by sorting the whole list instead.
_TOP_ROWS = 10_000


def _counted_page_sql(where: str, order: str, offset: int, limit: int | None) -> str:
    """The ids of one page of the questions ``where`` chooses, in ``order``, each with ``listed``: how many
    the whole list has. A near page is the ``min_by`` of the first offset + limit rows, kept while the rows
    stream past; a count(*) OVER () window holds every chosen row before the page is cut (a screen of
    1,000,000 questions: 415 MiB peak that way, 246 MiB this way). A deep page sorts the whole list.
    Ids, not rows: keeping every column of each row that streams past cost half the pass."""
    if limit is None or offset + limit > _TOP_ROWS or order not in SORTS.values():  # SORTS: ascending, not null
        return f"SELECT q.id, count(*) OVER () AS listed FROM questions q WHERE {where} ORDER BY {order}{_page(offset, limit)}"
    keys = ", ".join(f"'k{i}': {key.strip()}" for i, key in enumerate(order.split(",")))
    return f"""WITH top AS (SELECT count(*) AS listed, min_by(q.id, {{{keys}}}, {int(offset) + int(limit)}) AS page
                            FROM questions q WHERE {where})
               SELECT unnest(page[{int(offset) + 1}:]) AS id, listed FROM top"""


def _chosen_sql(where: str, order: str, page: str = "") -> str:
    """The questions a listing chooses (one page of them, in order, when ``page`` is given)."""
    return f"SELECT * FROM questions q {where}{f' ORDER BY {order}{page}' if page else ''}"


def _listing_sql(select: str, chosen: str, order: str, *, ids: str | None = None) -> str:
    """One listing query: the ``chosen`` questions, each with its forecasts in the order they were made
    (``s.forecasts``), its current resolution (``r``) and what that corrected (``p``). ``ids``, the
    chosen ids as SQL text, filters those views by constants, which DuckDB pushes into their records;
    without it they are joined with the chosen questions."""
    mine = f"question_id IN ({ids or 'SELECT id FROM chosen'})"
    return f"""
        WITH chosen AS ({chosen}),
        standing AS (  -- list_sort of (made_at, seq, …): list(… ORDER BY …) sorts group by group, ~75 µs each
            SELECT question_id,
                   list_transform(list_sort(list({{'made_at': made_at, 'seq': seq, 'probability': probability,
                                                  'probabilities': probabilities, 'forecaster': forecaster,
                                                  'recorded_at': recorded_at, 'backfilled': backfilled,
                                                  'note': note}})),
                                  lambda f: {{'probability': f.probability, 'probabilities': f.probabilities,
                                             'forecaster': f.forecaster, 'made_at': f.made_at,
                                             'recorded_at': f.recorded_at, 'backfilled': f.backfilled,
                                             'note': f.note}}) AS forecasts
            FROM forecasts WHERE {mine} GROUP BY question_id
        ),
        superseded AS (  -- what the current resolution replaced: 'annulled' or the earlier outcome
            SELECT question_id, arg_max(coalesce(outcome, 'annulled'), seq) AS corrected_from
            FROM resolutions WHERE NOT current AND {mine} GROUP BY question_id
        ),
        standing_resolution AS (SELECT * FROM resolutions WHERE current{f" AND {mine}" if ids else ""})
        SELECT {select}
        FROM chosen q
        LEFT JOIN standing s ON s.question_id = q.id
        LEFT JOIN superseded p ON p.question_id = q.id
        LEFT JOIN standing_resolution r ON r.question_id = q.id
        ORDER BY {order}
        """


# The columns :func:`_stored_question` takes, in its order.
_ROW_SELECT = """q.id, q.kind, q.statement, q.criteria, q.resolve_by, q.original_resolve_by,
       q.options, q.tags, q.status, q.resolved_late, q.created_at, q.quote,
       {'title': q.source_title, 'author': q.source_author, 'outlet': q.source_outlet,
        'url': q.source_url, 'published': q.source_published} AS source,
       coalesce(s.forecasts, []) AS forecasts,
       r.outcome, r.annulled, r.resolved_at, r.note, r.evidence, r.resolver, r.recorded_at,
       p.corrected_from"""

# Where each nested record of a listing row comes from, and when it is absent (null in JSON).
_NESTED = {
    "source": (StoredSource, lambda name: f"q.source_{name}",
               "coalesce(nullif(q.source_title, ''), nullif(q.source_author, ''), nullif(q.source_outlet, ''), "
               "nullif(q.source_url, ''), q.source_published::VARCHAR) IS NOT NULL"),
    "resolution": (StoredResolution, lambda name: f"r.{name}", "r.annulled IS NOT NULL"),
}


def _iso_sql(expr: str) -> str:
    """A TIMESTAMP as the JSON text of a UTC time: ISO 8601 with ``Z``, microseconds only when there are some
    (what ``datetime.isoformat`` gives)."""
    return (f"CASE WHEN epoch_us({expr}) % 1000000 = 0 THEN strftime({expr}, '%Y-%m-%dT%H:%M:%SZ') "
            f"ELSE strftime({expr}, '%Y-%m-%dT%H:%M:%S.%fZ') END")


def _value_sql(kind: str, expr: str) -> str:
    """A scalar field of a record (its annotation ``kind``) as its JSON value; dates and times as text."""
    if kind.startswith("datetime"):
        return _iso_sql(expr)
    if kind.startswith("date"):
        return f"CAST({expr} AS VARCHAR)"
    return expr


def _top_level(record: type, due_on: date | None) -> Iterator[tuple[str, str, str]]:
    """Each field of a listing row: its name, annotation and SQL (before it is rendered)."""
    for f in fields(record):
        if f.name == "forecasts":
            yield f.name, "list", "coalesce(s.forecasts, [])"
        elif f.name == "corrected_from":
            yield f.name, f.type, "p.corrected_from"
        elif f.name == "days_overdue":
            yield f.name, f.type, f"(DATE '{due_on.isoformat()}' - q.resolve_by)"
        else:
            yield f.name, f.type, f"q.{f.name}"


def _struct_sql(record: type, column) -> str:
    return "{" + ", ".join(f"'{f.name}': {_value_sql(f.type, column(f.name))}" for f in fields(record)) + "}"


def _json_select(record: type, due_on: date | None) -> str:
    """The SELECT list of one JSON text a row, the ``as_json()`` of ``record`` field for field."""
    parts = []
    for name, kind, expr in _top_level(record, due_on):
        if name in _NESTED:
            nested, column, present = _NESTED[name]
            value = f"CASE WHEN {present} THEN {_struct_sql(nested, column)} END"
        elif name == "forecasts":
            value = f"list_transform({expr}, lambda f: {_struct_sql(StoredForecast, lambda n: f'f.{n}')})"
        else:
            value = _value_sql(kind, expr)
        parts.append(f"'{name}': {value}")
    return "to_json({" + ", ".join(parts) + "})"


def csv_columns(record: type = StoredQuestion) -> list[str]:
    """The CSV header of a listing of ``record`` (``StoredQuestion`` or ``DueQuestion``): its ``--json``
    fields flattened (``source_title``, ``resolution_outcome``), the same whatever the rows hold."""
    return [name for name, _ in _csv_fields(record, date.today())]  # the day changes no name


def _csv_fields(record: type, due_on: date | None) -> Iterator[tuple[str, str]]:
    from ledger.io.formula import guard_sql

    def cell(kind: str, expr: str) -> str:
        if kind.startswith(("list", "tuple")):
            return f"CAST(to_json({expr}) AS VARCHAR)"  # lists as JSON text, as --csv always had them
        if kind.startswith("str"):
            return guard_sql(expr)
        return _value_sql(kind, expr)

    for name, kind, expr in _top_level(record, due_on):
        if name in _NESTED:
            nested, column, _ = _NESTED[name]
            yield from ((f"{name}_{f.name}", cell(f.type, column(f.name))) for f in fields(nested))
        elif name == "forecasts":
            yield name, cell("list", f"list_transform({expr}, lambda f: "
                                     f"{_struct_sql(StoredForecast, lambda n: f'f.{n}')})")
        else:
            yield name, cell(kind, expr)


def _csv_select(record: type, due_on: date | None) -> list[str]:
    return [f'{expr} AS "{name}"' for name, expr in _csv_fields(record, due_on)]


def _stored_question(*row: Any) -> StoredQuestion:
    """A :class:`StoredQuestion` from a row of the question listing's SELECT, in its column order."""
    *fields, source, forecasts, outcome, annulled, resolved_at, note, evidence, resolver, recorded_at, corrected_from = row
    return StoredQuestion(
        *fields,
        source=StoredSource(**source) if any(source.values()) else None,
        forecasts=tuple(StoredForecast(**forecast) for forecast in forecasts),
        resolution=None if annulled is None else StoredResolution(
            outcome, annulled, resolved_at, note, evidence, resolver, recorded_at),
        corrected_from=corrected_from,
    )


def question_model(question: StoredQuestion | _Current) -> Question:
    """The model of a stored question, to validate forecasts and outcomes against it."""
    from ledger.models import Question

    return Question(statement=question.statement, resolve_by=question.resolve_by, options=question.options)

