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
