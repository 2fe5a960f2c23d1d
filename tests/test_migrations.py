"""Migrations that redefine a view keep its values: the new definition against the one it replaced."""

from __future__ import annotations

import re

import duckdb

from ledger import migrations
from ledger.migrations import MIGRATIONS
from ledger.store import Store


def add(cli, statement, p="40%", by="2030", *extra):
    return cli("add", statement, "-p", p, "--by", by, "-c", "as stated", *extra).stdout.strip()


def _view_of(migration: str, view: str, as_name: str) -> str:
    """``view`` as ``migration`` defined it, as a TEMP view named ``as_name``."""
    [sql] = [sql for name, sql in MIGRATIONS if name == migration]
    [statement] = [s.query for s in duckdb.extract_statements(sql)
                   if re.search(rf"CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+{view}\b", s.query)]
    return re.sub(rf"CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+{view}\b", f"CREATE TEMP VIEW {as_name}", statement)


def _history(cli, tmp_path) -> None:
    """Every way a forecast becomes backfilled, and the edits that move a resolve-by either way."""
    early = add(cli, "Claimed earlier than logged", "60%", "2020-12-31", "--at", "2020-06-01")
    cli("forecast", early, "-p", "70%")  # after the window closed
    extended = add(cli, "Window reopened", "50%", "2020-12-31")
    cli("edit", extended, "--by", "2031", "--reason", "postponed")
    cli("forecast", extended, "-p", "55%")
    moved = add(cli, "Moved twice", "30%", "2029", "--at", "2019-06-01")
    cli("forecast", moved, "-p", "35%")
    cli("edit", moved, "--by", "2032", "--reason", "later")
    cli("edit", moved, "--criteria", "clearer", "--tag", "x", "--reason", "wording")
    cli("edit", moved, "--by", "2027", "--reason", "sooner after all")
    add(cli, "Untouched", "20%", "2035")
    resolved = add(cli, "Resolved then corrected", "80%", "2031")
    cli("resolve", resolved, "yes")
    cli("annul", resolved, "--reason", "vague", "--force")
    cli("resolve", resolved, "no")
    annulled = add(cli, "Annulled only", "10%", "2031")
    cli("annul", annulled, "--reason", "vague")
    graded = tmp_path / "graded.csv"  # forecasts arriving with their outcomes, in one commit
    graded.write_text("statement,probability,resolve_by,made_at,outcome\n"
                      "Graded yes,0.7,2021-12-31,2021-01-05,yes\nGraded open,0.4,2040-01-01,2025-01-01,\n")
    cli("import", graded)


def test_forecasts_from_records_keep_the_backfilled_of_the_honest_record(cli, db_path, tmp_path):
    _history(cli, tmp_path)
    with Store.open(db_path, create=False, read_only=True) as store:
        store.con.execute(_view_of("0003_honest_record", "forecasts", "forecasts_0003"))
        old = store.con.execute("SELECT * FROM forecasts_0003 ORDER BY seq").fetchall()
        new = store.con.execute("SELECT * FROM forecasts ORDER BY seq").fetchall()
    assert new == old
    backfilled = [row[-1] for row in new]
    assert len(new) == 11 and 0 < sum(backfilled) < len(new)  # both kinds are compared, not only one


def test_a_ledger_from_before_opens_migrated_to_the_new_views(cli, db_path, tmp_path):
    _history(cli, tmp_path)
    with Store.open(db_path, create=False, read_only=True) as store:
        expected = store.con.execute("SELECT seq, backfilled FROM forecasts ORDER BY seq").fetchall()
        questions = store.con.execute("SELECT * FROM questions ORDER BY id").fetchall()
    con = duckdb.connect(str(db_path))  # the file as 0003 left it: no kept state, 0002's questions, 0003's forecasts
    con.execute("DROP VIEW questions")
    con.execute("DROP TABLE question_state")
    con.execute("DROP VIEW question_state_from_records")
    con.execute(_view_of("0002_documented_views", "questions", "questions").replace("TEMP VIEW", "VIEW"))
    con.execute(_view_of("0003_honest_record", "forecasts", "forecasts").replace("TEMP VIEW", "OR REPLACE VIEW"))
    con.execute("DELETE FROM schema_migrations WHERE name IN ('0004_forecasts_from_records', '0005_question_state')")
    con.close()
    with Store.open(db_path, create=False, read_only=True) as store:  # a reader migrates it first
        assert store.applied_migrations()[-2:] == ["0004_forecasts_from_records", "0005_question_state"]
        assert migrations.foreign_objects(store.con) == []  # the file's own views are the new ones
        assert store.con.execute("SELECT seq, backfilled FROM main.forecasts ORDER BY seq").fetchall() == expected
        assert store.con.execute("SELECT count(*) FROM main.question_state").fetchone()[0] == len(questions) == 8
        assert store.con.execute("SELECT * FROM main.questions ORDER BY id").fetchall() == questions
        assert store.verify().n_records > 0


def test_the_kept_state_says_what_every_write_recorded(cli, db_path, tmp_path):
    """Adds, edits (each field), resolutions, a correction, a retraction, an annulment and an import:
    the questions read from the kept state are 0002's questions, computed from the records."""
    _history(cli, tmp_path)
    with Store.open(db_path, create=False, read_only=True) as store:
        store.con.execute(_view_of("0002_documented_views", "questions", "questions_0002"))
        old = store.con.execute("SELECT * FROM questions_0002 ORDER BY id").fetchall()
        new = store.con.execute("SELECT * FROM questions ORDER BY id").fetchall()
    assert new == old
    assert {row[-2] for row in new} == {"open", "due", "resolved", "annulled"}  # every status is compared


def test_a_batch_keeps_the_state_of_its_commits(db_path):
    from ledger.models import Forecast, Question, Resolution

    with Store.open(db_path) as store:
        with store.batch():
            with store.write("add") as writer:
                kept = writer.add_question(Question(statement="Kept", resolve_by="2030", criteria="c"),
                                           Forecast(forecaster="a", probability=0.5))
            with store.write("resolve") as writer:
                writer.resolve(kept, Resolution(outcome="yes"))
            with store.write("edit") as writer:
                writer.edit(kept, "criteria", "clearer", reason=None, editor=None)
        row = store.con.execute("SELECT status, outcome, criteria FROM questions WHERE id = ?", [kept]).fetchone()
        assert row == ("resolved", "yes", "clearer")
        assert store.verify()


def test_a_question_added_and_resolved_in_one_commit_keeps_its_resolution(db_path):
    """A question a write made is inserted as its record says, unless the same commit resolved or edited it."""
    from ledger.models import Forecast, Question, Resolution

    with Store.open(db_path) as store:
        with store.write("add") as writer:
            plain = writer.add_question(Question(statement="Plain", resolve_by="2030", criteria="c", tags=["t"]),
                                        Forecast(forecaster="a", probability=0.5))
            closed = writer.add_question(Question(statement="Closed", resolve_by="2030", criteria="c"),
                                         Forecast(forecaster="a", probability=0.5))
            writer.resolve(closed, Resolution(outcome="no"))
            writer.edit(closed, "tags", ["late"], reason=None, editor=None)
        rows = store.con.execute("SELECT id, status, outcome, tags FROM questions ORDER BY statement").fetchall()
        assert rows == [(closed, "resolved", "no", ["late"]), (plain, "open", None, ["t"])]
        assert store.verify()


def test_verify_names_a_question_whose_kept_state_was_changed_outside_ledger(cli, db_path, tmp_path):
    """The kept state is not hashed (it is derived); verify recomputes it, so a score read from it
    cannot be flattered by rewriting it."""
    _history(cli, tmp_path)
    cli("verify")
    with Store.open(db_path, create=False, read_only=True) as store:
        resolved = store.con.execute("SELECT id FROM questions WHERE statement = 'Resolved then corrected'").fetchone()[0]
    for change in (f"UPDATE question_state SET outcome = 'yes' WHERE id = '{resolved}'",
                   f"INSERT INTO question_state SELECT * FROM question_state WHERE id = '{resolved}'",
                   f"DELETE FROM question_state WHERE id = '{resolved}'"):
        before = db_path.read_bytes()
        con = duckdb.connect(str(db_path))
        con.execute(change)
        con.close()
        result = cli("verify", ok=False)
        assert result.exit_code == 5, result.output
        assert f"the kept state of question {resolved[:8]} is not what its records say" in result.stderr
        db_path.write_bytes(before)
    cli("verify")


def test_the_statement_split_is_duckdbs_own():
    """migrations.statements splits at a `;` ending a line (DuckDB's parser costs every start-up ~0.2 s)."""
    for _, sql in MIGRATIONS:
        assert [s.strip() for s in migrations.statements(sql)] == [
            s.query.strip().removesuffix(";").strip() for s in duckdb.extract_statements(sql)]


def test_each_view_is_installed_once_as_its_last_migration_defines_it():
    installed = migrations._temp_views()
    names = [re.search(r"TEMP VIEW (\w+)", view).group(1) for view in installed]
    assert names == ["forecasts", "resolutions", "edits", "questions", "retractions", "question_state_from_records"]
    assert "(SELECT min(o.commit_id)" in installed[0]  # 0004's forecasts, not 0002's or 0003's
