"""Scoring through the ledger: ``ledger import`` then ``ledger score --json`` against reference values."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VECTORS = SHARED / "scoring_vectors.json"
ACX = SHARED / "data" / "acx"

needs_vectors = pytest.mark.skipif(not VECTORS.exists(), reason=f"{VECTORS} not present (shared data beside the repo)")
needs_acx = pytest.mark.skipif(not ACX.exists(), reason=f"{ACX} not present (shared data beside the repo)")
runner = CliRunner()


def ledger(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def dataset_names():
    if not VECTORS.exists():
        return []
    return [name for name in json.loads(VECTORS.read_text()) if name != "about"]


@needs_vectors
@pytest.mark.parametrize("name", dataset_names())
def test_vectors_through_import_and_score(name, tmp_path, monkeypatch):
    data = json.loads(VECTORS.read_text())[name]
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps(row) for row in data["rows"]) + "\n")
    ledger("import", str(rows))
    got = json.loads(ledger("score", "--json", "--questions", "--resamples", "50"))
    expected = data["expected"]
    assert got["n_questions"] == expected["n_questions"]
    for key in ("brier", "log_loss", "base_rate", "brier_skill_vs_half", "brier_multi"):
        if key in expected:
            assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    if "per_question" in expected:
        assert sorted(q["brier_multi"] for q in got["questions"]) == pytest.approx(
            sorted(expected["per_question"]), abs=1e-9)
    if "murphy_10_bins" in expected:
        for key, value in expected["murphy_10_bins"].items():
            assert got["murphy"][key] == pytest.approx(value, abs=1e-9), key
        for key, value in expected["corp"].items():
            assert got["corp"][key] == pytest.approx(value, abs=1e-9), key
        assert len(got["calibration"]) == len(expected["calibration_10_bins"])
        for mine, ref in zip(got["calibration"], expected["calibration_10_bins"], strict=True):
            for key in ("bin_low", "bin_high", "n", "mean_forecast", "observed"):
                assert mine[key] == pytest.approx(ref[key], abs=1e-9), key
            assert mine["ci_low"] == pytest.approx(ref["wilson95_low"], abs=1e-9)
            assert mine["ci_high"] == pytest.approx(ref["wilson95_high"], abs=1e-9)
        base = expected["base_rate"]
        assert got["brier_skill_vs_base_rate"] == pytest.approx(1 - expected["brier"] / (base * (1 - base)), abs=1e-9)
        assert isinstance(got["brier_ci"], list) and got["brier_ci"][0] <= expected["brier"] <= got["brier_ci"][1]


@needs_acx
def test_scott_alexander_2021_analyst_levels_folded(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    ledger("import", str(ACX / "scott_alexander_2021_predictions.csv"), "--resolve-by", "2021-12-31",
           "--forecaster", "scott")
    got = json.loads(ledger("score", "--levels", "analyst", "--fold", "--json", "--resamples", "50"))
    with (ACX / "scott_alexander_2021_calibration_recomputed.csv").open() as handle:
        expected = list(csv.DictReader(handle))
    table = got["calibration"]
    assert [b["bin_low"] for b in table] == [float(row["bucket"]) for row in expected]
    for mine, ref in zip(table, expected, strict=True):
        assert mine["n"] == int(ref["n"])
        assert mine["observed"] == pytest.approx(float(ref["fraction_correct"]), abs=5e-5)  # CSV has 4 decimals
        assert mine["mean_forecast"] == pytest.approx(float(ref["bucket"]), abs=1e-12)
    assert got["n_questions"] == 104 and got["excluded"]["unresolved"] == 4
    assert got["brier"] == pytest.approx(0.1727, abs=5e-5)  # README: 0.1727 (n = 104)


def test_score_cli_table_groups_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "statement,probability,resolve_by,outcome,forecaster,tags,made_at,resolved_at\n"
        "A,0.8,2024-06-30,yes,ann,geo,2024-01-01,2024-02-01\n"
        "B,0.3,2024-06-30,no,ann,geo;econ,2024-01-01,2024-02-01\n"
        "C,0.6,2024-06-30,no,bo,econ,2024-01-01,2024-05-01\n"
        "D,0.9,2024-06-30,,bo,econ,2024-01-01,\n"
    )
    ledger("import", str(rows))
    table = runner.invoke(app, ["score"])
    assert table.exit_code == 0 and "Brier" in table.stdout and "Calibration" in table.stdout
    by_tag = json.loads(ledger("score", "--json", "--by", "tag", "--resamples", "20"))
    groups = {g["group"]: g for g in by_tag["groups"]}
    assert groups["geo"]["n_questions"] == 2 and groups["econ"]["n_questions"] == 2
    assert groups["geo"]["brier"] == pytest.approx((0.04 + 0.09) / 2, abs=1e-12)
    by_quarter = json.loads(ledger("score", "--json", "--by", "quarter", "--resamples", "0"))
    assert [g["group"] for g in by_quarter["groups"]] == ["2024-Q1", "2024-Q2"]
    since = json.loads(ledger("score", "--json", "--since", "2024-03-01", "--resamples", "0"))
    assert since["n_questions"] == 1 and since["brier"] == pytest.approx(0.36, abs=1e-12)
    bad = runner.invoke(app, ["score", "--policy", "median"])
    assert bad.exit_code == 1 and "policy" in bad.output and "Traceback" not in bad.output
    bad_by = runner.invoke(app, ["score", "--by", "colour"])
    assert bad_by.exit_code == 1 and "--by" in bad_by.output
