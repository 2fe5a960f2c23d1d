"""`ledger extract` on the command line: files, stdin, JSON, overwriting, review, logging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ledger.cli import app
from ledger.models import PredictionFile
from tests.conftest import SHARED

EXAMPLE = SHARED / "examples" / "reverse-kissinger.txt"
needs_example = pytest.mark.skipif(not EXAMPLE.exists(), reason=f"{EXAMPLE} not present (shared data beside the repo)")
FOUND_IN_EXAMPLE = 6

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


@needs_example
def test_writes_a_draft_file_that_loads_back(tmp_path):
    result = run("extract", EXAMPLE, "--title", "Reverse Kissinger", "--date", "2025-02-25", "-o", "predictions/rk.yaml")
    assert result.exit_code == 0, result.output
    file = load(tmp_path / "predictions" / "rk.yaml")
    assert file.source.title == "Reverse Kissinger"
    assert str(file.source.published) == "2025-02-25"
    assert len(file.predictions) == FOUND_IN_EXAMPLE
    assert all(entry.draft for entry in file.predictions)
    assert "ledger add --file predictions/rk.yaml" in result.stderr


@needs_example
def test_prints_the_draft_without_output_and_reads_stdin():
    result = run("extract", "-", input=EXAMPLE.read_text(encoding="utf-8"))
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert len(data["predictions"]) == FOUND_IN_EXAMPLE
    assert "draft predictions" in result.stderr


@needs_example
def test_json_lists_the_candidates_with_their_exact_quotes():
    result = run("extract", EXAMPLE, "--json")
    assert result.exit_code == 0
    candidates = json.loads(result.stdout)
    assert len(candidates) == FOUND_IN_EXAMPLE
    text = EXAMPLE.read_text(encoding="utf-8")
    for item in candidates:
        assert {"quote", "statement", "probability", "probability_range", "cue", "lexicon_source",
                "conditional"} <= set(item)
        assert item["quote"] in text
    assert sum(item["conditional"] for item in candidates) == 2


def test_options_override_front_matter(tmp_path):
    source = tmp_path / "note.md"
    source.write_text("---\ntitle: From the file\noutlet: Cables\n---\nThe deal will almost certainly collapse.\n")
    result = run("extract", source, "--title", "From the option", "-o", "out.yaml")
    assert result.exit_code == 0, result.output
    file = load(tmp_path / "out.yaml")
    assert (file.source.title, file.source.outlet) == ("From the option", "Cables")


@needs_example
def test_the_same_input_gives_the_same_file(tmp_path):
    run("extract", EXAMPLE, "-o", "rk.yaml")
    first = (tmp_path / "rk.yaml").read_bytes()
    run("extract", EXAMPLE, "-o", "rk.yaml", "--force")
    assert (tmp_path / "rk.yaml").read_bytes() == first


@needs_example
def test_does_not_overwrite_a_file_without_force(tmp_path):
    target = tmp_path / "rk.yaml"
    target.write_text("reviewed: true\n")
    refused = run("extract", EXAMPLE, "-o", target)
    assert refused.exit_code == 1
    assert "use --force" in refused.stderr
    assert target.read_text() == "reviewed: true\n"
    assert run("extract", EXAMPLE, "-o", target, "--force").exit_code == 0
    assert len(load(target).predictions) == FOUND_IN_EXAMPLE


@needs_example
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


@needs_example
def test_add_file_refuses_the_drafts_naming_each_entry(tmp_path):
    run("extract", EXAMPLE, "-o", "rk.yaml")
    result = run("add", "--file", "rk.yaml")
    assert result.exit_code == 1
    assert "nothing logged" in result.stderr
    for number in range(1, FOUND_IN_EXAMPLE + 1):
        assert f"entry {number} " in result.stderr
    assert result.stderr.count("draft: true") == FOUND_IN_EXAMPLE
    assert result.stderr.count("criteria missing") == FOUND_IN_EXAMPLE


@needs_example
def test_interactive_accept_skip_edit_and_quit(tmp_path):
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
    assert first.draft and first.quote.startswith("However, as we analyzed yesterday")
    assert not edited.draft
    assert edited.statement == "The US supplies arms to Russia's military by 2028."
    assert edited.probability == 0.05
    assert str(edited.resolve_by) == "2028-12-31"
    assert edited.quote.startswith("Even if Trump were to appease Putin")
    assert "probability must be a number" in result.output  # "nonsense" was refused and asked again
    assert "log them" not in result.output  # a draft remains: nothing to log


@needs_example
def test_interactive_logs_a_complete_review(tmp_path, ledger_db):
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
    assert [question["statement"] for question in questions] == ["This strategy will fail for three key reasons."]
