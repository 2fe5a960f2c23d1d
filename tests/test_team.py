"""The team ledger on a real PostgreSQL server (tests/pg_server.py starts one per xdist worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ledger import chain, migrations
from ledger.location import ServerUrl, location
from ledger.store import Store
from test_chain import GOLDEN, PREV
from test_io import _comparable, _populate

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("pg_server")


@pytest.fixture
def team(pg_url, monkeypatch) -> str:
    """A fresh database on the server as the ledger every `ledger` command uses."""
    monkeypatch.setenv("LEDGER_DB", pg_url)
    return pg_url


def psql(pg_server, url: str, sql: str) -> str:
    return pg_server.psql(sql, dbname=url.split("/")[3].split("?")[0])


def server_rows(url: str, table: str) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f"SELECT * FROM {table} ORDER BY {'id' if table == 'commits' else 'seq'}").fetchall()


# -- locations --------------------------------------------------------------


def test_a_postgresql_url_is_a_server_and_anything_else_a_file():
    assert location("postgresql://ann@/ledger?host=/run/postgresql") == ServerUrl("postgresql://ann@/ledger?host=/run/postgresql")
    assert isinstance(location("postgres://db.example.org/x"), ServerUrl)
    assert location("postgresql.duckdb") == Path("postgresql.duckdb")
    assert location("./postgresql:/x") == Path("./postgresql:/x")


def test_a_shown_url_hides_its_password():
    assert str(ServerUrl("postgresql://ann:s3cret@db:5432/l?sslmode=require")) == "postgresql://ann:***@db:5432/l?sslmode=require"
    assert "s3cret" not in str(ServerUrl("postgresql://ann@db/l?password=s3cret&port=5"))


# -- init, and every core command ---------------------------------------------


def test_init_creates_the_schema_records_its_migrations_and_prints_the_roles(cli, team, pg_server):
    result = cli("init")
    assert "created a new ledger at postgresql://" in result.stderr
    assert "CREATE ROLE \"ledger_writer\" NOLOGIN" in result.stdout and "GRANT SELECT, INSERT ON commits" in result.stdout
    applied = psql(pg_server, team, "SELECT string_agg(name, ',' ORDER BY name) FROM schema_migrations")
    assert applied.split(",") == [name for name, _ in migrations.MIGRATIONS]
    tables = psql(pg_server, team, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
                                   "WHERE schemaname = 'public'")
    assert tables.split(",") == sorted(["commits", *chain.RECORD_TABLES, "schema_migrations"])
    assert "ledger already exists" in cli("init").stderr


def test_reading_an_uninitialised_database_says_so(cli, team):
    result = cli("list", ok=False)
    assert result.exit_code == 3 and "no ledger at postgresql://" in result.stderr and "ledger init" in result.stderr


def test_add_forecast_resolve_show_list_score_verify(cli, team):
    qid = cli("add", "The bill passes", "-p", "70%", "--by", "2020-06-01", "-c", "Signed into law",
              "--tag", "politics", "--at", "2020-01-01").stdout.strip()
    cli("forecast", qid, "-p", "0.6", "--forecaster", "bo", "--at", "2020-02-01")
    cli("resolve", qid, "yes", "--on", "2020-05-01")
    other = cli("add", "It snows in July", "-p", "5%", "--by", "2031", "-c", "as stated").stdout.strip()
    shown = cli.json("show", qid)
    assert shown["status"] == "resolved" and [f["probability"] for f in shown["forecasts"]] == [0.7, 0.6]
    assert {q["id"][:8] for q in cli.json("list", "--status", "all")} == {qid, other}
    scored = cli.json("score")
    assert scored["n_questions"] == 1 and scored["n_forecasts"] == 2
    verified = cli.json("verify")
    assert verified["ok"] and verified["records"] == 6 and verified["commits"] == 4


def test_every_record_on_the_server_hashes_by_the_pinned_python_reference(cli, team):
    """The chain on PostgreSQL is the chain of ledger/chain.py, checked without DuckDB."""
    _populate(cli, Path(os.environ["HOME"]))
    commits = server_rows(team, "commits")
    records = {table: server_rows(team, table) for table in chain.RECORD_TABLES}
    prev = chain.GENESIS
    for commit in commits:
        assert commit["prev_head"] == prev
        mine = [(table, row) for table, rows in records.items() for row in rows if row["commit_id"] == commit["id"]]
        for table, row in mine:
            assert row["hash"] == chain.record_hash(prev, table, row), (table, row["seq"])
        hashes = sorted((row["seq"], row["hash"]) for _, row in mine)
        assert commit["head"] == chain.commit_head(prev, commit["id"], commit["command"], commit["committed_at"], hashes)
        prev = commit["head"]
    assert len(commits) == cli.json("verify")["commits"] > 5


def test_golden_rows_come_back_from_the_server_with_the_same_canonical_text(team):
    """Every awkward value of the chain's golden vectors survives the trip (NUL aside: PostgreSQL text has none)."""
    with Store.open(team) as store:
        for table, row, *_ in GOLDEN:
            clean = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in row.items()}
            names = [name for name, _ in chain.RECORD_FIELDS[table]]
            store.con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)}, 'h')",
                              [clean[n] for n in names])
        for commit_id in (1, 2):
            store.server.execute("BEGIN")
            store._push(commit_id)
            store.server.execute("COMMIT")
    with Store.open(team) as again:
        for table, row, *_ in GOLDEN:
            clean = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in row.items()}
            text = again.con.execute(f"SELECT {chain.canonical_sql(table, 'r')} FROM {table} r WHERE seq = ?",
                                     [row["seq"]]).fetchone()[0]
            assert text == chain.canonical_text(table, clean)


def test_awkward_text_in_lists_survives_the_copy_to_the_server(cli, team):
    """Pushed lists are PostgreSQL array literals made by DuckDB: quotes, backslashes, commas, braces,
    'NULL' and '' stay text, element for element."""
    tags = ['a"b', "c\\d", "x,y", "{z}", "NULL", "two words", "é’"]
    args = [arg for tag in tags for arg in ("--tag", tag)]
    cli("add", "Awkward tags", "--options", 'A "1",B\\2', "--probabilities", "0.25,0.75", "--by", "2030",
        "-c", "x", *args)
    assert server_rows(team, "question_records")[0]["options"] == ['A "1"', "B\\2"]
    with Store.open(team) as store:  # nothing cached yet: every row comes from the server
        assert store.pulled == 3
        got = store.con.execute("SELECT options, tags FROM question_records").fetchone()
    assert got[0] == ['A "1"', "B\\2"] and sorted(got[1]) == sorted(tags)
    cli("verify")


def test_a_nul_character_is_one_line_and_writes_nothing(cli, team, tmp_path):
    cli("init")
    result = cli("add", "Bad\x00text", "-p", "50%", "--by", "2030", "-c", "x", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert cli.json("verify")["commits"] == 0


# -- many writers ---------------------------------------------------------------


def test_eight_processes_adding_at_once_lose_nothing(cli, team):
    cli("init")
    env = dict(os.environ, PYTHONPATH=str(REPO), LEDGER_BUSY_TIMEOUT="120")
    processes = [subprocess.Popen([sys.executable, "-m", "ledger", "add", f"Writer {n} is right", "-p", "40%",
                                   "--by", "2030-01-01", "-c", "as stated"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in range(8)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    ids = {out.strip() for out, _ in outputs}
    assert len(ids) == 8
    assert {q["id"][:8] for q in cli.json("list")} == ids
    verified = cli.json("verify")
    assert verified["commits"] == 8 and verified["records"] == 16
    commits = server_rows(team, "commits")
    assert [c["id"] for c in commits] == list(range(1, 9))
    assert all(c["prev_head"] == p["head"] for p, c in zip(commits, commits[1:]))


def test_a_writer_waits_for_the_lock_then_is_told_the_ledger_is_busy(cli, team, monkeypatch):
    import psycopg

    from ledger.store_pg import LOCK_KEY

    cli("init")
    monkeypatch.setenv("LEDGER_BUSY_TIMEOUT", "0.3")
    with psycopg.connect(team) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])  # held until this transaction ends
        result = cli("add", "Blocked", "-p", "50%", "--by", "2030", "-c", "x", ok=False)
    assert result.exit_code == 4 and "ledger is busy" in result.stderr and len(result.stderr.splitlines()) == 1
    assert cli.json("verify")["commits"] == 0
    cli("add", "Now free", "-p", "50%", "--by", "2030", "-c", "x")
    assert cli.json("verify")["commits"] == 1


def test_a_client_that_skips_the_lock_cannot_fork_the_chain(cli, team, pg_server):
    cli("add", "First", "-p", "50%", "--by", "2030", "-c", "x")
    row = psql(pg_server, team, "SELECT prev_head FROM commits WHERE id = 1")
    with pytest.raises(RuntimeError, match="duplicate key"):
        psql(pg_server, team, f"INSERT INTO commits VALUES (2, now(), 'fork', 0, '{row}', 'x')")


# -- tampering ------------------------------------------------------------------


def test_verify_names_a_forecast_changed_through_psql(cli, team, pg_server):
    qid = cli("add", "The bill passes", "-p", "70%", "--by", "2030", "-c", "Signed").stdout.strip()
    psql(pg_server, team, "UPDATE forecast_records SET probability = 0.9")
    result = cli("verify", ok=False)
    assert result.exit_code == 5
    assert f"forecast record 2 (question {qid[:8]}, commit 1) does not match its hash" in result.stderr


def test_verify_names_a_deleted_record_and_an_altered_table(cli, team, pg_server):
    qid = cli("add", "The bill passes", "-p", "70%", "--by", "2030", "-c", "Signed").stdout.strip()
    cli("forecast", qid, "-p", "0.5")
    psql(pg_server, team, "DELETE FROM forecast_records WHERE seq = 3")
    result = cli("verify", ok=False)
    assert result.exit_code == 5 and "commit 2 (forecast" in result.stderr and "deleted outside ledger" in result.stderr
    psql(pg_server, team, "ALTER TABLE forecast_records ALTER COLUMN probability TYPE real")
    result = cli("verify", ok=False)
    assert result.exit_code == 5 and "table forecast_records" in result.stderr and "changed outside ledger" in result.stderr


# -- the local cache of the mirror ----------------------------------------------


def _add(cli, statement: str) -> str:
    return cli("add", statement, "-p", "70%", "--by", "2030", "-c", "Signed").stdout.strip()


def test_opening_again_copies_only_the_commits_made_since(cli, team, isolated_home):
    for n in range(3):
        qid = _add(cli, f"Bill {n} passes")  # each add opens the ledger first, caching what it pulled
    with Store.open(team) as store:  # the cache holds commits 1-2 (3 rows each); commit 3 comes from the server
        assert (store.cached, store.pulled) == (6, 3)
    cli("forecast", qid, "-p", "0.5")
    with Store.open(team) as store:  # commit 4: its commit row and one forecast record
        assert (store.cached, store.pulled) == (9, 2)
        assert store.verify().n_commits == 4 and store.pulled == 2  # the server's digests agreed: nothing copied
    assert len(list((isolated_home / "data" / "forecast-ledger" / "team-cache").glob("*.duckdb"))) == 1


def test_a_data_directory_that_cannot_be_written_only_means_no_cache(cli, team, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))  # no folder can be made under a file, even by root
    _add(cli, "The bill passes")
    _add(cli, "The budget passes")
    with Store.open(team) as store:
        assert (store.cached, store.pulled) == (0, 6)
    assert cli.json("verify")["commits"] == 2


def test_verify_names_a_row_changed_through_psql_after_this_machine_cached_it(cli, team, pg_server):
    qid = _add(cli, "The bill passes")
    _add(cli, "The budget passes")
    with Store.open(team) as store:  # now the cache holds both commits
        assert (store.cached, store.pulled) == (3, 3)
    psql(pg_server, team, "UPDATE forecast_records SET probability = 0.9 WHERE seq = 2")
    result = cli("verify", ok=False)
    assert result.exit_code == 5
    assert f"forecast record 2 (question {qid[:8]}, commit 1) does not match its hash" in result.stderr
    psql(pg_server, team, "UPDATE forecast_records SET probability = 0.7 WHERE seq = 2")
    cli("verify")
    psql(pg_server, team, "DELETE FROM question_records WHERE seq = 3")
    result = cli("verify", ok=False)
    assert result.exit_code == 5 and "commit 2 (add" in result.stderr and "deleted outside ledger" in result.stderr


def test_a_cache_whose_head_the_server_no_longer_holds_is_copied_anew(cli, team, pg_server):
    _add(cli, "The bill passes")
    _add(cli, "The budget passes")
    Store.open(team).close()  # caches both commits
    psql(pg_server, team, "UPDATE commits SET head = 'x' WHERE id = 2")
    with Store.open(team) as store:
        assert (store.cached, store.pulled) == (0, 6)
    result = cli("verify", ok=False)
    assert result.exit_code == 5 and "commit 2 (add" in result.stderr


# -- export to a file -----------------------------------------------------------


def test_export_from_the_server_then_import_into_a_file_scores_identically(cli, team, tmp_path, monkeypatch):
    _populate(cli, tmp_path)
    exported = tmp_path / "team.jsonl"
    cli("export", "-o", exported)
    on_server, rows = cli.json("score"), [json.loads(line) for line in cli("export").stdout.splitlines()]
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "local.duckdb"))
    cli("import", exported)
    local = cli.json("score")
    # An imported forecast that arrives with its outcome is backfilled (the new ledger cannot vouch
    # for when it was made), as for an export from a file; every score is the same.
    assert local.pop("n_backfilled") == 2 and on_server.pop("n_backfilled") == 1
    assert local == on_server
    assert _comparable([json.loads(line) for line in cli("export").stdout.splitlines()]) == _comparable(rows)


def test_import_into_the_server_and_sql_reads_it(cli, team, tmp_path, monkeypatch):
    local = tmp_path / "local.duckdb"
    monkeypatch.setenv("LEDGER_DB", str(local))
    _populate(cli, tmp_path)
    cli("export", "--format", "parquet", "-o", tmp_path / "x.parquet")
    monkeypatch.setenv("LEDGER_DB", team)
    cli("import", tmp_path / "x.parquet")
    counted = cli.json("sql", "SELECT count(*) AS n FROM forecasts")
    assert counted == [{"n": 5}]
    result = cli("sql", "DELETE FROM forecast_records", ok=False)
    assert result.exit_code == 1 and "read-only" in result.stderr
    cli("verify")


# -- roles ----------------------------------------------------------------------


def _login(pg_server, team: str, group: str) -> str:
    """A new login role in ``group``; the URL that connects as it."""
    name = f"{group.split('_')[1]}_{uuid.uuid4().hex[:8]}"
    psql(pg_server, team, f"CREATE ROLE {name} LOGIN IN ROLE {group}")
    return team.replace(f"{pg_server.url().split('//')[1].split('@')[0]}@", f"{name}@", 1)


def test_create_roles_a_writer_adds_but_cannot_update_or_delete(cli, team, pg_server):
    import psycopg

    result = cli("init", "--create-roles")
    assert "created roles ledger_writer" in result.stderr and result.stdout == ""
    writer = _login(pg_server, team, "ledger_writer")
    qid = cli("add", "The bill passes", "-p", "70%", "--by", "2030", "-c", "Signed", "--db", writer).stdout.strip()
    cli("forecast", qid, "-p", "0.6", "--db", writer)
    with psycopg.connect(writer) as con:
        for statement in ("UPDATE forecast_records SET probability = 0.9", "DELETE FROM forecast_records",
                          "TRUNCATE commits", "UPDATE commits SET head = 'x'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
            con.rollback()
    assert cli.json("verify", "--db", writer)["commits"] == 2


def test_a_reader_reads_but_cannot_write(cli, team, pg_server):
    cli("init", "--create-roles")
    cli("add", "The bill passes", "-p", "70%", "--by", "2030", "-c", "Signed")
    reader = _login(pg_server, team, "ledger_reader")
    assert len(cli.json("list", "--db", reader)) == 1
    result = cli("add", "Sneaky", "-p", "50%", "--by", "2030", "-c", "x", "--db", reader, ok=False)
    assert result.exit_code == 1 and "not allowed" in result.stderr and len(result.stderr.splitlines()) == 1
    assert cli.json("verify")["commits"] == 1


def test_a_writer_on_an_out_of_date_schema_is_told_to_ask_the_owner(cli, team, pg_server):
    cli("init", "--create-roles")
    writer = _login(pg_server, team, "ledger_writer")
    last = migrations.MIGRATIONS[-1][0]
    psql(pg_server, team, f"DELETE FROM schema_migrations WHERE name = '{last}'")
    result = cli("list", "--db", writer, ok=False)
    assert result.exit_code == 1 and "out of date: its owner must run `ledger init" in result.stderr
    cli("init")  # the owner
    assert cli.json("list", "--db", writer) == []


def test_create_roles_with_a_prefix_names_the_roles_after_it(cli, team, pg_server):
    result = cli("init", "--create-roles", "--role-prefix", "desk2")
    assert "created roles desk2_writer" in result.stderr
    assert psql(pg_server, team, "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles "
                                 "WHERE rolname LIKE 'desk2%'") == "desk2_reader,desk2_writer"
    writer = _login(pg_server, team, "desk2_writer")
    cli("add", "The bill passes", "-p", "70%", "--by", "2030", "-c", "Signed", "--db", writer)
    assert "IN ROLE \"desk2_writer\"" in cli("init", "--role-prefix", "desk2").stdout


@pytest.mark.parametrize("prefix", ["Desk", "2desk", "desk-x", 'desk"; DROP TABLE commits; --', "", "d" * 57])
def test_a_bad_role_prefix_is_one_line_and_changes_nothing(cli, team, pg_server, prefix):
    result = cli("init", "--create-roles", "--role-prefix", prefix, ok=False)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and "not a role prefix" in result.stderr
    assert psql(pg_server, team, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"


def test_create_roles_on_a_file_is_refused(cli, tmp_path):
    result = cli("init", "--create-roles", "--db", tmp_path / "x.duckdb", ok=False)
    assert result.exit_code == 1 and "--create-roles and --role-prefix are for a team ledger" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


# -- one line for every connection mistake ------------------------------------------


def test_an_unreachable_server_is_one_line(cli, pg_server, tmp_path):
    url = f"postgresql://nobody@/x?host={tmp_path}&port=1"
    result = cli("list", "--db", url, ok=False)
    assert result.exit_code == 3 and result.stderr.startswith("error: cannot reach the ledger server")
    assert len(result.stderr.splitlines()) == 1 and list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_a_bad_url_is_one_line(cli):
    result = cli("list", "--db", "postgresql://ann@host/x?no_such_option=1", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_a_database_ledger_did_not_make_is_refused(cli, team, pg_server):
    psql(pg_server, team, "CREATE TABLE accounts (id int)")
    result = cli("init", ok=False)
    assert result.exit_code == 1 and "is not a ledger" in result.stderr
    assert psql(pg_server, team, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1"


def test_without_psycopg_a_server_ledger_says_what_to_install(cli, team, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    result = cli("list", ok=False)
    assert result.exit_code == 6 and "install forecast-ledger[team]" in result.stderr


def test_review_resolves_on_the_server(cli, team, monkeypatch):
    from test_review import FORCE_TTY

    qid = cli("add", "The treaty is signed", "-p", "80%", "--by", "2020-01-01", "--at", "2019-06-01",
              "-c", "Signed").stdout.strip()
    monkeypatch.setenv(FORCE_TTY, "1")
    cli("review", input="r\nyes\n2020-02-01\nSigned at the summit\n\ny\n")
    assert cli.json("show", qid)["status"] == "resolved"
    cli("verify")


def test_report_on_the_server(cli, team, tmp_path):
    _populate(cli, tmp_path)
    out = tmp_path / "site"
    cli("report", "-o", out)
    page = (out / "index.html").read_text()
    assert "postgresql://" not in page and "host=" not in page


def test_the_embedded_default_never_imports_psycopg(tmp_path):
    probe = ("import sys; from typer.testing import CliRunner; from ledger.cli import app; "
             f"r = CliRunner().invoke(app, ['add', 'x y z', '-p', '50%', '--by', '2030', '-c', 'c', '--db', r'{tmp_path / 'l.duckdb'}']); "
             "assert r.exit_code == 0, r.output; print('psycopg' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.stdout.strip() == "False", result.stderr


def test_dates_and_times_stay_utc_whatever_the_server_zone(cli, team, pg_server):
    dbname = team.split("/")[3].split("?")[0]
    psql(pg_server, team, f"ALTER DATABASE {dbname} SET TimeZone = 'Pacific/Kiritimati'")
    qid = cli("add", "Zones", "-p", "50%", "--by", "2030-01-01", "-c", "x", "--at", "2025-03-01T23:30").stdout.strip()
    [forecast] = cli.json("show", qid)["forecasts"]
    assert forecast["made_at"] == "2025-03-01T23:30:00Z"
    assert cli.json("show", qid)["resolve_by"] == date(2030, 1, 1).isoformat()
    cli("verify")


def test_commits_are_timed_by_the_server_clock_not_the_laptop(cli, team, monkeypatch):
    import ledger.store

    monkeypatch.setattr(ledger.store, "utc_now", lambda: datetime(2001, 1, 1))  # a laptop clock far behind
    qid = cli("add", "Clocks", "-p", "50%", "--by", "2030-01-01", "-c", "x").stdout.strip()
    [forecast] = cli.json("show", qid)["forecasts"]
    assert forecast["recorded_at"][:4] == str(datetime.now(timezone.utc).year)


def test_a_long_lived_writer_links_to_commits_others_made_since_its_last(team):
    """One process committing twice (as `review` does) while another commits in between: its second
    commit links to the other's head, not to the head it remembers from its own first."""
    from ledger.models import Forecast, Question

    def add(store, statement):
        with store.write("add") as writer:
            writer.add_question(Question(statement=statement, criteria="c", resolve_by="2030"),
                                Forecast(forecaster="ann", probability=0.5))

    with Store.open(team) as first:
        add(first, "A")
        with Store.open(team) as second:
            add(second, "B")
        add(first, "C")
    with Store.open(team) as reader:
        assert reader.verify().n_commits == 3
        assert [row[0] for row in reader.con.execute("SELECT id FROM commits ORDER BY id").fetchall()] == [1, 2, 3]


def test_a_dry_run_import_on_a_server_writes_nothing(cli, team, tmp_path):
    cli("init")
    path = tmp_path / "d.csv"
    path.write_text("statement,probability,resolve_by\nA,0.5,2030-01-01\n")
    assert "would import 1 forecasts" in cli("import", path, "--dry-run").stderr
    assert cli.json("verify")["commits"] == 0


def test_a_long_lived_writer_sees_the_outcome_another_recorded_since(team):
    """What one process's writes learnt of a question (open, when it logged it) is not kept past another
    process's commit: an outcome recorded in between closes the question to its next forecast."""
    from ledger.errors import LedgerError
    from ledger.models import Forecast, Question, Resolution

    with Store.open(team) as first:
        with first.write("add") as writer:
            qid = writer.add_question(Question(statement="A", criteria="c", resolve_by="2030"),
                                      Forecast(forecaster="ann", probability=0.5))
        with Store.open(team) as second, second.write("resolve") as writer:
            writer.resolve(qid, Resolution(outcome="yes"))
        with pytest.raises(LedgerError, match="retrodiction"), first.write("forecast") as writer:
            writer.add_forecast(qid, Forecast(forecaster="bob", probability=0.6))
