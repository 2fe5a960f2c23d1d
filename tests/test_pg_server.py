"""The throwaway PostgreSQL cluster the team-ledger tests run against."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pg_server import missing_server_outcome

TESTS = Path(__file__).resolve().parent


def test_missing_server_skips_locally_but_fails_in_ci():
    assert missing_server_outcome({})[0] == "skip"
    outcome, reason = missing_server_outcome({"CI": "true"})
    assert outcome == "fail"
    assert "CI" in reason


def _run_needing_server(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """A pytest run, in a fresh process, of one test that needs the server, with no server binaries findable."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["pg_server"]\n')
    (tmp_path / "test_needs_pg.py").write_text("def test_it(pg_url):\n    assert pg_url\n")
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | {"LEDGER_PG_BIN": str(tmp_path / "none"), **env}
    environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=environ, capture_output=True, text=True)


def test_without_binaries_a_test_skips_with_the_reason(tmp_path):
    result = _run_needing_server(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout and "no PostgreSQL server binaries" in result.stdout


def test_without_binaries_in_ci_a_test_fails(tmp_path):
    result = _run_needing_server(tmp_path, CI="true")
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout and "these tests must run" in result.stdout


def test_server_answers_over_socket_and_tcp(pg_server):
    for via in ("socket", "tcp"):
        assert pg_server.psql("SELECT current_user || ' ' || current_setting('server_encoding')", via=via) == "ledger UTF8"


def test_each_test_gets_its_own_empty_database(pg_server, pg_url):
    first, second = pg_server.create_database(), pg_server.create_database()
    pg_server.psql("CREATE TABLE t (x int)", dbname=first)
    tables = "SELECT count(*) FROM pg_tables WHERE tablename = 't'"
    assert (pg_server.psql(tables, dbname=first), pg_server.psql(tables, dbname=second)) == ("1", "0")
    assert pg_url.startswith("postgresql://ledger@/t_") and f"port={pg_server.port}" in pg_url
