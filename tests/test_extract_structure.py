"""The parse-based structural rules, the calibrated cues, resolve-by proposals and self-contained statements,
each on sentences written for the purpose."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.extract import cues, features, horizon, lexicon, numbers, read_sentence, statement, structure, syntax


def parse(text: str):
    return syntax.parse([text])[0]


# --- voice and scope (structure) ---------------------------------------------------

@pytest.mark.parametrize(("sentence", "kind"), [
    ("Analysts are debating whether the bank will probably cut rates.", "whether"),
    ("The senator, who will likely retire next year, spoke on Monday.", "relative"),
    ("Markets cling to the hope that the central bank will probably cut rates.", "expectation"),
    ("Economists said that the central bank will probably cut rates.", "expectation"),
])
def test_a_cue_inside_an_embedded_clause_is_not_in_the_main_clause(sentence, kind):
    reading = cues.read(sentence)
    assert structure.embedded_cue(parse(sentence), reading.cue_start) == kind


def test_a_cue_in_the_main_clause_is_not_embedded():
    sentence = "The bank will probably cut rates in June."
    assert structure.embedded_cue(parse(sentence), cues.read(sentence).cue_start) is None


@pytest.mark.parametrize(("sentence", "reported"), [
    ("The agency forecasts that prices will fall next year.", True),
    ("Economists at the bank said growth would slow.", True),
    ("Growth will slow next year, according to the agency.", True),
    ("We forecast that prices will fall next year.", False),
    ("Prices will fall next year.", False),
])
def test_a_reporting_or_forecasting_verb_with_a_third_party_subject_is_reported(sentence, reported):
    assert structure.reported_by_third_party(parse(sentence)) is reported


@pytest.mark.parametrize(("sentence", "kind"), [
    ("The pitch looks flat, but Ravi Shastri believes England will win the series.", "named"),
    ("Oil demand is soft, and Goldman Sachs now expects two more cuts this year.", "named"),
    ("Interest in the sport is rising and the analysts expect ticket prices to climb.", "group"),
    ("The chairman of selectors has confirmed that the captain will miss two matches.", "group"),
    ("Prices will climb and we expect more buyers next year.", None),
    ("The series will go to a fifth match.", None),
])
def test_a_reporting_verb_in_any_clause_with_a_third_party_subject_is_attributed(sentence, kind):
    assert structure.attributed_clause(parse(sentence)) == kind


@pytest.mark.parametrize(("sentence", "revised"), [
    ("Goldman Sachs raised its copper price forecast for 2025 to $10,160 per ton.", True),
    ("IMF raises global growth forecast", True),
    ("OPEC kept its outlook for the oil market unchanged.", True),
    ("We raise our premium growth estimate to 7.0% for 2024.", False),
    ("Copper prices will rise to $11,000 a tonne next year.", False),
])
def test_a_revision_of_someone_elses_forecast_is_news_of_it(sentence, revised):
    assert structure.revises_forecast(parse(sentence)) is revised
    assert ("revises_forecast" in features.features(sentence, parse(sentence), date(2024, 1, 1))) is revised


@pytest.mark.parametrize(("sentence", "kind"), [
    ("The report added that demand will likely grow by 0.2 million bpd in 2024.", "group"),
    ("The fund's latest outlook says growth will reach 3.2 percent in 2025.", "group"),
    ("Our report says growth will reach 3.2 percent in 2025.", None),
])
def test_a_document_that_reports_or_forecasts_speaks_for_a_third_party(sentence, kind):
    assert structure.attributed_clause(parse(sentence)) == kind


@pytest.mark.parametrize(("sentence", "dated"), [
    ("The river will crest above flood stage in March.", True),
    ("Rates will fall by the end of next year.", True),
    ("The river crested above flood stage in March 2019.", False),
    ("The river will crest above flood stage.", False),
])
def test_a_future_time_expression_is_a_feature_without_the_entity_recogniser(sentence, dated):
    found = features.features(sentence, parse(sentence), date(2024, 1, 10))
    assert ("time_expression" in found) is dated


def test_a_quotation_over_several_lines_and_its_attributed_neighbours_are_seen():
    texts = ["Asked about the final, the coach was blunt.", "“We will win it.", "Nobody can stop us,” he said.",
             "The final will be played on Sunday.", "Rain will delay the start."]
    rows = features.for_document(texts, syntax.parse(texts), date(2026, 5, 1), None)
    assert [("quote:inside" in row) for row in rows] == [False, True, True, False, False]
    assert [("neighbour:reported" in row) for row in rows] == [False, True, False, True, False]


def test_second_person_subjects_are_generic():
    assert structure.generic_you(parse("You will pay more for petrol if you drive in the city."))
    assert not structure.generic_you(parse("Drivers will pay more for petrol next year."))


def test_negative_quantifier_subjects_are_seen():
    assert structure.negative_quantifier_subject(parse("No candidate will win a majority in the first round."))
    assert structure.negative_quantifier_subject(parse("Few analysts will change their forecasts."))
    assert not structure.negative_quantifier_subject(parse("The candidate will win a majority."))


def test_a_first_person_future_the_author_controls_is_a_plan():
    assert structure.own_plan(parse("We will publish our final ratings on Monday."))
    assert not structure.own_plan(parse("We expect the party will win the seat."))


def test_a_forecast_reported_in_the_past_tense_is_a_past_report():
    assert structure.past_report(parse("The staff projected that growth would slow."))
    assert not structure.past_report(parse("The staff projects that growth will slow."))


@pytest.mark.parametrize(("line", "kind"), [
    ("Ohio Toss-up Leans GOP", "rating"),
    ("Arizona moves from Toss Up to Leans Democratic", "rating"),
    ("Arsenal to win the league", "to-win"),
    ("85: Average home prices rise during the year", "probability-prefix"),
    ("Rookie of the Year: Marvin Harrison Jr.", "verbless"),
    ("Prices will fall next year.", "sentence"),
    ("Should win: Oppenheimer", "should-win"),
    ("Will win: Oppenheimer", "sentence"),
    ("My predictions on politics, economics and AI for the year", "announces"),
    ("Latest Predictions from BoxOffice.com:", "announces"),
    ("NFL predictions: Chiefs win the Super Bowl", "sentence"),
    ("!", "no-words"),
])
def test_line_types_for_headlines_and_rating_lines(line, kind):
    assert structure.line_type(line, parse(line)) == kind


# --- calibrated cues -----------------------------------------------------------------

def test_an_unhedged_will_reads_as_very_likely_not_certain():
    reading = cues.read("The central bank will cut rates in June.")
    assert (reading.probability, reading.low, reading.high) == (0.8, 0.7, 0.9)
    assert "unhedged 'will'" in reading.source and "0.80-0.95" in reading.source


def test_the_authors_hedging_verb_lowers_will():
    unhedged = cues.read("The central bank will cut rates in June.")
    for sentence in ("We expect the central bank will cut rates in June.", "I think the central bank will cut in June.",
                     "We forecast the central bank will cut rates in June."):
        reading = cues.read(sentence)
        assert reading.probability == 0.75 < unhedged.probability, sentence
        assert reading.source.startswith("corpus/ train split")


@pytest.mark.parametrize(("line", "probability"), [
    ("85: Average home prices rise during the year", 0.85),
    ("70%: The Fed cuts rates twice", 0.7),
    ("Arsenal to win the league", 0.65),
    ("Max Verstappen to take the title", 0.65),
    ("My pick: the Chiefs in six.", 0.65),
    ("I'm taking the Celtics to win it all.", 0.65),
])
def test_list_probabilities_and_picks(line, probability):
    [found] = read_sentence(line)
    assert found.probability == probability


@pytest.mark.parametrize("line", ["1: The Fed will cut rates.", "22 Republicans and 13 Democrats will be up in 2026.",
                                  "Arsenal need to win the league."])
def test_a_numbered_item_a_count_or_a_need_is_not_a_list_probability_or_a_pick(line):
    [found] = read_sentence(line)
    assert found.lexicon_source not in (numbers.SOURCE, lexicon.entries()["is the pick"].source)


def test_a_forecast_with_no_cue_reads_as_a_call_not_a_certainty():
    [found] = read_sentence("Buffalo takes a step back this year.")
    assert (found.probability, found.cue) == (0.75, "")
    assert found.lexicon_source.startswith("corpus/ train split: 75 forecasts with no cue")


@pytest.mark.parametrize(("line", "low", "high"), [
    ("Ohio Toss-up Leans GOP", 0.6, 0.8),
    ("Maine moves from Leans Republican to Toss-up", 0.45, 0.55),
    ("Colorado from Leans to Likely Democratic", 0.8, 0.95),
    ("Massachusetts moves from likely R to safe R", 0.95, 0.99),
])
def test_a_rating_line_reads_its_current_rating(line, low, high):
    reading = cues.read(line)
    assert (reading.low, reading.high) == (low, high)
    assert "rating scale" in reading.source


def test_less_than_n_percent_is_a_range_below_n():
    [found] = numbers.find("There is less than a 5% chance of a default.")
    assert (found.low, found.high) == (0.0, 0.05)


def test_fractional_odds_are_read_as_odds_against():
    [found] = numbers.find("Ladbrokes has the record being broken at 4/6.")
    assert found.probability == 0.6
    [found] = numbers.find("The hottest Christmas on record is priced at 2/1.")
    assert found.probability == pytest.approx(1 / 3, abs=1e-3)


def test_a_threshold_inside_the_proposition_is_not_a_probability():
    assert numbers.find("Core inflation will be below 3% by the end of 2024.") == []
    assert numbers.find("Brent will average $93 in 2024.") == []


def test_several_forecasts_in_one_sentence_are_several_readings():
    readings = cues.read_all("Seat loss very likely. Majority very unlikely.")
    assert [(r.low, r.high) for r in readings] == [(0.8, 0.95), (0.05, 0.2)]
    assert len(read_sentence("Democrats have a 16 percent chance of the majority, and there is a 24 percent "
                             "chance the chamber ends up tied.")) == 2


def test_every_new_band_names_its_source():
    for phrase in ("will", "we expect", "favorites", "should", "rating lean"):
        assert lexicon.entries()[phrase].source


# --- resolve-by and self-contained statements ---------------------------------------

PUBLISHED = date(2024, 3, 12)


@pytest.mark.parametrize(("sentence", "when", "basis"), [
    ("Inflation will fall this year.", date(2024, 12, 31), "this year"),
    ("Rates will fall next year.", date(2025, 12, 31), "next year"),
    ("Emissions will peak by 2030.", date(2030, 12, 31), "2030"),
    ("Prices will rise in the second quarter of 2024.", date(2024, 6, 30), "second quarter of 2024"),
    ("Prices will rise in the coming weeks.", date(2024, 5, 7), "in the coming weeks"),
    ("The bank will cut in June.", date(2024, 6, 30), "in June"),
    ("Coal will be gone by the end of the decade.", date(2029, 12, 31), "by the end of the decade"),
    ("Sales will recover in Q3.", date(2024, 9, 30), "in Q3"),
    ("Sales will recover in Q1.", date(2024, 3, 31), "in Q1"),  # the quarter under way
    ("Dune will top the chart at $40 million on its opening weekend.", date(2024, 3, 19), "opening weekend"),
    ("The film should gross $8 million today.", date(2024, 3, 13), "today"),
    ("Democrats will hold the Senate on Election Day.", date(2024, 11, 5), "Election Day"),
    ("Inflation will ease over the rest of the year.", date(2024, 12, 31), "the rest of the year"),
    ("Inflation would return to 2 percent over the projection period.", date(2027, 12, 31), "the projection period"),
])
def test_time_expressions_give_a_resolve_by_relative_to_publication(sentence, when, basis):
    proposed = horizon.resolve_by(sentence, PUBLISHED)
    assert (proposed.when, proposed.basis, proposed.default) == (when, basis, False)


def test_no_time_expression_gives_the_stated_default_horizon_and_a_flag():
    proposed = horizon.resolve_by("The strategy will fail.", PUBLISHED)
    assert proposed.default and proposed.when == date(2025, 3, 12)
    assert "default horizon" in proposed.basis
    assert horizon.resolve_by("The strategy will fail.", None).when is None


def test_the_us_general_election_is_the_tuesday_after_the_first_monday_of_november_in_an_even_year():
    assert horizon.election_day(date(2018, 10, 18)) == date(2018, 11, 6)
    assert horizon.election_day(date(2025, 1, 1)) == date(2026, 11, 3)
    assert horizon.election_day(date(2024, 11, 6)) == date(2026, 11, 3)


def test_a_sentence_with_no_time_takes_the_nearest_frame_its_context_gives_and_says_where():
    context = [("the previous sentence", "Prices rose last year."), ("the title", "The outlook for next year")]
    proposed = horizon.resolve_by("The bank will cut rates.", PUBLISHED, context)
    assert (proposed.when, proposed.default) == (date(2025, 12, 31), False)
    assert proposed.basis == "'next year' in the title"
    own = horizon.resolve_by("The bank will cut in June.", PUBLISHED, context)
    assert own.basis == "in June"  # the sentence's own time wins over its context
    nowadays = horizon.resolve_by("The strategy will fail.", PUBLISHED, [("the next sentence", "The threat today is real.")])
    assert nowadays.default  # "today" in a neighbour is "nowadays", not the day
    assert horizon.resolve_by("Friendly overtures could give way to tomorrow’s containment.", PUBLISHED).default


def test_the_default_horizon_is_a_parameter_and_stays_flagged():
    proposed = horizon.resolve_by("The strategy will fail.", PUBLISHED, [("the title", "Why it fails")], 90)
    assert (proposed.when, proposed.default) == (date(2024, 6, 10), True)
    assert "90 days" in proposed.basis


def test_extract_dates_a_list_item_from_the_list_s_heading_line():
    from ledger.extract import extract

    found = extract(["My predictions for 2025.", "Champions: Arsenal.", "Relegated: Ipswich, Southampton."],
                    published=date(2024, 8, 10), min_confidence=0.0)
    dated = {candidate.quote: (candidate.resolve_by, candidate.resolve_by_basis) for candidate in found}
    assert dated["Champions: Arsenal."] == (date(2025, 12, 31), "'2025' in the previous sentence")


def test_this_strategy_is_named_from_the_preceding_sentence():
    previous = [parse("The most charitable reading is that it is a calculated attempt to split the alliance "
                      "by offering trade concessions.")]
    said, unresolved = statement.self_contained("This strategy will fail.", previous)
    assert said == ("This strategy (a calculated attempt to split the alliance by offering trade concessions) "
                    "will fail.")
    assert unresolved is None


def test_an_unresolvable_reference_is_marked_needs_context():
    said, unresolved = statement.self_contained("This plan will fail.", [parse("The weather was fine.")])
    assert said == "This plan will fail."
    assert unresolved == "'This plan' is not named in the statement: say what it refers to"


def test_it_is_resolved_from_the_previous_subject():
    said, unresolved = statement.self_contained("It will pass the Senate.", [parse("The farm bill cleared the House.")])
    assert said == "It (The farm bill) will pass the Senate." and unresolved is None
