"""Peer exports (Fatebook, PredictionBook, Metaculus, Manifold, Good Judgment, wide sheets) read exactly.

Every fixture under tests/data/peers is written in the peer's real export
layout (see each reader's docstring for the source it follows); nothing is
converted by hand before reading.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ledger.peers import COLUMNS, FORMATS, PeerFormatError, detect_format, read
from ledger.peers.rows import parse_time, renormalise

DATA = Path(__file__).parent / "data" / "peers"


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def rows(result, **where):
    """The table's rows (as dicts) matching every ``column=value`` given."""
    return [r for r in result.table.to_pylist() if all(r[k] == v for k, v in where.items())]


def one(result, **where) -> dict:
    found = rows(result, **where)
    assert len(found) == 1, found
    return found[0]


FIXTURES = {
    "fatebook-forecasts.csv": "fatebook",
    "predictionbook-my_predictions.json": "predictionbook",
    "pb-dump/predictions.csv": "predictionbook",
    "pb-dump/responses.csv": "predictionbook",
    "metaculus-download.zip": "metaculus",
    "metaculus-posts.json": "metaculus",
    "manifold/manifold-contracts-20250101.json": "manifold",
    "manifold/manifold-bets-20250101.json": "manifold",
    "cultivate/questions.json": "cultivate",
    "cultivate/prediction_sets.json": "cultivate",
    "acx-2023-blind-mode.csv": "wide",
}


@pytest.mark.parametrize("name, fmt", FIXTURES.items())
def test_each_fixture_is_detected_as_its_format_and_no_other(name, fmt):
    path = DATA / name
    assert detect_format(path) == fmt
    assert [n for n, module in FORMATS.items() if module.detect(path)] == [fmt]


def test_ledger_files_and_strangers_are_no_peer_format(tmp_path):
    ours = tmp_path / "track-record.csv"
    ours.write_text("statement,probability,resolve_by,question_key\n1. first,0.3,2027-01-01,a\n")
    notes = tmp_path / "notes.json"
    notes.write_text(json.dumps({"questions": ["not a Good Judgment document"]}))
    assert detect_format(ours) is None
    assert detect_format(notes) is None
    with pytest.raises(PeerFormatError, match="not in a format the ledger knows"):
        read(ours)


def test_every_reader_returns_the_import_columns():
    result = read(DATA / "fatebook-forecasts.csv")
    assert result.table.schema.equals(COLUMNS)
    assert str(result.table.schema.field("made_at").type) == "timestamp[us, tz=UTC]"


# Fatebook ------------------------------------------------------------------------------------------------

def test_fatebook_groups_by_title_and_creation_time_and_keeps_each_forecast():
    result = read(DATA / "fatebook-forecasts.csv")
    assert result.format == "fatebook"
    office = "Will the Lisbon office open before July 2024?"
    per_question = sorted(len(rows(result, question_key=k)) for k in {r["question_key"] for r in rows(result, statement=office)})
    assert per_question == [1, 3]  # the title asked twice is two questions
    ben = one(result, forecaster="Ben Ortiz")
    assert ben["probability"] == 0.4 and ben["outcome"] == "yes"
    assert ben["made_at"] == utc(2024, 1, 4, 18, 40, 21)
    assert ben["resolve_by"] == date(2024, 6, 30) and ben["resolved_at"] == utc(2024, 6, 12, 16, 2, 33)
    assert ben["tags"] == ["work", "office"] and ben["criteria"] == "Counts if the lease is signed and\nstaff badge in."
    # unpadded seconds: 10:05:9 is 10:05:09
    assert one(result, forecaster="Ana Souza", probability=0.75)["made_at"] == utc(2024, 3, 1, 10, 5, 9)
    assert one(result, statement=office, probability=0.2)["outcome"] is None


def test_fatebook_ambiguous_is_annulled_and_options_are_yes_no_questions():
    result = read(DATA / "fatebook-forecasts.csv")
    vendor = one(result, statement="Will the vendor ship v2 by Q3?")
    assert vendor["outcome"] == "annulled" and vendor["resolution_note"] == "resolved AMBIGUOUS on Fatebook"
    offsite = {r["statement"]: r for r in result.table.to_pylist() if r["statement"].startswith("Which city")}
    assert {s: (r["probability"], r["outcome"]) for s, r in offsite.items()} == {
        "Which city hosts the 2024 offsite? — Lisbon": (0.5, "yes"),
        "Which city hosts the 2024 offsite? — Berlin": (0.3, "no"),
        "Which city hosts the 2024 offsite? — Oslo": (0.2, "no"),
    }
    assert len({r["question_key"] for r in offsite.values()}) == 3
    assert "each option of 1 multiple-choice question imported as its own yes/no question, as Fatebook scores them" \
        in result.notes
    assert any("Brier" in note for note in result.notes)


def test_fatebook_multiple_choice_with_every_option_no_is_flagged(tmp_path):
    text = (DATA / "fatebook-forecasts.csv").read_text().replace('0.5,2024-01-15 11:00:4,"Ana Souza",2024-01-15 10:58:30,2024-04-01 00:00:0,"YES"',
                        '0.5,2024-01-15 11:00:4,"Ana Souza",2024-01-15 10:58:30,2024-04-01 00:00:0,"NO"')
    assert text != (DATA / "fatebook-forecasts.csv").read_text()
    path = tmp_path / "fatebook-forecasts.csv"
    path.write_text(text)
    notes = read(path).notes
    assert any(n.startswith("1 multiple-choice question resolved NO on every option") for n in notes)


# PredictionBook ------------------------------------------------------------------------------------------

def test_predictionbook_json_responses_become_forecasts_and_comments_are_skipped():
    result = read(DATA / "predictionbook-my_predictions.json")
    assert result.format == "predictionbook"
    starship = rows(result, question_key="predictionbook:194501")
    assert [(r["forecaster"], r["probability"], r["made_at"]) for r in starship] == [
        ("Ana Souza", 0.3, utc(2019, 3, 2, 8, 15)),
        ("gwern", 0.2, utc(2019, 6, 10, 19, 45, 12)),
    ]
    assert starship[1]["note"] == "Raptor tests keep slipping"
    assert all(r["outcome"] == "no" and r["resolved_at"] == utc(2020, 1, 2, 10) for r in starship)
    assert starship[0]["resolve_by"] == date(2019, 12, 31)
    assert starship[0]["source_url"] == "https://predictionbook.com/predictions/194501"
    assert one(result, question_key="predictionbook:195777")["outcome"] == "yes"
    assert one(result, question_key="predictionbook:210333")["outcome"] is None
    assert "skipped 1 comment-only response (no confidence)" in result.notes


def test_predictionbook_withdrawn_is_annulled_not_dropped():
    result = read(DATA / "predictionbook-my_predictions.json")
    bakery = one(result, question_key="predictionbook:198020")
    assert bakery["outcome"] == "annulled" and bakery["resolution_note"] == "withdrawn on PredictionBook"
    assert "1 withdrawn prediction imported as annulled" in result.notes


@pytest.mark.parametrize("name", ["predictions.csv", "responses.csv"])
def test_predictionbook_dump_pairs_its_two_files_from_either(name):
    result = read(DATA / "pb-dump" / name)
    assert [(r["question_key"], r["forecaster"], r["probability"], r["made_at"], r["outcome"])
            for r in result.table.to_pylist()] == [
        ("predictionbook:194501", "Ana Souza", 0.3, utc(2019, 3, 2, 8, 15), "no"),
        ("predictionbook:194501", "gwern", 0.2, utc(2019, 6, 10, 19, 45, 12), "no"),
        ("predictionbook:195777", "Ana Souza", 0.65, utc(2019, 5, 20, 21, 30, 45), "yes"),
        ("predictionbook:210333", "Ana Souza", 0.4, utc(2023, 11, 1, 10), None),
    ]
    assert one(result, question_key="predictionbook:210333")["resolve_by"] == date(2026, 6, 30)
    assert "skipped 1 comment-only response (no confidence)" in result.notes


def test_predictionbook_dump_without_its_partner_says_so(tmp_path):
    shutil.copy(DATA / "pb-dump" / "responses.csv", tmp_path / "responses.csv")
    with pytest.raises(PeerFormatError, match="needs its predictions file beside it"):
        read(tmp_path / "responses.csv")


def test_predictionbook_site_csv_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "my_predictions.csv"
    path.write_text("created_at,creator_id,creator_label,deadline,description_with_group,description,group_id,id,"
                    "mean_confidence,outcome\n2019-03-02 08:15:00 UTC,4211,Ana,2019-12-31 23:00:00 UTC,X,X,,1,25,false\n")
    assert detect_format(path) == "predictionbook"
    with pytest.raises(PeerFormatError, match="my_predictions JSON"):
        read(path)


# Metaculus -----------------------------------------------------------------------------------------------

def test_metaculus_download_users_and_aggregates_and_skips_numeric():
    result = read(DATA / "metaculus-download.zip")
    assert result.format == "metaculus"
    assert {r["question_key"] for r in result.table.to_pylist()} == {"metaculus:101", "metaculus:205", "metaculus:412"}
    ana = rows(result, question_key="metaculus:101", forecaster="ana_souza")
    assert [(r["probability"], r["made_at"]) for r in ana] == [
        (0.35, utc(2024, 1, 3, 8, 0, 0, 250000)), (0.7, utc(2024, 3, 10, 19, 30))]
    assert ana[0]["outcome"] == "yes" and ana[0]["resolved_at"] == utc(2024, 6, 6, 12, 15)
    assert ana[0]["resolve_by"] == date(2024, 6, 5)  # the scheduled close: the zip has no resolve date
    assert ana[0]["source_url"] == "https://www.metaculus.com/questions/100/ecb-rate-cut-june-2024/"
    assert ana[0]["tags"] == ["Economy & Business"]
    community = rows(result, question_key="metaculus:101", forecaster="metaculus-recency_weighted")
    assert [r["probability"] for r in community] == [0.35, 0.45, 0.62]
    assert one(result, forecaster="metaculus-unweighted")["probability"] == 0.625
    uk = one(result, question_key="metaculus:205", forecaster="ana_souza")
    assert uk["options"] == ["Labour", "Conservative", "Other"] and uk["probabilities"] == [0.6, 0.35, 0.05]
    assert uk["outcome"] == "Labour" and uk["probability"] is None
    assert one(result, question_key="metaculus:412")["outcome"] == "annulled"
    assert "skipped 1 numeric, discrete or date question" in result.notes
    assert "skipped 2 forecasts on them" in result.notes
    assert any(n.startswith("1 forecast ended on Metaculus (withdrawn or expired)") for n in result.notes)
    assert any("scheduled close time" in n for n in result.notes)


def test_metaculus_unzipped_csvs_read_like_the_zip(tmp_path):
    import zipfile

    with zipfile.ZipFile(DATA / "metaculus-download.zip") as archive:
        archive.extractall(tmp_path)
    assert detect_format(tmp_path / "forecast_data.csv") == "metaculus"
    assert read(tmp_path / "forecast_data.csv").table.equals(read(DATA / "metaculus-download.zip").table)


def test_metaculus_posts_json_epoch_seconds_and_aggregations():
    result = read(DATA / "metaculus-posts.json", forecaster="ana")
    mine = rows(result, question_key="metaculus:101", forecaster="ana")
    assert [(r["probability"], r["made_at"]) for r in mine] == [
        (0.35, utc(2024, 1, 3, 8, 0, 0, 250000)), (0.7, utc(2024, 3, 10, 19, 30))]
    assert mine[0]["resolve_by"] == date(2024, 6, 6) and mine[0]["criteria"].startswith("Resolves Yes")
    community = rows(result, forecaster="metaculus-recency_weighted")
    assert [(r["probability"], r["made_at"]) for r in community] == [
        (0.35, utc(2024, 1, 4, 9)), (0.45, utc(2024, 2, 1, 12))]
    uk = one(result, question_key="metaculus:205")
    assert uk["forecaster"] == "ana" and uk["probabilities"] == [0.6, 0.35, 0.05] and uk["outcome"] == "Labour"
    assert "skipped 1 multiple-choice aggregate entry without forecast_values (the API's history gives only " \
           "per-option medians)" in result.notes
    assert "skipped 1 numeric, discrete or date question" in result.notes


def test_metaculus_posts_without_a_forecaster_leave_it_blank_and_say_so():
    result = read(DATA / "metaculus-posts.json")
    assert rows(result, question_key="metaculus:205")[0]["forecaster"] is None
    assert "3 of my_forecasts name no forecaster: they take --forecaster" in result.notes


# Manifold ------------------------------------------------------------------------------------------------

def test_manifold_market_forecasts_are_prices_after_each_bet():
    result = read(DATA / "manifold" / "manifold-contracts-20250101.json")
    assert result.format == "manifold"
    gpt5 = rows(result, question_key="manifold:gpt5mkt")
    assert [(r["probability"], r["made_at"]) for r in gpt5] == [
        (0.5, utc(2024, 1, 1, 1)),  # opening probability at creation
        (0.62, utc(2024, 1, 3)),
        (0.41, utc(2024, 2, 10, 0, 0, 1, 500000)),  # ms epoch kept to the millisecond
        (0.12, utc(2024, 10, 27)),
    ]
    assert {r["forecaster"] for r in result.table.to_pylist()} == {"manifold-market"}
    assert gpt5[0]["outcome"] == "no" and gpt5[0]["resolved_at"] == utc(2025, 1, 1, 0, 0, 12, 345000)
    assert gpt5[0]["resolve_by"] == date(2024, 12, 31)
    assert gpt5[0]["source_url"] == "https://manifold.markets/AnaSouza/will-gpt5-be-released-before-2025"
    # the final price (0.0 after resolving NO) is never a forecast
    assert all(r["probability"] not in (0.0, 1.0) for r in result.table.to_pylist())
    assert "skipped 1 redemption (they move no price)" in result.notes
    assert "skipped 1 unfilled limit order" in result.notes
    assert "skipped 1 numeric, poll or bounty market" in result.notes
    assert "skipped 2 bets on markets not imported or not in the markets file" in result.notes


def test_manifold_mkt_and_cancel_are_annulled():
    result = read(DATA / "manifold" / "manifold-bets-20250101.json")
    mkt = rows(result, question_key="manifold:mktres")
    assert {(r["outcome"], r["resolution_note"]) for r in mkt} == {("annulled", "resolved MKT at 63% on Manifold")}
    assert [r["probability"] for r in mkt] == [0.4, 0.55, 0.63]
    cancelled = rows(result, question_key="manifold:cancelled")
    assert {r["outcome"] for r in cancelled} == {"annulled"}
    assert cancelled[0]["resolved_at"] == utc(2024, 2, 10)


def test_manifold_multiple_choice_answers_are_yes_no_questions():
    result = read(DATA / "manifold" / "manifold-bets-20250101.json")
    pog = rows(result, question_key="manifold:tourmkt:ans-pog")
    assert pog[0]["statement"] == "Who wins the 2024 Tour de France? — Tadej Pogačar"
    assert [(r["probability"], r["outcome"]) for r in pog] == [(0.6, "yes"), (0.75, "yes")]
    assert [(r["probability"], r["outcome"]) for r in rows(result, question_key="manifold:tourmkt:ans-vin")] == [
        (0.32, "no")]


def test_manifold_markets_alone_name_the_missing_bets(tmp_path):
    shutil.copy(DATA / "manifold" / "manifold-contracts-20250101.json", tmp_path / "markets.json")
    with pytest.raises(PeerFormatError, match="needs its bets file"):
        read(tmp_path / "markets.json")


def test_a_detected_file_missing_a_field_is_one_clear_error(tmp_path):
    markets = json.loads((DATA / "manifold" / "manifold-contracts-20250101.json").read_text())
    del markets[0]["question"]
    (tmp_path / "markets.json").write_text(json.dumps(markets))
    shutil.copy(DATA / "manifold" / "manifold-bets-20250101.json", tmp_path / "bets.json")
    with pytest.raises(PeerFormatError, match=r"markets.json is not a complete manifold export \(KeyError: 'question'\)"):
        read(tmp_path / "markets.json")


# Good Judgment Open / Cultivate --------------------------------------------------------------------------

def test_cultivate_prediction_sets_with_rounding_renormalised():
    result = read(DATA / "cultivate" / "prediction_sets.json")
    assert result.format == "cultivate"
    guid = "6fb38cdbc0340cc7dba954afaefc70b0869f91bb"
    snhr = rows(result, question_key="cultivate:15", forecaster=guid)
    assert snhr[0]["options"] == ["Less than 10", "Between 10 and 20, inclusive", "More than 20"]
    assert snhr[0]["probabilities"] == pytest.approx([1 / 3] * 3, abs=1e-12)
    assert sum(snhr[0]["probabilities"]) == pytest.approx(1, abs=1e-12)
    assert snhr[1]["probabilities"] == [0.25, 0.45, 0.3]
    assert snhr[1]["made_at"] == utc(2018, 1, 28, 19, 2, 11)  # written with -05:00
    assert snhr[0]["outcome"] == "Between 10 and 20, inclusive" and snhr[0]["note"] == "no idea yet"
    assert any("renormalised" in n and n.startswith("2 forecasts") for n in result.notes)


def test_cultivate_binary_consensus_voided_and_late_forecasts():
    result = read(DATA / "cultivate" / "questions.json")
    haircut = rows(result, question_key="cultivate:10")
    assert [(r["forecaster"], r["probability"]) for r in haircut] == [
        ("cc4c30df5539f534690f0a36209738ce78a04180", 0.05), ("cultivate-consensus", 0.3)]
    assert haircut[0]["outcome"] == "no" and haircut[0]["resolve_by"] == date(2018, 1, 27)
    assert haircut[0]["resolution_note"] == "No reporting of a haircut was found."
    assert "Clarification (2018-01-22): A trim counts as a haircut." in haircut[0]["criteria"]
    assert "skipped 1 prediction set made after an answer's correctness was known" in result.notes
    assert {r["outcome"] for r in rows(result, question_key="cultivate:18")} == {"annulled"}


# Wide contest sheets -------------------------------------------------------------------------------------

def test_wide_sheet_one_forecast_per_filled_cell():
    result = read(DATA / "acx-2023-blind-mode.csv", resolve_by="2024-01-01", made_at="2023-01-10T23:59:00-08:00")
    assert result.format == "wide"
    assert result.table.num_rows == 14  # 3 entrants × 5 questions, one skipped; the blank trailing row ignored
    putin = rows(result, question_key="wide:acx-2023-blind-mode:1")
    assert putin[0]["statement"] == "Will Vladimir Putin be president of Russia on January 1, 2024?"
    assert [(r["forecaster"], r["probability"]) for r in putin] == [("1001", 0.93), ("1002", 0.97), ("1003", 0.85)]
    assert putin[0]["made_at"] == utc(2023, 1, 11, 7, 59) and putin[0]["resolve_by"] == date(2024, 1, 1)
    assert "columns not imported: Timestamp, Age, Are you a superforecaster?, category" in result.notes
    assert "probabilities read as percent (values above 1)" in result.notes


def test_wide_sheet_needs_a_resolve_by():
    with pytest.raises(PeerFormatError, match="pass --resolve-by"):
        read(DATA / "acx-2023-blind-mode.csv")


# Shared conversions --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2024-01-01T10:00:00-05:00", utc(2024, 1, 1, 15)),
    ("2024-01-01T10:00:00Z", utc(2024, 1, 1, 10)),
    ("2024-01-01 10:00:00", utc(2024, 1, 1, 10)),
    ("2015-01-02 03:04:05 UTC", utc(2015, 1, 2, 3, 4, 5)),
    ("2024-03-01 10:05:9", utc(2024, 3, 1, 10, 5, 9)),
    ("2024-01-05 12:34:56.123456+00:00", utc(2024, 1, 5, 12, 34, 56, 123456)),
])
def test_times_are_utc_with_offsets_honoured_and_naive_as_utc(text, expected):
    assert parse_time(text) == expected


def test_renormalise_only_divides_out_rounding():
    assert renormalise([0.3333, 0.3333, 0.3333]) == ([1 / 3, 1 / 3, 1 / 3], True)
    assert renormalise([0.25, 0.75]) == ([0.25, 0.75], False)
    assert renormalise([0.5, 0.3]) == ([0.5, 0.3], False)  # not rounding: left for the import to refuse


def test_every_fixture_imports_through_the_ledger(cli, tmp_path):
    """Each reader's table goes through today's `ledger import` unchanged (JSONL is the bridge until --from)."""
    options = {"metaculus-posts.json": {"forecaster": "ana"},
               "acx-2023-blind-mode.csv": {"resolve_by": "2024-01-01", "made_at": "2023-01-10T23:59:00Z"}}
    expected = {}
    for i, name in enumerate(["fatebook-forecasts.csv", "predictionbook-my_predictions.json", "metaculus-download.zip",
                              "manifold/manifold-bets-20250101.json", "cultivate/questions.json",
                              "acx-2023-blind-mode.csv"]):
        result = read(DATA / name, **options.get(name, {}))
        bridge = tmp_path / f"peer{i}.jsonl"
        bridge.write_text("".join(json.dumps({k: v.isoformat() if hasattr(v, "isoformat") else v
                                              for k, v in row.items() if v is not None}) + "\n"
                                  for row in result.table.to_pylist()))
        out = cli("import", bridge)
        expected[name] = result.table.num_rows
        assert f"imported {result.table.num_rows} forecasts" in out.stderr
    total = cli("sql", "SELECT count(*) AS n FROM forecasts", "--csv").stdout.split()[-1]
    assert int(total) == sum(expected.values())


def test_a_check_on_a_peers_row_names_the_file_line_it_came_from(cli, tmp_path):
    """The ledger's own checks (here a probability over 1) run on the converted rows; the message names the
    export's physical line, not the row's number in the conversion (the first record spans lines 2–3)."""
    text = (DATA / "fatebook-forecasts.csv").read_text()
    bad = text.replace('"Ben Ortiz",0.4,2024-01-04 18:40:21', '"Ben Ortiz",1.4,2024-01-04 18:40:21', 1)
    assert bad != text
    path = tmp_path / "fatebook-forecasts.csv"
    path.write_text(bad)
    refused = cli("import", path, ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.endswith("fatebook-forecasts.csv line 4: probability 1.4 is not between 0 and 1\n")

