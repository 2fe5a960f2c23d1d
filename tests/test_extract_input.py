"""`ledger extract` bounds what it reads: input over 2 MB is refused, in one line, unless --max-size."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ledger.cli import app
from ledger.models import PredictionFile

runner = CliRunner()


@pytest.fixture(autouse=True)
def ledger_db(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    monkeypatch.chdir(tmp_path)


def run(*args, input=None):
    return runner.invoke(app, [str(arg) for arg in args], input=input)


def load(path: Path) -> PredictionFile:
    return PredictionFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_input_over_2mb_is_refused_unless_max_size(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("The meeting took place on Tuesday.\n" * 60_000)
    assert big.stat().st_size > 2_000_000
    target = tmp_path / "out.yaml"
    refused = run("extract", big, "-o", target)
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {big} is larger than 2,000,000 bytes; if it really is one analysis, raise the limit with --max-size"]
    assert not target.exists()


def test_max_size_sets_the_bound_for_files_and_stdin(tmp_path):
    text = "We expect rates will fall by 2027. " * 5  # 175 bytes
    analysis = tmp_path / "a.txt"
    analysis.write_text(text)
    assert run("extract", analysis, "--max-size", "100").stderr.startswith(f"error: {analysis} is larger than 100 bytes")
    piped = run("extract", "-", "--max-size", "100", input=text)
    assert piped.exit_code == 1 and piped.stderr.startswith("error: stdin is larger than 100 bytes")
    bad = run("extract", "-", "--max-size", "lots", input="x")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: not a size: 'lots'")
    target = tmp_path / "out.yaml"
    raised = run("extract", analysis, "-o", target, "--max-size", "1KB")
    assert raised.exit_code == 0, raised.stderr
    assert load(target).predictions


@pytest.mark.parametrize("paragraph", [
    "Rates Set To Fall Further",
    "NASSER HUSSAIN — England 3-2",
    "The bank will cut rates in June.",
    "“We will win it,” he said.",
    "Prices will rise. Wages will not.",
    "The steps include a) slower growth, b) fewer jobs.",
    "Growth slows… then recovers in 2027.",
])
def test_one_sentence_lines_skip_the_segmenter_and_agree_with_it(paragraph):
    from ledger.extract import document

    whole = [s.strip() for s in document._segmenter().segment(paragraph) if s.strip()]
    assert document.sentences(paragraph) == whole


def test_a_closing_quote_stays_with_its_sentence():
    from ledger.extract import document

    assert document.sentences("Preparations should be made every season.”") == \
        ["Preparations should be made every season.”"]
