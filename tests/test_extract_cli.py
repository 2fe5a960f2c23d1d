"""`ledger extract` on the command line: files, stdin, JSON, overwriting, review, logging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ledger.cli import app
from ledger.models import PredictionFile

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "examples" / "reverse-kissinger.txt"
pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="../shared/examples/reverse-kissinger.txt is absent")


@pytest.fixture(scope="module")
def found():
    """What the library finds in the worked example (as the CLI runs it: no date, no title)."""
    from ledger.extract import extract_text

    return extract_text(EXAMPLE.read_text(encoding="utf-8"))

runner = CliRunner()


@pytest.fixture(autouse=True)
def ledger_db(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "ledger.duckdb"


def run(*args, input=None):
    return runner.invoke(app, [str(arg) for arg in args], input=input)


def load(path: Path) -> PredictionFile:
    return PredictionFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_writes_a_draft_file_that_loads_back(tmp_path, found):
    result = run("extract", EXAMPLE, "--title", "Reverse Kissinger", "--date", "2025-02-25", "-o", "predictions/rk.yaml")
    assert result.exit_code == 0, result.output
    file = load(tmp_path / "predictions" / "rk.yaml")
    assert file.source.title == "Reverse Kissinger"
    assert str(file.source.published) == "2025-02-25"
    assert len(file.predictions) == len(found) > 0
    assert all(entry.draft and entry.resolve_by and entry.criteria for entry in file.predictions)
    assert "ledger add --file predictions/rk.yaml" in result.stderr


def test_prints_the_draft_without_output_and_reads_stdin(found):
    result = run("extract", "-", input=EXAMPLE.read_text(encoding="utf-8"))
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert [entry["quote"] for entry in data["predictions"]] == [candidate.quote for candidate in found]
    assert "draft predictions" in result.stderr


def test_json_lists_the_candidates_with_their_exact_quotes(found):
    result = run("extract", EXAMPLE, "--json")
    assert result.exit_code == 0
    candidates = json.loads(result.stdout)
    assert len(candidates) == len(found)
    text = EXAMPLE.read_text(encoding="utf-8")
    for item in candidates:
        assert {"quote", "statement", "probability", "probability_range", "cue", "lexicon_source",
                "conditional", "confidence", "resolve_by", "needs_context", "criteria"} <= set(item)
        assert item["quote"] in text
    confidences = [item["confidence"] for item in candidates]
    assert confidences == sorted(confidences, reverse=True)


def test_min_confidence_trades_recall_for_precision(found):
    from ledger.extract import detector

    stricter = round((detector.model().threshold + 1) / 2, 2)  # above the default, whatever dev chose
    everything = json.loads(run("extract", EXAMPLE, "--json", "--min-confidence", "0").stdout)
    strict = json.loads(run("extract", EXAMPLE, "--json", "--min-confidence", str(stricter)).stdout)
    assert len(strict) < len(found) < len(everything)
    assert all(item["confidence"] >= stricter for item in strict)
    refused = run("extract", EXAMPLE, "--min-confidence", "2")
    assert refused.exit_code == 2


def test_the_publication_date_anchors_the_proposed_resolve_by():
    result = run("extract", "-", "--date", "2025-02-25", "--json",
                 input="We expect the central bank will cut rates next year.\n")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert (item["resolve_by"], item["resolve_by_basis"], item["default_horizon"]) == ("2026-12-31", "next year", False)


def test_horizon_sets_the_flagged_default_resolve_by():
    result = run("extract", "-", "--date", "2025-02-25", "--json", "--horizon", "90",
                 input="We expect the central bank will cut rates.\n")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert (item["resolve_by"], item["default_horizon"]) == ("2025-05-26", True)
    assert run("extract", "-", "--horizon", "0", input="x\n").exit_code == 2


def test_options_override_front_matter(tmp_path):
    source = tmp_path / "note.md"
    source.write_text("---\ntitle: From the file\noutlet: Cables\n---\nThe deal will almost certainly collapse.\n")
    result = run("extract", source, "--title", "From the option", "-o", "out.yaml")
    assert result.exit_code == 0, result.output
    file = load(tmp_path / "out.yaml")
    assert (file.source.title, file.source.outlet) == ("From the option", "Cables")


def test_the_same_input_gives_the_same_file(tmp_path):
    run("extract", EXAMPLE, "-o", "rk.yaml")
    first = (tmp_path / "rk.yaml").read_bytes()
    run("extract", EXAMPLE, "-o", "rk.yaml", "--force")
    assert (tmp_path / "rk.yaml").read_bytes() == first


def test_does_not_overwrite_a_file_without_force(tmp_path):
    target = tmp_path / "rk.yaml"
    target.write_text("reviewed: true\n")
    refused = run("extract", EXAMPLE, "-o", target)
    assert refused.exit_code == 1
    assert "use --force" in refused.stderr
    assert target.read_text() == "reviewed: true\n"
    assert run("extract", EXAMPLE, "-o", target, "--force").exit_code == 0
    assert load(target).predictions


def test_user_mistakes_are_one_line_errors(tmp_path):
    missing = run("extract", tmp_path / "nope.txt")
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines() == [f"error: cannot read {tmp_path / 'nope.txt'}: No such file or directory"]
    bad_date = run("extract", EXAMPLE, "--date", "someday")
    assert bad_date.exit_code == 1 and bad_date.stderr.startswith("error: --date: not a date")


def test_nothing_found_writes_nothing(tmp_path):
    result = run("extract", "-", "-o", "none.yaml", input="The meeting took place on Tuesday.\n")
    assert result.exit_code == 0
    assert "no forecasts found" in result.stderr
    assert not (tmp_path / "none.yaml").exists()


def test_add_file_refuses_the_drafts_naming_each_entry(tmp_path, found):
    run("extract", EXAMPLE, "-o", "rk.yaml")
    before = (tmp_path / "rk.yaml").read_bytes()
    result = run("add", "--file", "rk.yaml")
    assert result.exit_code == 1
    assert "nothing logged" in result.stderr
    for number in range(1, len(found) + 1):
        assert f"entry {number} " in result.stderr
    assert result.stderr.count("draft: true") == len(found)  # proposals filled in, the draft mark still blocks
    assert (tmp_path / "rk.yaml").read_bytes() == before


def test_interactive_accept_skip_edit_and_quit(tmp_path, found):
    answers = "\n".join([
        "a",  # 1: accept as a draft
        "s",  # 2: skip
        "e", "The US supplies arms to Russia's military by 2028.", "nonsense", "5%", "2028-12-31",
        "Yes if a US licence for arms exports to Russia is in force.",  # 3: edited and complete
        "q",  # stop
    ]) + "\n"
    result = run("extract", EXAMPLE, "-i", "-o", "rk.yaml", input=answers)
    assert result.exit_code == 0, result.output
    file = load(tmp_path / "rk.yaml")
    first, edited = file.predictions
    assert first.draft and first.quote == found[0].quote
    assert not edited.draft
    assert edited.statement == "The US supplies arms to Russia's military by 2028."
    assert edited.probability == 0.05
    assert str(edited.resolve_by) == "2028-12-31"
    assert edited.quote == found[2].quote
    assert "probability must be a number" in result.output  # "nonsense" was refused and asked again
    assert "log them" not in result.output  # a draft remains: nothing to log


def test_interactive_logs_a_complete_review(tmp_path, ledger_db, found):
    answers = "\n".join([
        "e", "", "0.85", "2028-12-31", "Yes if Russia and China end their partnership.",
        "q", "y",
    ]) + "\n"
    result = run("extract", EXAMPLE, "-i", "-o", "rk.yaml", input=answers)
    assert result.exit_code == 0, result.output
    assert "logged 1 predictions from rk.yaml" in result.stderr
    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    questions = json.loads(listed.stdout)
    assert [question["statement"] for question in questions] == [found[0].statement]
