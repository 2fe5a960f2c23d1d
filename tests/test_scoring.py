"""Scoring: metric functions against known values, policies, binning, properties."""

from __future__ import annotations

import math
from datetime import datetime

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import scoring
from ledger.models import Forecast, Question, Resolution
from ledger.store import Store


def relation(con, p, o, w=None, grp=None):
    """A scored relation (the columns metric functions read) as TEMP table t, plus its values table."""
    n = len(p)
    w = [1.0] * n if w is None else w
    grp = ["all"] * n if grp is None else grp
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE t AS
        SELECT grp, p, CAST(p AS DECIMAL(18,12)) AS d, o, w, seq::BIGINT AS seq, 'binary' AS kind,
               2 * (p - o) ^ 2 AS bm, -ln(greatest(2.220446049250313e-16,
               least(1 - 2.220446049250313e-16, CASE WHEN o = 1 THEN p ELSE 1 - p END))) AS ll
        FROM (SELECT unnest(?::VARCHAR[]) AS grp, unnest(?::DOUBLE[]) AS p, unnest(?::INTEGER[]) AS o,
                     unnest(?::DOUBLE[]) AS w, unnest(range(?::BIGINT)) AS seq)
        """,
        [grp, list(map(float, p)), list(map(int, o)), list(map(float, w)), n],
    )
    return "t", scoring.value_table(con, "t")


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


TINY_P = [0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.95, 0.5, 0.4]
TINY_O = [1, 1, 0, 1, 0, 0, 1, 1, 0, 0]


def test_brier_log_loss_base_rate_known_values(con):
    rel, _ = relation(con, TINY_P, TINY_O)
    # hand: squared errors .01 .04 .49 .16 .09 .04 .81 .0025 .25 .16 -> 2.0525 / 10
    assert scoring.brier(con, rel)["all"] == pytest.approx(0.20525, abs=1e-12)
    expected_ll = -np.mean([math.log(p if o else 1 - p) for p, o in zip(TINY_P, TINY_O, strict=True)])
    assert scoring.log_loss(con, rel)["all"] == pytest.approx(expected_ll, abs=1e-12)
    assert scoring.base_rate(con, rel)["all"] == 0.5
    assert scoring.brier_multi(con, rel)["all"] == pytest.approx(2 * 0.20525, abs=1e-12)
    assert scoring.brier_skill(0.20525, 0.25) == pytest.approx(0.179, abs=1e-12)
    assert scoring.brier_skill(0.2, None) is None


def test_log_loss_clips_certain_wrong_forecast(con):
    rel, _ = relation(con, [1.0, 0.0], [0, 1])
    assert scoring.log_loss(con, rel)["all"] == pytest.approx(-math.log(2.220446049250313e-16), rel=1e-12)


def test_murphy_known_values_and_sum(con):
    rel, values = relation(con, TINY_P, TINY_O)
    m = scoring.murphy(con, values, scoring.equal_bins(10))["all"]
    assert m["reliability"] == pytest.approx(0.205125, abs=1e-12)
    assert m["resolution"] == pytest.approx(0.25, abs=1e-12)
    assert m["uncertainty"] == pytest.approx(0.25, abs=1e-12)
    assert m["within_bin_variance"] == pytest.approx(0.000125, abs=1e-12)
    assert m["within_bin_covariance"] == pytest.approx(0.0, abs=1e-12)


def test_corp_matches_model_diagnostics(con):
    md = pytest.importorskip("model_diagnostics.scoring")
    rel, values = relation(con, TINY_P, TINY_O)
    c = scoring.corp(con, values, n_resamples=0)["all"]
    ref = md.decompose(np.array(TINY_O, float), np.array(TINY_P), scoring_function=md.SquaredError())
    assert c["mcb"] == pytest.approx(ref["miscalibration"][0], abs=1e-12)
    assert c["dsc"] == pytest.approx(ref["discrimination"][0], abs=1e-12)
    assert c["unc"] == pytest.approx(ref["uncertainty"][0], abs=1e-12)
    assert c["mcb"] == pytest.approx(0.07525, abs=1e-12)


def test_wilson_interval_known_values(con):
    rel, values = relation(con, [0.1, 0.2], [1, 0])
    table = scoring.calibration_table(con, values, scoring.equal_bins(10))["all"]
    z = scoring.Z95
    assert table[0]["ci_low"] == pytest.approx(1 / (1 + z * z), abs=1e-12)  # x = n = 1
    assert table[0]["ci_high"] == 1.0
    assert table[1]["ci_low"] == 0.0
    assert table[1]["ci_high"] == pytest.approx(z * z / (1 + z * z), abs=1e-12)


def test_binning_is_decided_on_the_decimal_value(con):
    # 0.15, 0.35, 0.3, 0.7 sit exactly on edges; the double of each may round either way.
    p = [0.15, 0.35, 0.3, 0.7, 1.0, 0.0, 0.1 + 0.2]
    rel, values = relation(con, p, [1, 0, 1, 0, 1, 0, 1])
    bins20 = scoring.equal_bins(20)
    table = {round(b["bin_low"], 6): b["n"] for b in scoring.calibration_table(con, values, bins20)["all"]}
    assert table[0.15] == 1 and table[0.35] == 1 and table[0.3] == 2 and table[0.7] == 1
    assert table[0.95] == 1  # 1.0 is in the last, closed bin
    assert table[0.0] == 1
    # counting and listing use the same rule
    listed = con.execute(
        f"SELECT p FROM t WHERE {scoring.bin_index_sql('d', bins20.edges)} = 6").fetchall()
    assert sorted(x[0] for x in listed) == [0.3, 0.1 + 0.2]
    assert 0.1 + 0.2 != 0.3  # the float really is off the edge


def test_analyst_levels_and_fold(con):
    rel, values = relation(con, [0.3, 0.7, 0.05, 0.95, 0.5, 0.99], [0, 1, 1, 1, 1, 1])
    table = scoring.calibration_table(con, values, scoring.analyst_levels(fold=True))["all"]
    got = {b["bin_low"]: (b["n"], b["observed"]) for b in table}
    assert got[0.7] == (2, 1.0)  # 0.3 on X (X did not happen) counts as 0.7 on not-X, which happened
    assert got[0.95] == (2, 0.5)  # 0.05 on X that happened counts as 0.95 on not-X: wrong
    assert got[0.5] == (1, 1.0)
    assert got[0.99] == (1, 1.0)


def test_pav_matches_sklearn_isotonic():
    sk = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(3)
    x = np.sort(rng.choice(np.linspace(0, 1, 40), 40, replace=False))
    y = rng.random(40)
    w = rng.integers(1, 5, 40).astype(float)
    ref = sk.IsotonicRegression().fit(x, y, sample_weight=w).predict(x)
    np.testing.assert_allclose(scoring.pav(x, y, w), ref, atol=1e-12)
    fitted, _ = scoring._pav_batch(w, np.vstack([y * w, (1 - y) * w]))
    np.testing.assert_allclose(fitted[0], ref, atol=1e-12)
    np.testing.assert_allclose(fitted[1], scoring.pav(x, 1 - y, w), atol=1e-12)


def test_bootstrap_is_seeded_and_covers_mean():
    values = np.random.default_rng(1).random(500)
    a = scoring.bootstrap_mean_ci(values, seed=7)
    b = scoring.bootstrap_mean_ci(values, seed=7)
    assert a == b
    assert a[0] < values.mean() < a[1]
    # width near the normal-theory one (2 * 1.96 * sd / sqrt(n))
    assert (a[1] - a[0]) == pytest.approx(2 * 1.96 * values.std() / math.sqrt(500), rel=0.15)


def test_leave_one_out_median():
    groups = np.array([1, 1, 1, 2, 2, 3])
    values = np.array([0.1, 0.2, 0.6, 0.3, 0.5, 0.9])
    got = scoring.leave_one_out_median(groups, values)
    np.testing.assert_allclose(got[:5], [0.4, 0.35, 0.15, 0.5, 0.3])
    assert math.isnan(got[5])


def test_calibrated_sample_has_small_mcb_and_large_p_value(con):
    rng = np.random.default_rng(11)
    p = rng.choice(np.round(np.linspace(0.05, 0.95, 19), 2), 4000)
    o = (rng.random(4000) < p).astype(int)
    rel, values = relation(con, p, o)
    c = scoring.corp(con, values, n_resamples=300)["all"]
    assert c["mcb"] < 0.005
    assert c["mcb_p_value"] > 0.01
    # exactly calibrated bins: each value's observed frequency equals it -> MCB is 0
    p2 = np.repeat([0.1, 0.3, 0.6, 0.9], 10)
    o2 = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in (1, 3, 6, 9)])
    rel, values = relation(con, p2, o2)
    assert scoring.corp(con, values, n_resamples=0)["all"]["mcb"] == pytest.approx(0.0, abs=1e-15)


def test_overconfident_sample_is_flagged(con):
    rng = np.random.default_rng(5)
    p = rng.choice([0.9, 0.95, 0.99], 300)
    o = (rng.random(300) < 0.6).astype(int)
    rel, values = relation(con, p, o)
    c = scoring.corp(con, values, n_resamples=300)["all"]
    assert c["mcb_p_value"] < 0.01
    band = c["curve"]
    assert all(pt["band_low"] <= pt["x"] + 0.05 and pt["band_high"] >= pt["x"] - 0.1 for pt in band)


probabilities = st.lists(
    st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 1), st.floats(0.05, 1)), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None)
@given(probabilities, st.integers(1, 12))
def test_properties(rows, n_bins):
    con = duckdb.connect()
    p = [r[0] for r in rows]
    o = [r[1] for r in rows]
    w = [r[2] for r in rows]
    rel, values = relation(con, p, o, w)
    b = scoring.brier(con, rel)["all"]
    assert 0 <= b <= 1
    assert scoring.log_loss(con, rel)["all"] >= 0
    m = scoring.murphy(con, values, scoring.equal_bins(n_bins))["all"]
    parts = m["reliability"] - m["resolution"] + m["uncertainty"] + m["within_bin_variance"] \
        - m["within_bin_covariance"]
    assert parts == pytest.approx(b, abs=1e-9)
    c = scoring.corp(con, values, n_resamples=20)["all"]
    assert c["mcb"] - c["dsc"] + c["unc"] == pytest.approx(b, abs=1e-9)
    assert c["mcb"] >= -1e-9 and c["dsc"] >= -1e-9
    assert 0 < c["mcb_p_value"] <= 1
    for row in scoring.calibration_table(con, values, scoring.equal_bins(n_bins, fold=True))["all"]:
        assert 0 <= row["ci_low"] <= row["observed"] <= row["ci_high"] <= 1
        assert row["bin_low"] >= 0.5
    # relabelling p -> 1 - p, o -> 1 - o leaves the Brier score unchanged
    rel2, _ = relation(con, [1 - x for x in p], [1 - x for x in o], w)
    assert scoring.brier(con, rel2)["all"] == pytest.approx(b, abs=1e-12)
    con.close()


# -- through the store: policies, the window, exclusions ---------------------------------

T0 = datetime(2024, 1, 1)


def day(n: float) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(days=n)


@pytest.fixture
def revised_ledger(tmp_path):
    """One question opened day 0, outcome yes known day 40.

    alice: 0.6 (day 0), 0.8 (day 10), 0.9 (day 30).
    bob: first forecast 0.3 on day 20, and 0.99 on day 45, after the outcome (must be ignored).
    A second question, annulled, with a forecast by alice (never counts).
    """
    store = Store.open(tmp_path / "l.duckdb")
    with store.write("test") as w:
        q = w.add_question(Question(statement="Will it?", resolve_by="2024-03-01", tags=["x"]),
                           Forecast(forecaster="alice", probability=0.6, made_at=day(0)))
        w.add_forecast(q, Forecast(forecaster="alice", probability=0.8, made_at=day(10)))
        w.add_forecast(q, Forecast(forecaster="bob", probability=0.3, made_at=day(20)))
        w.add_forecast(q, Forecast(forecaster="alice", probability=0.9, made_at=day(30)))
        w.add_forecast(q, Forecast(forecaster="bob", probability=0.99, made_at=day(45)))  # claims a moment after the outcome
        w.resolve(q, Resolution(outcome="yes", resolved_at=day(40)))
        a = w.add_question(Question(statement="Ambiguous", resolve_by="2024-03-01"),
                           Forecast(forecaster="alice", probability=0.2, made_at=day(1)))
        w.resolve(a, Resolution(annulled=True, note="criteria failed", resolved_at=day(41)))
    yield store
    store.close()


def test_time_averaged_hand_computed(revised_ledger):
    result = scoring.score(revised_ledger, by="forecaster", n_resamples=50)
    # alice: 10/40 at 0.6, 20/40 at 0.8, 10/40 at 0.9 -> .25*.16 + .5*.04 + .25*.01 = 0.0625
    # bob: days 0-20 before his first forecast at 0.5 (0.25), days 20-40 at 0.3 (0.49) -> 0.37
    groups = {g["group"]: g for g in result["groups"]}
    assert groups["alice"]["brier"] == pytest.approx(0.0625, abs=1e-12)
    assert groups["bob"]["brier"] == pytest.approx(0.37, abs=1e-12)
    assert result["brier"] == pytest.approx((0.0625 + 0.37) / 2, abs=1e-12)
    assert groups["bob"]["imputed_share"] == pytest.approx(0.5, abs=1e-12)
    assert result["n_questions"] == 1 and result["n_scored"] == 2 and result["n_forecasts"] == 4
    assert result["excluded"]["after_outcome"] == 1
    assert result["excluded"]["annulled"] == 1
    # relative to the other: alice 0.125 - 0.74 (GJ form, twice the binary)
    rel = {r["forecaster"]: r for r in result["relative"]}
    assert rel["alice"]["mean_difference"] == pytest.approx(2 * (0.0625 - 0.37), abs=1e-12)
    assert result["paired"][0]["mean_difference"] == pytest.approx(2 * (0.0625 - 0.37), abs=1e-12)


def test_first_and_last_policies(revised_ledger):
    first = scoring.score(revised_ledger, policy="first", n_resamples=0)
    last = scoring.score(revised_ledger, policy="last", n_resamples=0)
    assert first["brier"] == pytest.approx((0.16 + 0.49) / 2, abs=1e-12)
    assert last["brier"] == pytest.approx((0.01 + 0.49) / 2, abs=1e-12)  # bob's 0.99 came too late
    assert last["excluded"]["not_used_by_policy"] == 2
    only_alice = scoring.score(revised_ledger, policy="last", forecaster="alice", n_resamples=0)
    assert only_alice["brier"] == pytest.approx(0.01, abs=1e-12)


def test_backfilled_counted_and_excludable(tmp_path):
    store = Store.open(tmp_path / "l.duckdb")
    with store.write("test") as w:
        q = w.add_question(Question(statement="Old claim", resolve_by="2024-03-01"),
                           Forecast(forecaster="ann", probability=0.8, made_at=day(0)))  # backfilled
        w.resolve(q, Resolution(outcome="no", resolved_at=day(20)))
        r = w.add_question(Question(statement="Live claim", resolve_by="2099-03-01"),
                           Forecast(forecaster="ann", probability=0.4))
    with store.write("test") as w:  # resolved in a later commit: a live forecast, not backfilled
        w.resolve(r, Resolution(outcome="no"))
    included = scoring.score(store, n_resamples=0)
    assert included["n_backfilled"] == 1 and included["n_questions"] == 2
    excluded = scoring.score(store, exclude_backfilled=True, n_resamples=0)
    assert excluded["n_backfilled"] == 0 and excluded["n_questions"] == 1
    assert excluded["excluded"]["backfilled"] == 1
    assert excluded["brier"] == pytest.approx(0.16, abs=1e-12)
    store.close()


def test_multiple_choice_brier(tmp_path):
    store = Store.open(tmp_path / "l.duckdb")
    with store.write("test") as w:
        q = w.add_question(Question(statement="Which?", resolve_by="2024-03-01", options=["A", "B", "C"]),
                           Forecast(forecaster="ann", probabilities=[0.6, 0.3, 0.1], made_at=day(0)))
        w.resolve(q, Resolution(outcome="A", resolved_at=day(5)))
    result = scoring.score(store, n_resamples=0)
    assert result["brier_multi"] == pytest.approx(0.16 + 0.09 + 0.01, abs=1e-12)
    assert result["brier"] is None and result["n_multiple_choice"] == 1
    assert result["log_loss"] is None
    store.close()


def test_bad_options_are_user_errors(revised_ledger):
    from ledger.errors import LedgerError

    with pytest.raises(LedgerError):
        scoring.score(revised_ledger, policy="median")
    with pytest.raises(LedgerError):
        scoring.score(revised_ledger, bins=0)
    with pytest.raises(LedgerError):
        scoring.score(revised_ledger, bins=5, levels="analyst")
    with pytest.raises(LedgerError):
        scoring.score(revised_ledger, groupings=("forecaster", "colour"))


def test_forecasts_in_bin_lists_what_the_table_counts(revised_ledger):
    result = scoring.score(revised_ledger, policy="last", n_resamples=0, bins=10)
    scoring.group_view(revised_ledger.con, None)
    binning = scoring.equal_bins(10)
    for row in result["calibration"]:
        listed = scoring.forecasts_in_bin(revised_ledger.con, "score_grouped_binary", binning, row["bin_low"])
        assert len(listed) == row["n"]
    listed = scoring.forecasts_in_bin(revised_ledger.con, "score_grouped_binary", binning, 0.3)
    assert [(r["forecaster"], r["p"]) for r in listed] == [("bob", 0.3)]


def assert_same(one, other, where=""):
    """Equal, but for the last bits of float sums (DuckDB adds in parallel, in no fixed order)."""
    if isinstance(one, dict):
        assert one.keys() == other.keys(), where
        for key in one:
            assert_same(one[key], other[key], f"{where}.{key}")
    elif isinstance(one, list):
        assert len(one) == len(other), where
        for index, (a, b) in enumerate(zip(one, other, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(one, float):
        assert one == pytest.approx(other, rel=1e-12, abs=1e-15), where
    else:
        assert one == other, where


def test_groupings_in_one_pass_equal_separate_calls(tmp_path):
    """One selection serves several breakdowns, the folded table and chosen questions, as separate calls do."""
    import json

    from ledger.io import import_file

    rng = np.random.default_rng(4)
    rows = [{"question_key": f"q{i}", "statement": f"Q{i}", "probability": round(float(rng.uniform(0.05, 0.95)), 2),
             "resolve_by": "2024-06-30", "forecaster": f, "made_at": f"2024-0{1 + r}-01T00:00:00",
             "outcome": "yes" if i % 3 else "no", "resolved_at": f"2024-0{5 + i % 2}-01T00:00:00",
             "tags": ["a", "b"] if i % 2 else ["a"], "source_title": f"S{i % 4}"}
            for i in range(30) for f in ("ann", "bo", "cy")[: 2 + i % 2] for r in range(1 + i % 2)]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with Store.open(tmp_path / "l.duckdb") as store:
        import_file(store, path)
        ids = [q["id"] for q in store.questions(status="closed", limit=5)]
        folded = scoring.analyst_levels(fold=True)
        one = scoring.score(store, n_resamples=40, groupings=("forecaster", "tag", "source", "quarter"),
                            calibrations={"folded": folded}, question_ids=ids)
        for by in ("forecaster", "tag", "source", "quarter"):
            separate = scoring.score(store, n_resamples=40, by=by)
            assert_same(one["groupings"][by]["groups"], separate["groups"], by)
            assert one["groupings"][by]["n_groups"] == len(separate["groups"])
        assert_same(one["calibrations"]["folded"], scoring.score(store, levels="analyst", fold=True)["calibration"])
        every = scoring.score(store, include_questions=True, n_resamples=0)["questions"]
        assert one["questions"]
        assert_same(one["questions"], [q for q in every if q["question_id"] in ids])
        assert_same(one["relative"], scoring.score(store, n_resamples=40)["relative"])
        assert "relative" not in scoring.score(store, n_resamples=0, relative=False)
        capped = scoring.score(store, n_resamples=0, groupings=("source", "tag"), max_groups=3)["groupings"]
        assert capped["source"] == {"n_groups": 4, "too_many": True, "groups": []}
        assert not capped["tag"]["too_many"] and len(capped["tag"]["groups"]) == 2
