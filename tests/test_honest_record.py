"""The rules that keep a track record honest, driven through the CLI, each checking the ledger afterwards."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import ledger_bytes

ACX_2021 = Path(__file__).resolve().parents[2] / "shared" / "data" / "acx" / "scott_alexander_2021_predictions.csv"


def add(cli, statement="Russia and China sign a defence treaty", p="15%", by="2027", *extra):
    return cli("add", statement, "-p", p, "--by", by, "-c", "Public reports say so", *extra).stdout.strip()


def sql(cli, query):
    return cli.json("sql", query)


@pytest.mark.skipif(not ACX_2021.exists(), reason="needs ../shared/data/acx (the ACX 2021 sheet)")
def test_a_graded_spreadsheet_comes_in_fully_backfilled(cli):
    result = cli("import", ACX_2021, "--resolve-by", "2021-12-31", "--forecaster", "scott")
    assert "108 backfilled" in result.stderr
    assert "104 outcomes had no resolved_at: recorded as known at the import time" in result.stderr
    [row] = sql(cli, "SELECT count(*) AS n, count(*) FILTER (WHERE backfilled) AS b FROM forecasts")
    assert row == {"n": 108, "b": 108}


@pytest.mark.skipif(not ACX_2021.exists(), reason="needs ../shared/data/acx (the ACX 2021 sheet)")
def test_import_takes_made_at_and_resolved_at_defaults(cli):
    result = cli("import", ACX_2021, "--resolve-by", "2021-12-31", "--forecaster", "scott",
                 "--made-at", "2021-04-26", "--resolved-at", "2022-01-24")
    assert "no resolved_at" not in result.stderr
    assert "108 backfilled" in result.stderr  # they entered with their outcomes
    rows = sql(cli, "SELECT DISTINCT made_at::DATE::VARCHAR AS made FROM forecasts")
    assert rows == [{"made": "2021-04-26"}]
    rows = sql(cli, "SELECT DISTINCT resolved_at::DATE::VARCHAR AS known FROM resolutions")
    assert rows == [{"known": "2022-01-24"}]


def test_forecast_after_the_resolve_by_date_is_backfilled_with_a_warning(cli):
    question = add(cli, "It happened", "60%", "2020-12-31", "--at", "2020-06-01")
    result = cli("forecast", question, "-p", "99%")
    assert "after its window closed and is marked backfilled" in result.stderr
    forecasts = cli.json("show", question)["forecasts"]
    assert [f["backfilled"] for f in forecasts] == [True, True]  # the first was logged after the fact too
    late = add(cli, "Logged on time, after the deadline", "99%", "2020-12-31")
    assert cli.json("show", late)["forecasts"][0]["backfilled"] is True


def test_forecast_on_a_resolved_question_is_refused(cli, db_path):
    question = add(cli)
    cli("resolve", question, "yes")
    before = ledger_bytes(db_path)
    result = cli("forecast", question, "-p", "99%", ok=False)
    assert result.exit_code == 1
    assert "already has an outcome (yes)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ledger_bytes(db_path) == before
    assert len(cli.json("show", question)["forecasts"]) == 1


def test_annul_after_resolution_is_a_disclosed_retraction(cli, db_path):
    # Three yes/no questions, one forecast each (made before the outcome, so the
    # time-averaged policy scores each single forecast with weight 1).
    won = add(cli, "A", "80%", "2026", "--at", "2025-01-01")
    also = add(cli, "B", "30%", "2026", "--at", "2025-01-01")
    lost = add(cli, "C", "90%", "2026", "--at", "2025-01-01")
    cli("resolve", won, "yes", "--on", "2025-06-01")
    cli("resolve", also, "no", "--on", "2025-06-01")
    cli("resolve", lost, "no", "--on", "2025-06-01")
    before = ledger_bytes(db_path)
    refused = cli("annul", lost, "--reason", "changed my mind", ok=False)
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert ledger_bytes(db_path) == before
    done = cli("annul", lost, "--reason", "changed my mind", "--force")
    assert "retraction" in done.stderr
    shown = cli.json("show", lost)
    assert shown["status"] == "annulled"
    assert [(r["outcome"], r["annulled"]) for r in shown["resolutions"]] == [("no", False), (None, True)]

    scored = cli.json("score")
    assert scored["brier"] == pytest.approx(((0.8 - 1) ** 2 + 0.3**2) / 2)  # 0.065: the retraction flatters
    retracted = scored["retractions"]
    assert retracted["n"] == 1
    assert retracted["questions"] == [shown["id"]]
    # by hand: (0.2² + 0.3² + 0.9²) / 3 = (0.04 + 0.09 + 0.81) / 3
    assert retracted["brier_if_counted"] == pytest.approx(0.94 / 3)
    text = cli("score", "--resamples", "0")
    assert "retracted: 1 questions" in text.stderr and "0.3133" in text.stderr


def test_no_retractions_is_an_explicit_zero(cli):
    question = add(cli, "A", "80%", "2026", "--at", "2025-01-01")
    cli("resolve", question, "yes", "--on", "2025-06-01")
    assert cli.json("score")["retractions"] == {"n": 0, "brier_if_counted": None, "questions": []}


def test_a_correction_keeps_the_first_known_moment(cli):
    question = add(cli, "A", "80%", "2026", "--at", "2025-01-01")
    cli("resolve", question, "yes", "--on", "2025-06-01")
    cli("resolve", question, "no", "--note", "misread the news")
    resolutions = cli.json("show", question)["resolutions"]
    assert [r["resolved_at"] for r in resolutions] == ["2025-06-01T00:00:00Z", "2025-06-01T00:00:00Z"]
    cli("resolve", question, "yes", "--on", "2025-07-01")
    assert cli.json("show", question)["resolution"]["resolved_at"] == "2025-07-01T00:00:00Z"


def _tamper(db_path):
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE forecast_records SET probability = 0.99 WHERE seq = (SELECT min(seq) FROM forecast_records)")
    con.close()


def test_report_refuses_a_tampered_ledger_and_score_warns(cli, db_path, tmp_path):
    question = add(cli, "A", "80%", "2026", "--at", "2025-01-01")
    cli("resolve", question, "yes", "--on", "2025-06-01")
    _tamper(db_path)
    before = ledger_bytes(db_path)
    site = tmp_path / "site"
    result = cli("report", "--out", site, ok=False)
    assert result.exit_code == 5
    [line] = result.stderr.strip().splitlines()
    assert "forecast record" in line and "does not match its hash" in line
    assert not site.exists()
    assert ledger_bytes(db_path) == before
    scored = cli("score", "--resamples", "0")
    assert "warning: this ledger does not verify" in scored.stderr
    assert ledger_bytes(db_path) == before
