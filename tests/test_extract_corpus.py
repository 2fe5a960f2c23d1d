"""The labelled corpora are well formed: the detector's corpus (corpus/) and the older excerpts (tests/extract_corpus)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from ledger.extract import corpus

ROOT = Path(__file__).resolve().parent.parent
LEGACY = sorted((ROOT / "tests" / "extract_corpus").glob("*.yaml"))
ISSUE_DOMAINS = {"geopolitics", "elections", "central-bank", "energy", "climate", "ai", "sports", "box-office",
                 "public-health", "predictions-list"}


@pytest.fixture(scope="module")
def documents():
    return corpus.read_all(ROOT / "corpus" / "sentences")


def test_the_corpus_reaches_its_size_across_the_domains(documents):
    assert len(documents) >= 100
    assert sum(len(document.sentences) for document in documents) >= 2000
    assert ISSUE_DOMAINS <= {document.domain for document in documents}
    assert all(document.url and document.licence for document in documents)


def test_splits_are_by_document_seeded_and_every_split_has_forecasts(documents):
    splits = Counter(document.split for document in documents)
    assert set(splits) == {"train", "dev", "test"}
    assert splits["train"] > splits["dev"] > 0 and splits["test"] > 0
    assert all(corpus.split_of(d.id, d.domain) == d.split for d in documents)
    assert all(d.split == "test" for d in documents if d.domain in corpus.UNSEEN_DOMAINS)
    for split in splits:
        assert any(s.is_forecast for d in documents if d.split == split for s in d.sentences)


def test_every_band_is_a_probability_range(documents):
    for document in documents:
        for sentence in document.sentences:
            for low, high in sentence.bands:
                assert 0 <= low <= high <= 1, (document.id, sentence.text)


def test_a_malformed_line_is_an_error_naming_its_place(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("=== id: x | url: u | outlet: o | domain: d | published: 2024-01-01 | licence: l\n"
                   "F .9-.7 | Rates will rise.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:2: bad probability band"):
        corpus.read(bad)


@pytest.mark.parametrize("path", LEGACY, ids=[path.stem for path in LEGACY])
def test_every_older_label_quotes_its_text_and_has_valid_ranges(path):
    excerpt = yaml.safe_load(path.read_text(encoding="utf-8"))
    for label in excerpt["forecasts"]:
        assert label["sentence"] in excerpt["text"]
        assert label["ranges"]
        for low, high in label["ranges"]:
            assert 0 <= low <= high <= 1


def _shares_nothing_with(held_out, seen):
    assert not {d.id for d in held_out} & {d.id for d in seen}
    assert not {d.url for d in held_out} & {d.url for d in seen}
    assert not {d.outlet for d in held_out} & {d.outlet for d in seen}
    texts = {s.text for d in seen for s in d.sentences}
    assert not any(s.text in texts for d in held_out for s in d.sentences)


def test_the_unseen_set_shares_no_text_source_or_outlet_with_the_corpus(documents):
    unseen = corpus.read_all(ROOT / "corpus" / "unseen")
    assert len(unseen) >= 15
    _shares_nothing_with(unseen, documents)
    assert len({d.domain for d in unseen} - {d.domain for d in documents}) >= 5


def test_the_second_unseen_set_shares_nothing_with_the_corpus_or_the_first(documents):
    seen = documents + corpus.read_all(ROOT / "corpus" / "unseen")
    unseen2 = corpus.read_all(ROOT / "corpus" / "unseen2")
    assert len(unseen2) >= 12
    _shares_nothing_with(unseen2, seen)
    assert len({d.domain for d in unseen2} - {d.domain for d in seen}) >= 8
    assert all(d.url and d.licence for d in unseen2)


def test_the_third_unseen_set_shares_nothing_with_the_corpus_or_the_first_two(documents):
    seen = documents + [d for name in ("unseen", "unseen2") for d in corpus.read_all(ROOT / "corpus" / name)]
    unseen3 = corpus.read_all(ROOT / "corpus" / "unseen3")
    assert len(unseen3) >= 12
    _shares_nothing_with(unseen3, seen)
    assert len({d.domain for d in unseen3} - {d.domain for d in seen}) >= 10
    assert all(d.url and d.licence for d in unseen3)


def test_the_fourth_unseen_set_shares_nothing_with_the_corpus_or_the_first_three(documents):
    seen = documents + [d for name in ("unseen", "unseen2", "unseen3") for d in corpus.read_all(ROOT / "corpus" / name)]
    unseen4 = corpus.read_all(ROOT / "corpus" / "unseen4")
    assert len(unseen4) >= 15
    assert sum(len(d.sentences) for d in unseen4) >= 200
    _shares_nothing_with(unseen4, seen)
    assert len({d.domain for d in unseen4} - {d.domain for d in seen}) >= 8
    assert all(d.url and d.licence for d in unseen4)


def test_the_detector_is_tuned_on_train_dev_and_the_retired_sets_never_on_test_or_the_held_out_set():
    tuning = corpus.tuning_documents(ROOT / "corpus")
    ids = {d.id for d in tuning}
    retired = [d for name in corpus.RETIRED_SETS for d in corpus.read_all(ROOT / "corpus" / name)]
    assert retired and {d.id for d in retired} <= ids
    assert not any(d.split == "test" for d in corpus.read_all(ROOT / "corpus" / "sentences") if d.id in ids)
    assert not ids & {d.id for d in corpus.read_all(ROOT / "corpus" / "unseen4")}
    assert "unseen4" not in corpus.RETIRED_SETS
