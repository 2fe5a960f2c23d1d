"""A team ledger on PostgreSQL: the record tables on a server, everything that computes in DuckDB.

PostgreSQL *stores* the records and *serialises* the writers; an in-memory
DuckDB beside it (``Store.con``) holds a mirror of the record tables with the
migrations' own definitions and views, so every read, ``verify``, scoring and
report runs the one body of DuckDB SQL that a ledger file runs, and every hash
is made by the same engine that makes it for a file (docs/team-ledger.md says
why, with measurements).

Opening fills the mirror in one REPEATABLE READ snapshot: from this machine's
cache of it (a DuckDB file under the data directory, keyed by the cluster's
system identifier and the database's oid) when the server still holds the
cached head at its position, then only the rows of the commits after it; from
every row otherwise. Each pulled or pushed commit's rows carry a digest the
server computes over its own text of them, so ``verify`` asks the server for
the digest of each whole table and checks the mirror only when they agree; a
row changed, added or deleted through ``psql`` makes them differ, and
``verify`` then copies every row afresh and names it, as for a file. A
write takes ``pg_advisory_xact_lock`` inside a READ COMMITTED transaction
(waiting up to the busy timeout, then "ledger is busy"), pulls the commits
others made since, lets the ordinary :class:`ledger.store.Writer` append and
seal in the mirror, then COPYs the commit's rows to the server and commits
there. ``PRIMARY KEY (seq)`` and ``UNIQUE (prev_head)`` make a fork impossible
even for a client that skips the lock.

psycopg is the optional ``team`` extra: it is imported only here, only when a
server ledger is opened.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ledger import migrations
from ledger.chain import RECORD_TABLES
from ledger.errors import LedgerBusy, LedgerError, MissingDependency, NotFound, Tampered
from ledger.location import ServerUrl
from ledger.store import (
    Store, VerifyReport, Writer, busy_timeout, data_dir, mark_touched, refresh_state, restate_touched,
)

if TYPE_CHECKING:
    import duckdb
    import psycopg

__all__ = ["ServerStore", "cache_path", "create_roles", "role_prefix", "role_sql", "server_ddl"]

TABLES = ("commits", *RECORD_TABLES)
# One key per database (advisory locks are per database): the ledger's writers queue on it.
LOCK_KEY = 0x4C45444745520C0
_PG_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "DOUBLE": "double precision", "BOOLEAN": "boolean",
             "DATE": "date", "TIMESTAMP": "timestamp without time zone", "INTEGER": "integer"}
# Every session: UTC, ISO dates and shortest-exact doubles, so values come back as DuckDB wrote them.
_SESSION = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1"
# A 60-bit integer from the md5 of a row's text as the server prints it: per commit, their sum is the
# digest verify compares (a sum, so any set of commits adds up from its parts).
_ROW_DIGEST = "('x' || left(md5(r::text), 15))::bit(60)::bigint"
OUT_OF_DATE = "the ledger's schema on {url} is out of date: its owner must run `ledger init --db {url}`"


def _pg_type(kind: str) -> str:
    return _pg_type(kind[:-2]) + "[]" if kind.endswith("[]") else _PG_TYPES[kind]


def _mirror() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every migration applied: the record tables and the documented views."""
    import duckdb

    con = duckdb.connect(config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    con.execute("SET enable_progress_bar = false")
    migrations.migrate(con, migrations.MIGRATIONS)
    return con


def _digests(con) -> None:
    """The mirror's record of the server's digests: per table and commit, how many rows and their sum.
    TEMP, so it is no table of the ledger's (verify's foreign-object check does not see it)."""
    con.execute("CREATE TEMP TABLE server_digests (tbl VARCHAR, commit_id BIGINT, n BIGINT, total HUGEINT, "
                "PRIMARY KEY (tbl, commit_id))")


def _columns(con, tables: tuple[str, ...] | None = None) -> dict[str, list[tuple[str, str, bool]]]:
    """(name, DuckDB type, nullable) of each table's columns (not a view's), in order, from a DuckDB catalog."""
    rows = con.execute("SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                       "WHERE database_name = current_database() AND NOT internal AND table_name IN "
                       "(SELECT table_name FROM duckdb_tables() WHERE NOT temporary) ORDER BY table_name, column_index"
                       ).fetchall()
    found: dict[str, list] = {}
    for table, name, kind, nullable in rows:
        if tables is None or table in tables:
            found.setdefault(table, []).append((name, kind, nullable))
    return found


@cache
def record_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """(name, DuckDB type) of commits' and each record table's columns, as the migrations define them."""
    con = _mirror()
    try:
        return {t: tuple((name, kind) for name, kind, _ in cols) for t, cols in _columns(con, TABLES).items()}
    finally:
        con.close()


def server_ddl() -> list[tuple[str, str]]:
    """(migration name, PostgreSQL DDL) for every migration: the tables it creates, rendered with a
    type map. Views are not stored on the server: the code defines them in the mirror; nor are the tables
    derived from the records (:data:`ledger.migrations.DERIVED`): the mirror keeps its own."""
    import duckdb

    scratch = duckdb.connect(config={"enable_external_access": False, "autoload_known_extensions": False,
                                     "autoinstall_known_extensions": False})
    try:
        rendered, seen = [], set()
        for name, sql in migrations.MIGRATIONS:
            scratch.execute(sql)
            made = {t: cols for t, cols in _columns(scratch).items() if t not in seen and t not in migrations.DERIVED}
            seen.update(made)
            statements = []
            for table, cols in made.items():
                parts = [f"{col} {_pg_type(kind)}{'' if nullable else ' NOT NULL'}" for col, kind, nullable in cols]
                if table == "commits":  # one commit per id and per previous head: the chain cannot fork
                    parts += ["PRIMARY KEY (id)", "UNIQUE (prev_head)"]
                elif any(col == "seq" for col, *_ in cols):
                    parts.append("PRIMARY KEY (seq)")
                statements.append(f"CREATE TABLE {table} ({', '.join(parts)})")
            rendered.append((name, ";\n".join(statements)))
        return rendered
    finally:
        scratch.close()


_ROLE_PREFIX = re.compile(r"[a-z_][a-z0-9_]*")
_LONGEST_NAME = 63  # PostgreSQL keeps this many bytes of a name and silently cuts the rest


def role_prefix(text: str) -> str:
    """``text``, checked as the prefix of the roles: a lower-case SQL identifier (so the name an
    analyst types unquoted in psql is the same role) short enough for ``<prefix>_writer``."""
    if not _ROLE_PREFIX.fullmatch(text) or len(text) + len("_writer") > _LONGEST_NAME:
        raise LedgerError(f"not a role prefix: {text!r} (lower-case letters, digits and _, not starting with a "
                          f"digit, at most {_LONGEST_NAME - len('_writer')} characters)")
    return text


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_sql(prefix: str = "ledger") -> str:
    """The SQL that makes ``<prefix>_writer`` (SELECT and INSERT on the record tables, no UPDATE,
    DELETE or TRUNCATE) and ``<prefix>_reader`` (SELECT only), as the schema's owner runs it."""
    prefix = role_prefix(prefix)
    writer, reader = (_identifier(f"{prefix}_{kind}") for kind in ("writer", "reader"))
    records = ", ".join(TABLES)
    lines = [f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role[1:-1]}') "
             f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$;" for role in (writer, reader)]
    lines += [
        f"REVOKE ALL ON {records}, schema_migrations FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA public TO {writer}, {reader};",
        f"GRANT SELECT, INSERT ON {records} TO {writer};",
        f"GRANT SELECT ON {records}, schema_migrations TO {writer}, {reader};",
        f"-- then, per analyst:  CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE {writer};",
    ]
    return "\n".join(lines)


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise MissingDependency("psycopg is not installed: install forecast-ledger[team] to use a PostgreSQL "
                                "ledger") from None
    return psycopg


def connect(url: ServerUrl) -> psycopg.Connection:
    """A psycopg connection in autocommit mode (transactions are explicit), its session set up."""
    psycopg = _psycopg()
    try:
        psycopg.conninfo.conninfo_to_dict(url.url)
        server = psycopg.connect(url.url, autocommit=True, connect_timeout=max(1, int(busy_timeout())))
    except psycopg.ProgrammingError as error:
        raise LedgerError(f"not a PostgreSQL URL libpq accepts: {url}: {_first_line(error)}") from None
    except psycopg.OperationalError as error:
        raise NotFound(f"cannot reach the ledger server {url}: {_first_line(error)}") from None
    server.execute(_SESSION)
    return server


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _applied(server) -> list[str]:
    if server.execute("SELECT to_regclass('schema_migrations') IS NULL").fetchone()[0]:
        return []
    return [row[0] for row in server.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]


def _pending(server, url: ServerUrl) -> list[tuple[str, str]]:
    """The migrations this server's ledger still needs; refuse a database holding tables we did not make."""
    done = set(_applied(server))
    if not done and server.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]:
        raise LedgerError(f"{url} is not a ledger: the database holds tables ledger did not make; give another --db")
    if unknown := done - {name for name, _ in migrations.MIGRATIONS}:
        raise LedgerError(f"{url} was written by a newer version of ledger (migration {sorted(unknown)[-1]}); upgrade")
    return [(name, ddl) for name, ddl in server_ddl() if name not in done]


def _lock(server) -> None:
    """Take the ledger's writer lock for this transaction, waiting up to the busy timeout."""
    server.execute(f"SET LOCAL lock_timeout = '{int(busy_timeout() * 1000)}ms'")
    server.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _migrate(server, url: ServerUrl) -> bool:
    """Apply the pending migrations in one locked transaction; say whether this made the ledger."""
    psycopg = _psycopg()
    try:
        with server.transaction():
            _lock(server)
            todo = _pending(server, url)  # again, under the lock: another process may have just done it
            if not todo:
                return False
            server.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                           "applied_at timestamp without time zone NOT NULL)")
            for name, ddl in todo:
                if ddl:
                    server.execute(ddl)
                server.execute("INSERT INTO schema_migrations VALUES (%s, clock_timestamp())", [name])
            return todo[0][0] == migrations.MIGRATIONS[0][0]
    except psycopg.errors.InsufficientPrivilege:
        raise LedgerError(OUT_OF_DATE.format(url=url)) from None
    except psycopg.errors.LockNotAvailable:
        raise LedgerBusy(f"ledger is busy: another process is migrating {url}; try again in a moment") from None


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _to_text(name: str, kind: str) -> str:
    """The DuckDB expression that renders column ``name`` of type ``kind`` as PostgreSQL's input text
    (doubles in DuckDB's shortest exact form, lists as array literals with every text element quoted)."""
    if kind == "DOUBLE[]":
        element = "coalesce(CAST(x AS VARCHAR), 'NULL')"
    elif kind.endswith("[]"):
        element = ("CASE WHEN x IS NULL THEN 'NULL' ELSE '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') "
                   "|| '\"' END")
    else:
        return f"CAST({name} AS VARCHAR)"
    return f"'{{' || array_to_string(list_transform({name}, lambda x: {element}), ',') || '}}'"


def _from_text(name: str, kind: str) -> str:
    """The DuckDB expression that reads column ``name`` of type ``kind`` back from the text _pull sends."""
    if kind == "DOUBLE[]":  # '{0.1,-0,NULL}': no element of a float8[] is ever quoted
        return (f"CASE WHEN {name} = '{{}}' THEN []::DOUBLE[] ELSE list_transform(string_split(trim({name}, '{{}}'), ','), "
                f"lambda x: CAST(nullif(x, 'NULL') AS DOUBLE)) END")
    if kind.endswith("[]"):
        return f"CAST(from_json({name}, '[\"{kind[:-2]}\"]') AS {kind})"
    return f"CAST({name} AS {kind})"


def _key(table: str) -> str:
    return "id" if table == "commits" else "commit_id"


def cache_path(server) -> Path | None:
    """This server ledger's cache file: ``<data dir>/team-cache/<key>.duckdb``. The key is the
    cluster's system identifier, the database's oid and the schema's last migration, so every URL
    reaching one ledger shares it, a database made anew under an old name does not, and a schema
    upgrade starts afresh. None where the server will not say who it is (nothing is cached)."""
    psycopg = _psycopg()
    try:
        identity = server.execute("SELECT (SELECT system_identifier FROM pg_control_system()), oid FROM pg_database "
                                  "WHERE datname = current_database()").fetchone()
    except psycopg.Error:
        return None
    key = hashlib.sha256(f"{identity[0]}/{identity[1]}/{migrations.MIGRATIONS[-1][0]}".encode()).hexdigest()[:32]
    return data_dir() / "team-cache" / f"{key}.duckdb"


@contextmanager
def _cache_lock(path: Path, *, shared: bool) -> Iterator[bool]:
    """Readers share the cache, one writer excludes them (DuckDB refuses a read-only attach while
    another process writes the file). A reader waits (writes are short); a writer that would
    wait skips its update (say False): the next open makes it. False too where the lock file
    cannot be made (a read-only home): the cache is only ever a speed-up."""
    import fcntl

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


class ServerStore(Store):
    """A ledger on a PostgreSQL server; ``con`` is the in-memory DuckDB mirror, ``server`` the psycopg connection.

    ``cached`` and ``pulled`` count the rows this process took from the local cache and from the
    server: what opening cost.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, url: ServerUrl, server: psycopg.Connection, *, created: bool):
        super().__init__(con, url, created=created)
        self.server = server
        self._mirrored = 0  # the highest commit id in the mirror
        self._cache = cache_path(server)
        self.cached = 0
        self.pulled = 0

    @classmethod
    def open_server(cls, url: ServerUrl, *, create: bool = True, read_only: bool = False) -> ServerStore:
        server = connect(url)
        try:
            created = False
            if todo := _pending(server, url):
                if todo[0][0] == migrations.MIGRATIONS[0][0] and (read_only or not create):
                    raise NotFound(f"no ledger at {url} (run `ledger init --db {url}`)")
                created = _migrate(server, url)
            store = cls(_mirror(), url, server, created=created)
        except BaseException:
            server.close()
            raise
        try:
            store._fill()
            store._save_cache()
        except BaseException:
            store.close()
            raise
        return store

    def _fill(self, *, use_cache: bool = True) -> None:
        """The mirror, from one snapshot of the server: the cache and the commits after it, or every row."""
        _digests(self.con)
        with self._server_errors(), self.server.transaction():
            self.server.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cached = self._load_cache() if use_cache else None
            if cached is not None:  # the cache holds records only: their state is the mirror's to keep
                refresh_state(self.con, f"commit_id <= {int(cached)}")
            self._pull(since=cached)
        migrations.install_views(self.con)

    def close(self) -> None:
        super().close()
        self.server.close()

    def discard_if_unused(self) -> bool:
        """Never on a server: ledger drops nothing there (an empty schema is harmless and the owner's)."""
        return False

    def applied_migrations(self) -> list[str]:
        return _applied(self.server)

    # -- moving rows --------------------------------------------------------

    def _pull(self, *, since: int | None) -> None:
        """Copy into the mirror the rows of commits after ``since`` (every row, orphans too, if None),
        with the server's digest of each commit's rows."""
        import pyarrow as pa
        from pyarrow import csv

        for table, cols in record_columns().items():
            where = "" if since is None else f" WHERE {_key(table)} > {int(since)}"
            self._take_digests(table, where)
            # Text lists travel as JSON, number lists in PostgreSQL's own array text (JSON would turn -0.0
            # into 0); CSV quotes '' and leaves NULL bare, so the two stay apart.
            select = ", ".join(f"{name}::text" if kind == "DOUBLE[]" else f"array_to_json({name})::text"
                               if kind.endswith("[]") else name for name, kind in cols)
            data = io.BytesIO()
            with self.server.cursor().copy(f"COPY (SELECT {select} FROM {table}{where}) TO STDOUT (FORMAT csv)") as copy:
                for chunk in copy:
                    data.write(chunk)
            if not data.tell():
                continue
            data.seek(0)
            names = [name for name, _ in cols]
            rows = csv.read_csv(data, read_options=csv.ReadOptions(column_names=names),
                                convert_options=csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                   strings_can_be_null=True,
                                                                   quoted_strings_can_be_null=False))
            typed = ", ".join(_from_text(name, kind) for name, kind in cols)
            self.con.register("pulled_rows", rows)
            try:
                self.con.execute(f"INSERT INTO {table} SELECT {typed} FROM pulled_rows")
            finally:
                self.con.unregister("pulled_rows")
            self.pulled += rows.num_rows
        refresh_state(self.con, "TRUE" if since is None else f"commit_id > {int(since)}")
        self._mirrored = self.con.execute("SELECT coalesce(max(id), 0) FROM commits").fetchone()[0]

    def _take_digests(self, table: str, where: str) -> None:
        """The server's digest of ``table``'s rows matching ``where``, per commit, into the mirror's record of them."""
        found = self.server.execute(f"SELECT {_key(table)}, count(*), sum({_ROW_DIGEST})::text FROM {table} r{where} "
                                    "GROUP BY 1").fetchall()
        if found:
            self.con.executemany("INSERT OR REPLACE INTO server_digests VALUES (?, ?, ?, ?::HUGEINT)",
                                 [(table, key, n, total) for key, n, total in found])

    def _push(self, commit_id: int, batch: int = 100_000) -> None:
        """COPY one commit's rows (records first, then the commit) from the mirror to the server: DuckDB
        renders each batch as CSV in PostgreSQL's text forms, so no row passes through Python."""
        from pyarrow import csv

        options = csv.WriteOptions(include_header=False, quoting_style="needed")  # every string quoted: '' is not NULL
        cursor = self.server.cursor()
        for table in (*RECORD_TABLES, "commits"):
            cols = record_columns()[table]
            rendered = ", ".join(f"{_to_text(name, kind)} AS {name}" for name, kind in cols)
            rows = self.con.sql(f"SELECT {rendered} FROM {table} WHERE {_key(table)} = {int(commit_id)} ORDER BY 1")
            with cursor.copy(f"COPY {table} ({', '.join(name for name, _ in cols)}) FROM STDIN (FORMAT csv)") as copy:
                for part in rows.to_arrow_reader(batch):
                    data = io.BytesIO()
                    csv.write_csv(part, data, options)
                    copy.write(data.getbuffer())
            self._take_digests(table, f" WHERE {_key(table)} = {int(commit_id)}")

    def _forget(self, commit_id: int) -> None:
        """Drop from the mirror a commit the server did not take, and what it changed of the kept state."""
        mark_touched(self.con, f"commit_id >= {int(commit_id)}")
        for table in TABLES:
            self.con.execute(f"DELETE FROM {table} WHERE {_key(table)} >= ?", [commit_id])
        restate_touched(self.con)
        self.con.execute("DELETE FROM server_digests WHERE commit_id >= ?", [commit_id])

    # -- the local cache ------------------------------------------------------

    def _load_cache(self) -> int | None:
        """Fill the mirror from the cache if the server (in the open snapshot) still holds its last
        commit, and say which commit that is; else discard the cache (another ledger's, or a chain
        changed since) and say None: every row is copied."""
        import duckdb

        if self._cache is None or not self._cache.exists():
            return None
        with _cache_lock(self._cache, shared=True) as mine:
            if not mine:
                return None
            try:
                self.con.execute(f"ATTACH {_quoted(self._cache)} AS cache (READ_ONLY)")
            except duckdb.Error:  # not a DuckDB file we can read: made anew below
                tip = None
            else:
                try:
                    tip = self.con.execute("SELECT id, head FROM cache.commits ORDER BY id DESC LIMIT 1").fetchone()
                    if tip and self.server.execute("SELECT head FROM commits WHERE id = %s",
                                                   [tip[0]]).fetchone() == (tip[1],):
                        self._copy_cache("main", "cache", self.con.execute(
                            "SELECT max(id) FROM cache.commits").fetchone()[0])
                        self.cached = sum(self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
                        return tip[0]
                except duckdb.Error:
                    pass  # a cache that cannot be read is only a slower open
                finally:
                    self.con.execute("DETACH cache")
        with suppress(OSError):
            self._cache.unlink(missing_ok=True)
        return None

    def _copy_cache(self, to: str, source: str, upto: int, after: int = 0) -> None:
        """Copy the rows of commits after ``after`` up to ``upto``, and their digests, between the mirror
        (``main``) and the attached cache, in one transaction."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table, key in ((t, _key(t)) for t in TABLES):
                self.con.execute(f"INSERT INTO {to}.{table} FROM {source}.{table} WHERE {key} > ? AND {key} <= ?",
                                 [after, upto])
            self.con.execute(f"INSERT INTO {'temp' if to == 'main' else to}.server_digests FROM "
                             f"{'temp' if source == 'main' else source}.server_digests "
                             "WHERE commit_id > ? AND commit_id <= ?", [after, upto])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _save_cache(self) -> None:
        """Append to the cache the mirror's commits after its last (every commit, to a new cache),
        unless another process holds it: then the next open does."""
        import duckdb

        if self._cache is None or self._mirrored <= 0:
            return
        with _cache_lock(self._cache, shared=False) as mine:
            if not mine:
                return
            try:
                self.con.execute(f"ATTACH {_quoted(self._cache)} AS cache")
                for table in TABLES:
                    self.con.execute(f"CREATE TABLE IF NOT EXISTS cache.{table} AS FROM {table} LIMIT 0")
                self.con.execute("CREATE TABLE IF NOT EXISTS cache.server_digests AS FROM temp.server_digests LIMIT 0")
                last = self.con.execute("SELECT id, head FROM cache.commits ORDER BY id DESC LIMIT 1").fetchone()
                if last and last[0] >= self._mirrored:
                    return  # as new as this mirror, or newer (another chain's is discarded by the next open)
                if last and self.con.execute("SELECT head FROM commits WHERE id = ?", [last[0]]).fetchone() != (last[1],):
                    for table in (*TABLES, "server_digests"):  # another chain's: start anew
                        self.con.execute(f"DELETE FROM cache.{table}")
                    last = None
                self._copy_cache("cache", "main", self._mirrored, after=last[0] if last else 0)
            except duckdb.Error:
                pass  # a cache that cannot be written is only a slower next open
            finally:
                self.con.execute("DETACH DATABASE IF EXISTS cache")

    @contextmanager
    def _server_errors(self) -> Iterator[None]:
        """A server error as one line: busy, not allowed, out of date, gone."""
        psycopg = _psycopg()
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise LedgerBusy(f"ledger is busy: another writer holds {self.path}; try again in a moment") from None
        except psycopg.errors.InsufficientPrivilege as error:
            raise LedgerError(f"not allowed on {self.path}: {_first_line(error)} "
                              "(a reader role cannot write; ask the ledger's owner)") from None
        except psycopg.DataError as error:  # e.g. a NUL character, which PostgreSQL text cannot hold
            raise LedgerError(f"{self.path} cannot store this: {_first_line(error)}") from None
        except psycopg.errors.UniqueViolation:  # a client that skipped the lock got there first
            raise LedgerBusy(f"ledger is busy: another commit landed on {self.path} first; try again") from None
        except psycopg.OperationalError as error:
            raise LedgerError(f"lost the ledger server {self.path}: {_first_line(error)}") from None

    # -- writing ------------------------------------------------------------

    @contextmanager
    def write(self, command: str, *, at: datetime | None = None) -> Iterator[Writer]:
        """One command's transaction on the server, serialised with every other writer's by the lock.

        The head is read after the lock, from a mirror brought up to date
        under it, so each commit links to the one before it.
        """
        pushed: int | None = None
        try:
            with self._server_errors(), self.server.transaction():
                _lock(self.server)
                self._pull(since=self._mirrored)
                self._tip = None  # others may have committed since this process's last write: read the head anew
                with super().write(command, at=at) as writer:
                    pushed = writer.commit_id
                    yield writer
                self._push(writer.commit_id)
        except BaseException:
            if pushed is not None:
                self._forget(pushed)
            self._tip = None
            self._mirrored = self.con.execute("SELECT coalesce(max(id), 0) FROM commits").fetchone()[0]
            raise
        self._mirrored = pushed

    def clock(self) -> datetime:
        """The server's clock, read under the writers' lock: one clock for the whole team, so a
        laptop whose clock is ahead cannot push every later commit's time forward."""
        return self.server.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'").fetchone()[0]

    # -- integrity ----------------------------------------------------------

    def verify(self) -> VerifyReport:
        """The file's checks over every row, plus the server's catalog: a record table whose columns
        or types were altered (so its values may no longer be what was hashed) is named."""
        expected = {t: [(name, _pg_type(kind)) for name, kind in cols] for t, cols in record_columns().items()}
        rows = self.server.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind = 'r' AND c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY c.relname, a.attnum", [list(TABLES)]).fetchall()
        found: dict[str, list] = {}
        for table, name, kind in rows:
            found.setdefault(table, []).append((name, kind))
        for table in TABLES:
            if found.get(table) != expected[table]:
                raise Tampered(f"table {table} on {self.path} is not as ledger made it (columns or types changed, "
                               "or it was replaced): it was changed outside ledger")
        if not self._holds_the_servers_rows():
            self._reload()  # so the checks below name the row the server holds, not the one cached here
        return super().verify()

    def _holds_the_servers_rows(self) -> bool:
        """Whether the mirror holds every row the server holds, as it holds it: for each table, the
        server's digest over all its rows equals the sum of those taken with the mirror's rows."""
        with self._server_errors(), self.server.transaction():
            self.server.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self._pull(since=self._mirrored)  # the commits others made since this process opened the ledger
            on_server = {table: self.server.execute(f"SELECT count(*), coalesce(sum({_ROW_DIGEST}), 0)::text "
                                                    f"FROM {table} r").fetchone() for table in TABLES}
        mirrored = {table: (n, total) for table, n, total in self.con.execute(
            "SELECT tbl, sum(n), sum(total) FROM server_digests GROUP BY tbl").fetchall()}
        return all(mirrored.get(t, (0, 0)) == (n, int(total)) for t, (n, total) in on_server.items())

    def _reload(self) -> None:
        """A new mirror of every row on the server, the cache left aside."""
        stale, self.con = self.con, _mirror()
        stale.close()
        self._tip, self.cached, self.pulled = None, 0, 0
        self._fill(use_cache=False)


def create_roles(store: ServerStore, prefix: str = "ledger") -> None:
    """Run :func:`role_sql` on the store's server, as its owner, in one transaction."""
    with store._server_errors(), store.server.transaction():
        store.server.execute(role_sql(prefix))
