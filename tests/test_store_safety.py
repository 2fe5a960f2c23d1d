"""The store's own defences (issue 14): a read-only `ledger sql`, connections that reach
no network and no outside file, reading commands that open read-only, creation that never
deletes another process's commit, and views that a raw DuckDB client cannot redefine."""

from __future__ import annotations

import pytest

from tests.conftest import ledger_bytes


def add(cli, statement="Something happens", p="40%", by="2030"):
    return cli("add", statement, "-p", p, "--by", by, "-c", "as stated").stdout.strip()


# -- ledger sql -------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "COPY (SELECT * FROM forecasts) TO '{out}'",
    "ATTACH '{out}' AS other (READ_WRITE)",
    "EXPORT DATABASE '{dir}'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT 1; SELECT 2",
    "SELECT 1; COPY (SELECT 1) TO '{out}'",
    "INSTALL sqlite",
    "LOAD sqlite",
    "SET enable_external_access = true",
    "PRAGMA version",
    "WITH x AS (SELECT 1) INSERT INTO forecast_records SELECT * FROM forecast_records",
    "SELECT * FROM query('COPY (SELECT 1) TO ''{out}''')",
])
def test_sql_refuses_everything_but_one_select(cli, db_path, tmp_path, query):
    add(cli)
    out, folder = tmp_path / "out.csv", tmp_path / "dump"
    before = ledger_bytes(db_path)
    result = cli("sql", query.format(out=out, dir=folder), ok=False)
    assert result.exit_code == 1, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists() and not folder.exists()
    assert ledger_bytes(db_path) == before


def test_sql_still_runs_one_select_or_with(cli):
    add(cli)
    assert cli.json("sql", "WITH f AS (SELECT * FROM forecasts) SELECT count(*) AS n FROM f") == [{"n": 1}]


# -- what a connection may reach --------------------------------------------------


def test_a_foreign_duckdb_file_is_not_migrated(cli, tmp_path):
    import duckdb

    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1)")
    con.close()
    before = ledger_bytes(foreign)
    for args in (["list"], ["verify"], ["sql", "SELECT 1"], ["add", "X", "-p", "0.4", "--by", "2030", "-c", "c"]):
        result = cli(*args, "--db", foreign, ok=False)
        assert result.exit_code == 1, (args, result.stdout)
        assert "is not a ledger" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert ledger_bytes(foreign) == before
    con = duckdb.connect(str(foreign), read_only=True)
    assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == [("accounts",)]


def test_opening_a_sqlite_file_loads_no_extension(cli, tmp_path, isolated_home):
    import sqlite3

    path = tmp_path / "notes.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (body TEXT)")
    con.commit()
    con.close()
    before = ledger_bytes(path)
    result = cli("list", "--db", path, ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not a ledger" in result.stderr
    assert not (isolated_home / ".duckdb").exists()  # where DuckDB would have installed the sqlite extension
    assert ledger_bytes(path) == before


def test_every_ledger_connection_has_extension_loading_off(db_path, cli):
    from ledger.store import Store

    add(cli)
    for read_only in (False, True):
        with Store.open(db_path, read_only=read_only) as store:
            settings = dict(store.con.execute(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
            assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


# -- reading commands open read-only -----------------------------------------------


def _holding_read_only(db_path):
    """A reader process that holds the ledger open read-only until told to stop."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); "
         "sys.stdin.read()", str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def test_reading_commands_share_the_file_with_another_reader(cli, db_path, tmp_path, monkeypatch):
    """DuckDB lets many read-only processes share a file but no read-write one beside them: while
    another process reads the ledger, every reading command still works (it opens read-only) and
    leaves the file byte-identical, while a writing command is told the ledger is busy."""
    question = add(cli)
    cli("forecast", question, "-p", "0.3")
    monkeypatch.setenv("LEDGER_BUSY_TIMEOUT", "0.3")
    before = ledger_bytes(db_path)
    holder = _holding_read_only(db_path)
    try:
        for args in (["verify"], ["list", "--status", "all"], ["show", question], ["due"], ["score"],
                     ["sql", "SELECT count(*) FROM forecasts"], ["export", "--format", "csv"],
                     ["calendar", "-o", tmp_path / "due.ics"], ["report", "--out", tmp_path / "site"]):
            result = cli(*args, ok=False)
            assert result.exit_code == 0, (args, result.stderr)
        busy = cli("forecast", question, "-p", "0.2", ok=False)
        assert busy.exit_code == 4, busy.stderr
    finally:
        holder.stdin.close()
        holder.wait()
    assert ledger_bytes(db_path) == before


def test_verify_and_list_work_on_a_read_only_copy(cli, db_path, tmp_path):
    import os
    import shutil

    add(cli)
    copy_dir = tmp_path / "received"
    copy_dir.mkdir()
    copy = copy_dir / "ledger.duckdb"
    shutil.copyfile(db_path, copy)
    copy.chmod(0o444)
    copy_dir.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root writes through permissions: the copy is read-only only to DuckDB
            from ledger.store import Store

            with Store.open(copy, create=False, read_only=True) as store:
                with pytest.raises(Exception, match="read-only"):
                    store.con.execute("CREATE TABLE probe (x INTEGER)")
        before = ledger_bytes(copy)
        assert cli("verify", "--db", copy).stdout.startswith("ok: 2 records")
        assert "Something happens" in cli("list", "--db", copy).stdout
        assert ledger_bytes(copy) == before and sorted(os.listdir(copy_dir)) == ["ledger.duckdb"]
    finally:
        copy_dir.chmod(0o755)


# -- creation -------------------------------------------------------------------------


def test_a_failing_command_never_deletes_a_ledger_another_process_committed_to(tmp_path):
    """Race a failing `resolve` against an `add` on a path where no ledger exists yet, 20 times
    (four races at a time): each acknowledged add must still be in the ledger afterwards (issue 14
    lost 5 of 20)."""
    import os
    import subprocess
    import sys

    def ledger(path, *args):
        env = {**os.environ, "LEDGER_DB": str(path), "LEDGER_BUSY_TIMEOUT": "60"}
        return subprocess.Popen([sys.executable, "-m", "ledger", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    acknowledged, lost = 0, []
    for batch in range(5):
        races = []
        for attempt in range(batch * 4, batch * 4 + 4):
            path = tmp_path / f"race{attempt}.duckdb"
            races.append((path, ledger(path, "resolve", "abcdef12", "yes"),
                          ledger(path, "add", f"Race {attempt}", "-p", "0.4", "--by", "2030", "-c", "as stated")))
        for path, failing, adding in races:
            added, _ = adding.communicate()
            failing.communicate()
            assert failing.returncode == 3
            if adding.returncode == 0:
                acknowledged += 1
                listed, _ = ledger(path, "sql", "SELECT id FROM questions", "--csv").communicate()
                if not path.exists() or added.strip() not in listed:
                    lost.append(path.name)
    assert acknowledged == 20 and lost == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".creating")]


def test_a_failing_first_command_leaves_no_file(cli, db_path):
    assert not db_path.exists()
    assert cli("resolve", "abcdef12", "yes", ok=False).exit_code == 3
    assert not db_path.exists() and list(db_path.parent.glob("*.creating")) == []
    add(cli)
    assert cli("resolve", "abcdef12", "yes", ok=False).exit_code == 3
    assert db_path.exists()


# -- views the code relies on ------------------------------------------------------


def test_a_view_replaced_in_the_file_changes_no_score_and_verify_names_it(cli, db_path):
    import duckdb

    for statement, p, outcome in (("Rain", "0.9", "no"), ("Sun", "0.2", "yes"), ("Snow", "0.6", "yes")):
        question = cli("add", statement, "-p", p, "--by", "2020", "-c", "as stated").stdout.strip()
        cli("resolve", question, outcome)
    scores, listed = cli("score", "--json").stdout, cli.json("sql", "SELECT probability FROM forecasts")
    assert cli("verify").exit_code == 0

    con = duckdb.connect(str(db_path))
    con.execute("""CREATE OR REPLACE VIEW forecasts AS
                   SELECT f.seq, f.question_id, f.forecaster,
                          CASE WHEN r.outcome = 'yes' THEN 1.0 ELSE 0.0 END AS probability, f.probabilities,
                          f.made_at, f.recorded_at, f.note, false AS backfilled
                   FROM forecast_records f LEFT JOIN resolution_records r USING (question_id)""")
    con.execute("CREATE MACRO brier(p, o) AS 0")
    con.close()

    assert cli("score", "--json").stdout == scores
    assert cli.json("sql", "SELECT probability FROM forecasts") == listed
    result = cli("verify", ok=False)
    assert result.exit_code == 5
    assert "view forecasts" in result.stderr and "macro brier" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_names_only_the_replaced_view_not_the_views_that_read_it(cli, db_path):
    """The forecasts view reads the questions view: replacing questions leaves forecasts as it was made."""
    import duckdb

    add(cli)
    con = duckdb.connect(str(db_path))
    definition = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'questions'").fetchone()[0]
    con.execute(definition.replace("CREATE VIEW", "CREATE OR REPLACE VIEW")
                .replace("FROM merged", "FROM merged WHERE kind = 'binary'"))
    con.close()
    result = cli("verify", ok=False)
    assert result.exit_code == 5
    assert "view questions" in result.stderr and "forecasts" not in result.stderr


def test_verify_names_a_table_added_to_the_file(cli, db_path):
    import duckdb

    add(cli)
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE notes AS SELECT 1 AS x")
    con.close()
    result = cli("verify", ok=False)
    assert result.exit_code == 5 and "table notes" in result.stderr
