"""The extraction rules: cues, polarity, conditions, numbers, documents, drafts (the words -> probability layer)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from ledger.extract import cues, drafts, extract_text, lexicon, numbers, read_sentence
from ledger.extract.document import is_boilerplate, is_heading, read_document
from ledger.models import PredictionFile

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "examples" / "reverse-kissinger.txt"


def one(sentence: str):
    found = read_sentence(sentence)
    assert len(found) == 1, f"not one reading in {sentence!r}: {found}"
    return found[0]


# --- polarity ---------------------------------------------------------------

def test_would_never_is_a_low_probability_for_the_thing_denied():
    found = one("Congress would never allow the sale of fighter jets to Russia.")
    assert found.statement == "Congress will allow the sale of fighter jets to Russia."
    assert found.probability <= 0.05
    assert found.polarity == "denies"


def test_doomed_to_fail_is_a_high_probability_that_it_fails():
    found = one("This strategy is doomed to fail.")
    assert found.statement == "This strategy will fail."
    assert found.probability >= 0.95
    assert found.polarity == "affirms"


def test_hedged_doom_takes_the_hedge_number():
    found = one("The plan is most likely doomed to fail.")
    assert found.statement == "The plan will fail."
    assert found.cue == "most likely"
    assert 0.8 <= found.probability <= 0.95


@pytest.mark.parametrize(
    ("sentence", "statement"),
    [
        ("It is not likely that the ceasefire will hold through the winter.", "The ceasefire will hold through the winter."),
        ("Don't expect the central bank to cut rates in March.", "The central bank will cut rates in March."),
        ("The merger probably won't close this year.", "The merger will close this year."),
    ],
)
def test_negated_estimates_turn_the_probability_around(sentence, statement):
    found = one(sentence)
    assert found.statement == statement
    assert found.polarity == "denies"
    assert 0.2 <= found.probability <= 0.45
    low, high = found.probability_range
    assert low <= found.probability <= high


def test_a_cue_in_quotation_marks_is_still_a_cue():
    found = one("There is ‘zero likelihood’ robotaxis will replace human drivers this decade.")
    assert found.cue == "zero likelihood"
    assert found.probability <= 0.05


def test_unlikely_to_ever_is_low_without_being_a_denial():
    found = one("The treaty is unlikely to ever be ratified.")
    assert found.statement == "The treaty will be ratified."
    assert found.probability == lexicon.entries()["unlikely"].probability
    assert found.polarity == "affirms"


def test_might_not_is_the_possibility_that_it_does_not_happen():
    found = one("They might not win enough seats to govern alone.")
    assert found.statement == "They will win enough seats to govern alone."
    assert found.probability == pytest.approx(1 - lexicon.entries()["might"].probability)


# --- conditionals ----------------------------------------------------------

def test_even_if_keeps_the_condition_out_of_the_statement():
    found = one("Even if the sanctions are lifted, Moscow would not abandon its alliance with Beijing.")
    assert found.conditional
    assert found.condition == "Even if the sanctions are lifted"
    assert found.statement == "Moscow will abandon its alliance with Beijing."
    assert found.probability <= 0.05


def test_trailing_unless_is_a_condition():
    found = one("Inflation is likely to fall below 3% by June, unless oil prices spike again.")
    assert found.condition == "unless oil prices spike again"
    assert found.statement == "Inflation will fall below 3% by June."


def test_cues_inside_the_condition_are_not_the_forecast():
    found = one("If the vote is likely to fail, the speaker will delay it.")
    assert found.condition == "If the vote is likely to fail"
    assert found.cue == "will"


def test_an_unconditional_sentence_has_no_condition():
    found = one("The index will probably rise next year.")
    assert not found.conditional and found.condition is None


# --- explicit numbers ---------------------------------------------------------

@pytest.mark.parametrize(
    ("sentence", "probability", "statement"),
    [
        ("There is a 70% chance that the bill passes the Senate.", 0.7, "The bill passes the Senate."),
        ("We give the incumbent a 70 percent chance of winning.", 0.7, "The incumbent will win."),
        ("Bookmakers offer 3-to-1 odds that the striker will score.", 0.75, None),
        ("The odds are 3 to 1 against a rate cut in June.", 0.25, None),
        ("Forecasters see a 1 in 4 chance of a hurricane landfall.", 0.25, None),
        ("The consensus puts the probability of a recession at 35%.", 0.35, "A recession."),
        ("Our base case (65%) is a soft landing.", 0.65, None),
    ],
)
def test_explicit_numbers_win_over_words(sentence, probability, statement):
    found = one(sentence)
    assert found.probability == pytest.approx(probability)
    assert found.lexicon_source == numbers.SOURCE
    assert found.probability_range == (pytest.approx(probability), pytest.approx(probability))
    if statement:
        assert found.statement == statement


def test_a_number_beats_a_word_in_the_same_sentence():
    found = one("A default is likely: markets price a 60% probability of one by June.")
    assert found.probability == 0.6


def test_a_percentage_range_gives_its_middle_and_its_range():
    found = one("Economists put a 60-70% probability on a recession next year.")
    assert found.probability == pytest.approx(0.65)
    assert found.probability_range == (0.6, 0.7)


def test_a_number_with_a_denial_is_the_probability_of_the_denied_thing():
    found = one("There is an 80% chance that Congress won't pass the budget.")
    assert found.statement == "Congress will pass the budget."
    assert found.probability == pytest.approx(0.2)


@pytest.mark.parametrize(
    "sentence",
    [
        "GDP grew 3% last year and unemployment fell to 4.1%.",
        "The S&P 500 fell 10.1% from its record high.",
        "In November, the agency had its probability at 25%.",
        "In 2007, economists assigned a 38% probability to a recession.",
    ],
)
def test_percentages_that_are_not_forecasts_are_not_read(sentence):
    assert cues.read(sentence) is None


# --- what is not a forecast --------------------------------------------------------

@pytest.mark.parametrize(
    "sentence",
    [
        "The deal was scrapped by one administration and restored by another.",
        "In this post we will look at the strongest case for the strategy.",
        "Nobody knows how bad the season will be.",
        "It depends on the political will of the coalition.",
        "Will the Fed cut rates in June?",
        "The strategy is a goal worth pursuing.",
        "Polls of likely voters show a tight race.",
    ],
)
def test_not_read_as_forecasts(sentence):
    assert cues.read(sentence) is None


def test_subscription_prompts_are_boilerplate():
    assert is_boilerplate("Subscribe to The Cables to keep reading and get 7 days of free access.")


# --- documents ------------------------------------------------------------------

def test_numbered_title_case_lines_are_headings_and_sentences_are_not():
    assert is_heading("2. The U.S. Cannot Replace China's Role for Russia.")
    assert is_heading("## What comes next")
    assert not is_heading("The U.S. cannot and will not fill this role.")


def test_html_is_read_as_text_with_its_metadata():
    page = """<html><head><title>Outlook</title>
    <meta name="author" content="A. Analyst"><meta property="article:published_time" content="2025-03-01T08:00:00Z">
    <script>var x = "this will surely break";</script></head>
    <body><nav>Home will likely be here</nav><h1>The Outlook Will Improve</h1>
    <p>The central bank is <b>very likely</b> to cut rates in June &amp; July.</p>
    <footer>Subscribe to keep reading</footer></body></html>"""
    document = read_document(page)
    assert document.metadata == {"title": "Outlook", "author": "A. Analyst", "published": "2025-03-01"}
    found = extract_text(page)
    assert [c.quote for c in found] == ["The central bank is very likely to cut rates in June & July."]


def test_markdown_front_matter_gives_the_source_and_markup_is_removed():
    text = ("---\ntitle: Rates\nauthor: [A, B]\ndate: 2025-02-25\nurl: https://example.org/rates\n---\n"
            "# Rates outlook\n\nThe Fed will **almost certainly** hold rates in [March](https://fed.gov).\n")
    document = read_document(text)
    assert document.metadata == {"title": "Rates", "author": "A, B", "published": "2025-02-25",
                                 "url": "https://example.org/rates"}
    assert document.paragraphs == ["The Fed will almost certainly hold rates in March."]



@pytest.mark.parametrize("blank", ["\n", " \n", "\t\n", "\r\n", "> \n"])
def test_a_long_run_of_blank_lines_is_read_in_one_pass(blank):
    # 200,000 blank lines: a reader that rescans the run from every line (as the Markdown bullet rule once
    # did) takes many minutes here; a linear one a fraction of a second. Asserted on the result only.
    text = "- The Fed will **almost certainly** hold rates in March.\n" + blank * 200_000 + "> The end is near.\n"
    assert read_document(text).paragraphs == ["The Fed will almost certainly hold rates in March.", "The end is near."]


needs_example = pytest.mark.skipif(not EXAMPLE.exists(), reason="../shared/examples/reverse-kissinger.txt is absent")


@needs_example
def test_the_worked_example_drafts_name_the_strategy_and_carry_a_resolve_by_date():
    found = extract_text(EXAMPLE.read_text(encoding="utf-8"), published=date(2025, 2, 25),
                         title="The Reverse Kissinger")
    strategy = [c for c in found if "doomed to fail" in c.quote]
    assert strategy, "the 'doomed to fail' forecast is not found"
    for candidate in strategy:
        assert "peel Moscow away from Beijing" in candidate.statement
        assert candidate.needs_context is None
        assert candidate.resolve_by is not None and candidate.resolve_by > date(2025, 2, 25)
    quotes = [c.quote for c in found]
    assert not any("Subscribe" in quote or "Keep reading" in quote for quote in quotes)
    assert all(c.resolve_by is not None for c in found)
    assert [c.confidence for c in found] == sorted((c.confidence for c in found), reverse=True)


# --- drafts ------------------------------------------------------------------------

def _draft_text() -> str:
    found = extract_text(EXAMPLE.read_text(encoding="utf-8"), published=date(2025, 2, 25))
    data = drafts.prediction_file([drafts.entry(c) for c in found], {"title": "RK", "url": None})
    return drafts.to_yaml(data, origin="reverse-kissinger.txt", path="predictions/rk.yaml")


@needs_example
def test_the_draft_file_loads_back_and_every_entry_is_an_unloggable_draft():
    text = _draft_text()
    assert text.startswith("# DRAFT predictions")
    file = PredictionFile.model_validate(yaml.safe_load(text))
    assert file.source.title == "RK" and file.source.url is None
    for entry in file.predictions:
        assert entry.draft and entry.resolve_by is not None and entry.criteria
        assert entry.missing() == ["draft: true (review it, then remove the mark)"]
        assert entry.extraction.resolve_by_basis and 0 <= entry.extraction.confidence <= 1
        low, high = entry.extraction.probability_range
        assert low <= entry.probability <= high
        assert entry.quote in EXAMPLE.read_text(encoding="utf-8")


@needs_example
def test_the_draft_file_is_stable_and_one_value_per_line():
    first, second = _draft_text(), _draft_text()
    assert first == second
    assert "probability_range: [" in first
    assert all(len(line) < 400 for line in first.splitlines())


# --- lexicon and speed ------------------------------------------------------------

def test_every_lexicon_row_is_a_consistent_probability_with_a_source():
    for entry in lexicon.entries().values():
        assert 0 <= entry.low <= entry.probability <= entry.high <= 1, entry
        assert entry.kind in (lexicon.ESTIMATE, lexicon.ASSERTION, lexicon.RATING, lexicon.DEFAULT)
        assert entry.source.strip()


def test_the_lexicon_prefers_the_standards_over_surveys():
    assert lexicon.entries()["likely"].source.startswith("ICD 203")
    assert lexicon.entries()["highly likely"].source.startswith("UK PHIA")
    assert lexicon.entries()["we believe"].source.startswith("Kent")
    assert "CAPphrase" in lexicon.entries()["little chance"].source
