"""The labelled corpus is well formed, and the extractor still meets its aims on it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {"geopolitics", "elections", "economics", "technology", "health", "climate"}
AIMS = {"recall": 0.9, "precision": 0.8, "in_range": 0.85}


def _evaluation():
    spec = importlib.util.spec_from_file_location("extract_eval", ROOT / "benchmarks" / "extract_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


EVAL = _evaluation()
CORPUS = EVAL.load_corpus()


def test_the_corpus_covers_every_domain_with_held_out_excerpts():
    assert len(CORPUS) >= 6
    assert {excerpt["domain"] for excerpt in CORPUS} == DOMAINS
    assert {excerpt["split"] for excerpt in CORPUS} == {"dev", "heldout"}
    assert len({excerpt["id"] for excerpt in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("excerpt", CORPUS, ids=[excerpt["id"] for excerpt in CORPUS])
def test_every_label_quotes_its_text_and_has_valid_ranges(excerpt):
    assert excerpt["source"].get("url") or excerpt["source"].get("note")
    assert excerpt["forecasts"], "an excerpt without forecasts scores nothing"
    for label in excerpt["forecasts"]:
        assert label["sentence"] in excerpt["text"]
        assert label["ranges"]
        for low, high in label["ranges"]:
            assert 0 <= low <= high <= 1


@pytest.mark.parametrize("split", ["all", "heldout"])
def test_the_extractor_meets_its_aims(split):
    figures = EVAL.evaluate(CORPUS)["split"][split].figures()
    for name, aim in AIMS.items():
        assert figures[name] >= aim, f"{split} {name} {figures[name]} < {aim}"
