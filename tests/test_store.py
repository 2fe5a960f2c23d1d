"""The ledger file itself: hash chain, tamper detection, migrations, concurrency."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from ledger.errors import LedgerBusy, Tampered
from tests.conftest import REPO
from ledger.models import Forecast, Question, Resolution
from ledger.migrations import MIGRATIONS
from ledger.store import Store


@pytest.fixture
def store(db_path):
    with Store.open(db_path) as opened:
        with opened.write("add") as writer:
            first = writer.add_question(Question(statement="A", resolve_by="2027"),
                                        Forecast(forecaster="ann", probability=0.7))
            writer.add_question(Question(statement="B", resolve_by="2027"), Forecast(forecaster="ann", probability=0.2))
        with opened.write("forecast") as writer:
            writer.add_forecast(first, Forecast(forecaster="bob", probability=0.6))
        with opened.write("resolve") as writer:
            writer.resolve(first, Resolution(outcome="yes"))
        yield opened


def test_intact_chain_verifies(store):
    report = store.verify()
    assert (report.n_records, report.n_commits) == (6, 3)
    seqs = store.con.execute(
        "SELECT list(seq ORDER BY seq) FROM (SELECT seq FROM question_records UNION ALL SELECT seq FROM forecast_records"
        " UNION ALL SELECT seq FROM resolution_records UNION ALL SELECT seq FROM edit_records)"
    ).fetchone()[0]
    assert seqs == list(range(1, 7))  # one order across every record table
    assert report.head == store.head()[1]


def test_changed_row_is_named(store):
    store.con.execute("UPDATE forecast_records SET probability = 0.99 WHERE forecaster = 'bob'")
    seq = store.con.execute("SELECT seq FROM forecast_records WHERE forecaster = 'bob'").fetchone()[0]
    with pytest.raises(Tampered, match=f"forecast record {seq} .* does not match its hash"):
        store.verify()


def test_changed_row_with_recomputed_hash_breaks_the_commit_head(store):
    store.con.execute(
        """UPDATE resolution_records SET outcome = 'no',
           hash = sha256((SELECT prev_head FROM commits WHERE id = 3) ||
                         to_json((SELECT r FROM (SELECT * EXCLUDE (hash) REPLACE ('no' AS outcome)
                                                 FROM resolution_records) r)))"""
    )
    with pytest.raises(Tampered, match="commit 3 .*head hash does not match"):
        store.verify()


def test_deleted_row_is_named(store):
    store.con.execute("DELETE FROM forecast_records WHERE forecaster = 'bob'")
    with pytest.raises(Tampered, match="commit 2 .*wrote 1 records, 0 are left"):
        store.verify()


def test_inserted_row_is_named(store):
    store.con.execute(
        "INSERT INTO forecast_records SELECT seq + 100, 99, question_id, 'mallory', 0.5, NULL, made_at, "
        "recorded_at, NULL, hash FROM forecast_records LIMIT 1"
    )
    with pytest.raises(Tampered):
        store.verify()


def test_tampering_through_raw_duckdb_fails_the_cli(cli, db_path):
    question_id = cli("add", "X", "-p", "0.4", "--by", "2027", "-c", "as stated").stdout.strip()
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE question_records SET statement = 'Y'")
    con.close()
    result = cli("verify", ok=False)
    assert result.exit_code == 5
    assert f"question {question_id}" in result.stderr and "does not match its hash" in result.stderr


def test_failed_write_rolls_back_everything(store):
    records, head = store.head()
    with pytest.raises(RuntimeError):
        with store.write("add") as writer:
            writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="x", probability=0.1))
            raise RuntimeError("crash mid-command")
    assert store.head() == (records, head)
    assert store.con.execute("SELECT count(*) FROM question_records").fetchone()[0] == 2
    store.verify()


@pytest.mark.parametrize("applied", range(1, len(MIGRATIONS)))
def test_migrates_forward_from_every_earlier_version(db_path, applied):
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE schema_migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
    for name, sql in MIGRATIONS[:applied]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
    con.close()
    with Store.open(db_path) as store:
        assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
        with store.write("add") as writer:
            writer.add_question(Question(statement="A", resolve_by="2027"), Forecast(forecaster="a", probability=0.5))
        assert store.questions()[0].statement == "A"
        store.verify()


def test_newer_ledger_is_refused(db_path):
    Store.open(db_path).close()
    con = duckdb.connect(str(db_path))
    con.execute("INSERT INTO schema_migrations VALUES ('9999_future', now())")
    con.close()
    with pytest.raises(Exception, match="newer version"):
        Store.open(db_path)


def test_second_process_waits_then_reports_busy(db_path, monkeypatch):
    Store.open(db_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db_path)!r}); print('held', flush=True); time.sleep(3)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("LEDGER_BUSY_TIMEOUT", "0.3")
        with pytest.raises(LedgerBusy, match="ledger is busy"):
            Store.open(db_path)
    finally:
        holder.kill()
        holder.wait()


def test_two_processes_adding_at_once_lose_nothing(db_path, tmp_path):
    Store.open(db_path).close()
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ledger.cli import app\n"
        "for i in range(15):\n"
        "    r = CliRunner().invoke(app, ['add', f'{sys.argv[1]} {i}', '-p', '0.5', '--by', '2030', '-c', 'c'])\n"
        "    assert r.exit_code == 0, r.stderr\n"
    )
    env = {**__import__("os").environ, "LEDGER_DB": str(db_path), "LEDGER_BUSY_TIMEOUT": "30"}
    workers = [subprocess.Popen([sys.executable, "-c", script, name], env=env) for name in ("left", "right")]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    with Store.open(db_path) as store:
        statements = {q.statement for q in store.questions()}
        assert statements == {f"{side} {i}" for side in ("left", "right") for i in range(15)}
        assert store.verify().n_commits == 30


def _other_process(code: str, path) -> str:
    """'free' if a second process can take what ``code`` takes on the file, 'held' if it is refused
    for the lock (any other failure prints nothing, and fails the comparison)."""
    result = subprocess.run([sys.executable, "-c", f"import sys, duckdb\ntry:\n    {code}\n    print('free')\n"
                             "except (BlockingIOError, duckdb.IOException):\n    print('held')", str(path)],
                            capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


FLOCK = {mode: f"import fcntl, os; fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.{mode} | fcntl.LOCK_NB)"
         for mode in ("LOCK_SH", "LOCK_EX")}
DUCKDB_WRITE = "import duckdb; duckdb.connect(sys.argv[1])"


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX; DuckDB's lock is mandatory on Windows")
def test_a_store_holds_its_files_lock_until_duckdb_has_closed_it(db_path):
    """DuckDB reads a file's headers before it locks it (ledger.filelock): a writing store holds an
    exclusive flock from before DuckDB opens the file until after it has closed it; readers share it."""
    import gc

    Store.open(db_path).close()
    assert _other_process(FLOCK["LOCK_EX"], db_path) == "free"
    writer = Store.open(db_path)
    assert _other_process(FLOCK["LOCK_SH"], db_path) == "held"
    writer.close()
    assert _other_process(FLOCK["LOCK_EX"], db_path) == "free"
    reader = Store.open(db_path, read_only=True)
    assert (_other_process(FLOCK["LOCK_SH"], db_path), _other_process(FLOCK["LOCK_EX"], db_path)) == ("free", "held")
    del reader  # a store dropped unclosed lets both locks go when it is collected
    gc.collect()
    assert (_other_process(FLOCK["LOCK_EX"], db_path), _other_process(DUCKDB_WRITE, db_path)) == ("free", "free")


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_closing_one_of_two_stores_on_a_file_keeps_duckdbs_lock(db_path):
    """Closing any descriptor of a file drops the process's fcntl locks on it, DuckDB's among them:
    a second store on the same file takes no descriptor of its own, and the first is closed last."""
    Store.open(db_path).close()
    first = Store.open(db_path)
    second = Store.open(db_path)
    second.close()
    assert _other_process(DUCKDB_WRITE, db_path) == "held"
    with first.write("add") as writer:  # and the first still writes
        writer.add_question(Question(statement="A", resolve_by="2027"), Forecast(forecaster="a", probability=0.5))
    first.close()
    assert _other_process(DUCKDB_WRITE, db_path) == "free"


def test_a_store_waits_for_the_lock_then_reports_busy(db_path, monkeypatch):
    """A process holding the ledger's flock (another ledger process) makes an open wait, then give up in one line."""
    Store.open(db_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)", str(db_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("LEDGER_BUSY_TIMEOUT", "0.3")
        with pytest.raises(LedgerBusy, match="ledger is busy: another process is using"):
            Store.open(db_path, read_only=True)
    finally:
        holder.kill()
        holder.wait()


def test_no_progress_bar_reaches_stdout(store):
    """DuckDB draws a progress bar on stdout for long queries; stdout is for data only."""
    assert store.con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False


def test_ledger_files_are_readable_by_every_duckdb_from_1_0(store):
    """New files are written in storage v1.0.0+, which DuckDB 1.0 to 2.x all open."""
    tags = store.con.execute("SELECT tags FROM duckdb_databases() WHERE NOT internal AND database_name <> 'temp'").fetchone()[0]
    assert tags["storage_version"] == "v1.0.0+"


@pytest.mark.parametrize("series", ["1.5", "2.0"])
def test_ledgers_made_by_either_duckdb_series_open_and_verify(cli, tmp_path, series):
    """Written under DuckDB 1.5 (storage v1.0.0) and 2.0 (its own v2 format) by the code before the pin."""
    import gzip
    import shutil

    path = tmp_path / f"from-duckdb-{series}.duckdb"
    with gzip.open(REPO / "tests" / "data" / f"ledger-before-chain-duckdb-{series}.duckdb.gz") as source, \
            path.open("wb") as out:
        shutil.copyfileobj(source, out)
    assert cli("verify", "--db", path).stdout.startswith("ok: 23 records in 6 commits")
    cli("add", "One more", "-p", "0.5", "--by", "2030", "-c", "c", "--db", path)
    assert cli("verify", "--db", path).stdout.startswith("ok: 25 records in 7 commits")


def test_a_file_from_a_newer_duckdb_is_one_line_naming_the_fix():
    """The text DuckDB gives for a storage format it cannot read (here 1.5.6 reading a 2.0 file)."""
    from pathlib import Path

    from ledger.store import open_error

    error = ("IO Error: Trying to read a database file with version number 69, but we can only read versions "
             "between 64 and 68.\nThe database file was created with a newer version of DuckDB.\n\nNewer DuckDB ...")
    message = open_error(Path("ledger.duckdb"), error, "2.0.1")
    assert message == ("cannot open ledger.duckdb: it was written by a newer DuckDB than this ledger's 2.0.1; "
                       'upgrade forecast-ledger (README "DuckDB versions")')


# -- what the writes check against: one open store, many commits, as the demo writes its history --------


def _question_id(store, statement):
    return store.con.execute("SELECT id FROM question_records WHERE statement = ?", [statement]).fetchone()[0]


def test_writes_in_one_process_see_every_outcome_it_recorded(store):
    """The fixture resolved A in this process: every later write of it is refused, commit after commit."""
    from ledger.errors import LedgerError

    a = _question_id(store, "A")
    for attempt, message in [
        (lambda w: w.add_forecast(a, Forecast(forecaster="cy", probability=0.5)), "retrodiction"),
        (lambda w: w.resolve(a, Resolution(outcome="yes")), "already resolved yes"),
        (lambda w: w.resolve(a, Resolution(annulled=True, note="void")), "pass --force"),
    ]:
        with pytest.raises(LedgerError, match=message), store.write("refused") as writer:
            attempt(writer)
    with store.write("annul") as writer:
        assert writer.resolve(a, Resolution(annulled=True, note="void"), force=True)  # a retraction, forced
    for attempt, message in [
        (lambda w: w.add_forecast(a, Forecast(forecaster="cy", probability=0.5)), "is annulled"),
        (lambda w: w.resolve(a, Resolution(annulled=True, note="void")), "already annulled"),
    ]:
        with pytest.raises(LedgerError, match=message), store.write("refused") as writer:
            attempt(writer)
    store.verify()


def test_a_question_logged_and_resolved_in_one_process_is_closed_to_it(store):
    from ledger.errors import LedgerError

    with store.write("add") as writer:
        c = writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="ann", probability=0.4))
        writer.add_forecast(c, Forecast(forecaster="bob", probability=0.5))  # open: taken in the same commit
    with store.write("resolve") as writer:
        writer.resolve(c, Resolution(outcome="no"))
    with pytest.raises(LedgerError, match="retrodiction"), store.write("forecast") as writer:
        writer.add_forecast(c, Forecast(forecaster="cy", probability=0.5))


def test_an_edited_resolve_by_is_the_one_the_next_forecast_is_checked_against(tmp_path):
    from datetime import datetime

    with Store.open(tmp_path / "edits.duckdb") as store:  # a history replayed at past moments, as the demo's
        with store.write("add", at=datetime(2025, 1, 1)) as writer:
            b = writer.add_question(Question(statement="B", resolve_by="2025-12-31"),
                                    Forecast(forecaster="ann", probability=0.2))
        with store.write("forecast", at=datetime(2025, 2, 1)) as writer:
            writer.add_forecast(b, Forecast(forecaster="bob", probability=0.3))
            assert writer.warnings == []  # due by the end of 2025
        with store.write("edit", at=datetime(2025, 3, 1)) as writer:
            writer.edit(b, "resolve_by", "2025-04-01", reason="the report moved", editor="ann")
        with store.write("forecast", at=datetime(2025, 6, 1)) as writer:
            writer.add_forecast(b, Forecast(forecaster="cy", probability=0.3))
            assert len(writer.warnings) == 1 and "was due by 2025-04-01" in writer.warnings[0]


def test_a_question_of_a_rolled_back_commit_is_unknown_to_the_next(store):
    from ledger.errors import NotFound

    before = store.head()
    with pytest.raises(RuntimeError), store.write("add") as writer:
        c = writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="x", probability=0.1))
        raise RuntimeError("crash mid-command")
    with pytest.raises(NotFound), store.write("forecast") as writer:
        writer.add_forecast(c, Forecast(forecaster="bob", probability=0.5))
    assert store.head() == before


def test_an_outcome_appended_in_bulk_closes_the_question_to_later_writes(store):
    from ledger.errors import LedgerError

    b = _question_id(store, "B")
    with store.write("forecast") as writer:
        writer.add_forecast(b, Forecast(forecaster="bob", probability=0.4))  # B is known open in this process
    with store.write("import") as writer:
        assert writer.append("resolution_records", "SELECT ?, 'yes', false, TIMESTAMP '2026-01-02', NULL, NULL, NULL, "
                             "TIMESTAMP '2026-01-02', 1", [b]) == 1
    with pytest.raises(LedgerError, match="retrodiction"), store.write("forecast") as writer:
        writer.add_forecast(b, Forecast(forecaster="cy", probability=0.5))
    store.verify()


def test_a_batch_writes_its_commits_as_separate_writes_would(store):
    """Rows held until the batch ends are read by the writes that need them; a refused commit leaves the
    batch's others, and the chain verifies."""
    from ledger.errors import LedgerError

    records, _ = store.head()
    with store.batch():
        with store.write("add") as writer:
            c = writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="ann", probability=0.4))
        with store.write("resolve") as writer:
            writer.resolve(c, Resolution(outcome="no"))  # held, not inserted: the next write reads it
        with pytest.raises(LedgerError, match="retrodiction"), store.write("forecast") as writer:
            writer.add_question(Question(statement="D", resolve_by="2027"), Forecast(forecaster="ann", probability=0.5))
            writer.add_forecast(c, Forecast(forecaster="bob", probability=0.5))
        with store.write("add") as writer:  # a column of lists beside NULLs, a list beside empty ones
            writer.add_question(Question(statement="E", resolve_by="2027", options=["x", "y"], tags=["t"]),
                                Forecast(forecaster="ann", probabilities=[0.25, 0.75]))
    assert store.head()[0] == records + 5 and store.verify().n_commits == 3 + 3  # the fixture's and the batch's
    statements = store.con.execute("SELECT list(statement ORDER BY seq) FROM question_records").fetchone()[0]
    assert statements == ["A", "B", "C", "E"]  # D went with its refused commit


def test_an_error_out_of_a_batch_leaves_none_of_it(store):
    before = store.head()
    with pytest.raises(RuntimeError), store.batch():
        with store.write("add") as writer:
            writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="ann", probability=0.4))
        raise RuntimeError("crash between commits")
    assert store.head() == before
    with store.write("add") as writer:  # and the next write links to the tip the file has
        writer.add_question(Question(statement="C", resolve_by="2027"), Forecast(forecaster="ann", probability=0.4))
    store.verify()
