"""Scoring through its public API: metrics against known values, policies, binning, resampling, properties.

Every ledger here is a real one, filled through the store's writes or ``ledger.io.import_file``.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import scoring
from ledger.io import import_file
from ledger.models import Forecast, Question, Resolution
from ledger.scoring.metrics import forecasts_in_bin
from ledger.scoring.resampling import Values, calibration_null
from ledger.scoring.result import as_json
from ledger.store import Store

T0 = datetime(2024, 1, 1)
WINDOW = timedelta(days=30)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def imported(path: Path, rows: list[dict]) -> Store:
    """A ledger at ``path`` holding ``rows`` (import columns), through ``ledger.io.import_file``."""
    source = path.with_suffix(".jsonl")
    source.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    store = Store.open(path)
    import_file(store, source)
    return store


def question_rows(key: str, forecasts: list[tuple[float, float]], outcome: int, **extra) -> list[dict]:
    """Import rows of one yes/no question: ``forecasts`` are (probability, days after the opening) by one
    forecaster; the outcome becomes known 30 days after the first forecast, so each forecast weighs the
    share of the window it stood for."""
    return [{"question_key": key, "statement": f"Question {key}", "probability": float(p), "resolve_by": "2024-06-30",
             "forecaster": extra.get("forecaster", "ann"), "made_at": (T0 + timedelta(days=at)).isoformat(),
             "outcome": "yes" if outcome else "no", "resolved_at": (T0 + WINDOW).isoformat(),
             **{k: v for k, v in extra.items() if k != "forecaster"}}
            for p, at in forecasts]


def one_forecast_each(path: Path, p, o, **extra) -> Store:
    """A ledger of one question per (p, o), each with a single forecast of weight 1."""
    return imported(path, [row for i, (pi, oi) in enumerate(zip(p, o, strict=True))
                           for row in question_rows(f"q{i}", [(pi, 0)], oi, **extra)])


TINY_P = [0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.95, 0.5, 0.4]
TINY_O = [1, 1, 0, 1, 0, 0, 1, 1, 0, 0]


@pytest.fixture
def tiny(tmp_path):
    with one_forecast_each(tmp_path / "tiny.duckdb", TINY_P, TINY_O) as store:
        yield store


def test_brier_log_loss_base_rate_known_values(tiny):
    result = scoring.score(tiny, n_resamples=0)
    # hand: squared errors .01 .04 .49 .16 .09 .04 .81 .0025 .25 .16 -> 2.0525 / 10
    assert result.brier == pytest.approx(0.20525, abs=1e-12)
    expected_ll = -np.mean([math.log(p if o else 1 - p) for p, o in zip(TINY_P, TINY_O, strict=True)])
    assert result.log_loss == pytest.approx(expected_ll, abs=1e-12)
    assert result.base_rate == 0.5
    assert result.brier_multi == pytest.approx(2 * 0.20525, abs=1e-12)
    assert result.brier_skill_vs_half == pytest.approx(0.179, abs=1e-12)
    assert scoring.brier_skill(0.20525, 0.25) == pytest.approx(0.179, abs=1e-12)
    assert scoring.brier_skill(0.2, None) is None
    assert result.n_scored == 10 and result.n_questions == 10 and result.n_binary == 10


def test_log_loss_clips_certain_wrong_forecast(tmp_path):
    with one_forecast_each(tmp_path / "l.duckdb", [1.0, 0.0], [0, 1]) as store:
        assert scoring.score(store, n_resamples=0).log_loss == pytest.approx(-math.log(scoring.LOG_EPS), rel=1e-12)


def test_murphy_known_values_and_sum(tiny):
    m = scoring.score(tiny, bins=10, n_resamples=0).murphy
    assert m.reliability == pytest.approx(0.205125, abs=1e-12)
    assert m.resolution == pytest.approx(0.25, abs=1e-12)
    assert m.uncertainty == pytest.approx(0.25, abs=1e-12)
    assert m.within_bin_variance == pytest.approx(0.000125, abs=1e-12)
    assert m.within_bin_covariance == pytest.approx(0.0, abs=1e-12)
    assert m.bins.startswith("10 equal bins, unfolded")


def test_corp_matches_model_diagnostics(tiny):
    md = pytest.importorskip("model_diagnostics.scoring")
    c = scoring.score(tiny, n_resamples=0).corp
    ref = md.decompose(np.array(TINY_O, float), np.array(TINY_P), scoring_function=md.SquaredError())
    assert c.mcb == pytest.approx(ref["miscalibration"][0], abs=1e-12)
    assert c.dsc == pytest.approx(ref["discrimination"][0], abs=1e-12)
    assert c.unc == pytest.approx(ref["uncertainty"][0], abs=1e-12)
    assert c.mcb == pytest.approx(0.07525, abs=1e-12)
    assert c.mcb_p_value is None and c.n_resamples == 0 and c.curve[0].band_low is None  # nothing resampled


def test_wilson_interval_known_values(tmp_path):
    with one_forecast_each(tmp_path / "l.duckdb", [0.1, 0.2], [1, 0]) as store:
        table = scoring.score(store, bins=10, n_resamples=0).calibration
    z = scoring.Z95
    assert table[0].ci_low == pytest.approx(1 / (1 + z * z), abs=1e-12)  # x = n = 1
    assert table[0].ci_high == 1.0
    assert table[1].ci_low == 0.0
    assert table[1].ci_high == pytest.approx(z * z / (1 + z * z), abs=1e-12)


def test_binning_is_decided_on_the_decimal_value(tmp_path):
    # 0.15, 0.35, 0.3, 0.7 sit exactly on edges; the double of each may round either way.
    p = [0.15, 0.35, 0.3, 0.7, 1.0, 0.0, 0.1 + 0.2]
    with one_forecast_each(tmp_path / "l.duckdb", p, [1, 0, 1, 0, 1, 0, 1]) as store:
        bins20 = scoring.equal_bins(20)
        table = {round(b.bin_low, 6): b.n for b in scoring.score(store, bins=20, n_resamples=0).calibration}
        assert table[0.15] == 1 and table[0.35] == 1 and table[0.3] == 2 and table[0.7] == 1
        assert table[0.95] == 1  # 1.0 is in the last, closed bin
        assert table[0.0] == 1
        # counting and listing use the same rule
        with scoring.Scored(store, scoring.Selection()) as scored:
            listed = forecasts_in_bin(scored.grouped(None), bins20, 0.3)
    assert sorted(row["probability"] for row in listed) == [0.3, 0.1 + 0.2]
    assert 0.1 + 0.2 != 0.3  # the float really is off the edge


def test_analyst_levels_and_fold(tmp_path):
    with one_forecast_each(tmp_path / "l.duckdb", [0.3, 0.7, 0.05, 0.95, 0.5, 0.99], [0, 1, 1, 1, 1, 1]) as store:
        result = scoring.score(store, levels="analyst", fold=True, n_resamples=0)
    got = {b.bin_low: (b.n, b.observed) for b in result.calibration}
    assert got[0.7] == (2, 1.0)  # 0.3 on X (X did not happen) counts as 0.7 on not-X, which happened
    assert got[0.95] == (2, 0.5)  # 0.05 on X that happened counts as 0.95 on not-X: wrong
    assert got[0.5] == (1, 1.0)
    assert got[0.99] == (1, 1.0)
    assert result.selection.fold and "folded" in result.selection.bins


def test_pav_matches_sklearn_isotonic():
    sk = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(3)
    x = np.sort(rng.choice(np.linspace(0, 1, 40), 40, replace=False))
    y = rng.random(40)
    w = rng.integers(1, 5, 40).astype(float)
    ref = sk.IsotonicRegression().fit(x, y, sample_weight=w).predict(x)
    np.testing.assert_allclose(scoring.pav(y * w, w), ref, atol=1e-12)
    fitted, pooled = scoring.pav_rows(w, np.vstack([y * w, (1 - y) * w]))
    np.testing.assert_allclose(fitted[0], ref, atol=1e-12)
    np.testing.assert_allclose(fitted[1], scoring.pav((1 - y) * w, w), atol=1e-12)
    # Σ w f² − 2 f (y w) over the fit is −Σ_blocks S²/W: the Brier part pav_rows returns
    assert pooled[0] == pytest.approx(-np.sum(w * ref * ref - 2 * ref * y * w), rel=1e-12)


def test_pav_segments_and_padding_are_independent_fits():
    rng = np.random.default_rng(8)
    a_w, b_w = rng.integers(1, 4, 12).astype(float), rng.integers(1, 4, 7).astype(float)
    a_s, b_s = rng.random(12) * a_w, rng.random(7) * b_w
    both = scoring.pav(np.r_[a_s, b_s], np.r_[a_w, b_w], starts=[0, 12])
    np.testing.assert_allclose(both, np.r_[scoring.pav(a_s, a_w), scoring.pav(b_s, b_w)], rtol=0, atol=0)
    # a shorter row zero-padded on the right fits as it would alone
    padded, pooled = scoring.pav_rows(np.r_[b_w, np.zeros(5)], np.r_[b_s, np.zeros(5)][None, :])
    alone, pooled_alone = scoring.pav_rows(b_w, b_s[None, :])
    np.testing.assert_array_equal(padded[0, :7], alone[0])
    assert pooled[0] == pooled_alone[0]


def test_pav_rows_agrees_with_the_stack_pav_row_by_row():
    """Rows of different lengths, noisy ones and one that needs a pooling pass per value (rising, then a
    drop below them all), each fitted as the one-sequence PAV fits it alone."""
    rng = np.random.default_rng(5)
    n_values = 30
    weight = rng.integers(1, 6, (4, n_values)).astype(float)
    weight[1, 20:] = 0  # a shorter row, zero-padded
    yes = rng.random((4, n_values)) * weight
    yes[3] = np.r_[np.arange(1, n_values), -1e6] * weight[3]
    fitted, squares = scoring.pav_rows(weight, yes)
    for r in range(4):
        k = int(np.count_nonzero(weight[r]))
        alone = scoring.pav(yes[r, :k], weight[r, :k])
        np.testing.assert_allclose(fitted[r, :k], alone, rtol=0, atol=1e-12)
        assert not fitted[r, k:].any()
        assert squares[r] == pytest.approx(np.sum(weight[r, :k] * alone * alone), rel=1e-12)
    assert np.ptp(fitted[3]) == 0  # the drop pools the whole rising row into one block


def test_bootstrap_is_seeded_and_covers_mean():
    values = np.random.default_rng(1).random(500)  # 500 distinct values: pooled into 256 cells
    a = scoring.bootstrap_mean_ci(values, seed=7)[0]
    b = scoring.bootstrap_mean_ci(values, seed=7)[0]
    assert a == b
    assert a[0] < values.mean() < a[1]
    # width near the normal-theory one (2 * 1.96 * sd / sqrt(n))
    assert (a[1] - a[0]) == pytest.approx(2 * 1.96 * values.std() / math.sqrt(500), rel=0.15)


def test_bootstrap_of_a_small_group_draws_its_indices_and_covers_the_mean():
    """At most 256 values: each resample draws n indices into the group's sorted values, as a textbook
    bootstrap does; the interval covers the mean with about the normal-theory width."""
    values = np.random.default_rng(3).random(120)
    low, high = scoring.bootstrap_mean_ci(values, seed=5, n_resamples=2000)[0]
    means = np.sort(values)[np.random.default_rng(5).integers(0, 120, (2000, 120))].sum(axis=1) / 120
    assert (low, high) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])), rel=1e-12)
    assert low < values.mean() < high
    assert (high - low) == pytest.approx(2 * 1.96 * values.std() / math.sqrt(120), rel=0.15)


def test_bootstrap_batches_groups_in_one_stream():
    rng = np.random.default_rng(2)
    small = rng.choice([0.1, 0.2, 0.4], 60)  # 3 cells: drawn first, so as it would be alone
    large = rng.random(400)
    values = np.r_[large, small]
    groups = np.r_[np.zeros(400, np.int64), np.ones(60, np.int64)]
    cis = scoring.bootstrap_mean_ci(values, groups, n_groups=3, seed=11)
    assert cis[1] == pytest.approx(scoring.bootstrap_mean_ci(small, seed=11)[0], rel=1e-12)
    assert cis[0][0] < large.mean() < cis[0][1]
    assert (cis[0][1] - cis[0][0]) == pytest.approx(2 * 1.96 * large.std() / math.sqrt(400), rel=0.15)
    assert cis[2] is None  # an empty group has no interval
    assert scoring.bootstrap_mean_ci(values, groups, seed=11, n_resamples=0) == [None, None]


def test_leave_one_out_median():
    groups = np.array([1, 1, 1, 2, 2, 3])
    values = np.array([0.1, 0.2, 0.6, 0.3, 0.5, 0.9])
    got = scoring.leave_one_out_median(groups, values)
    np.testing.assert_allclose(got[:5], [0.4, 0.35, 0.15, 0.5, 0.3])
    assert math.isnan(got[5])


def calibrated(rng, n, levels):
    p = rng.choice(levels, n)
    return p, (rng.random(n) < p).astype(int)


def test_calibrated_sample_has_small_mcb_and_large_p_value(tmp_path):
    p, o = calibrated(np.random.default_rng(11), 4000, np.round(np.linspace(0.05, 0.95, 19), 2))
    with one_forecast_each(tmp_path / "l.duckdb", p, o) as store:
        c = scoring.score(store, n_resamples=300).corp
    assert c.mcb < 0.005
    assert c.mcb_p_value > 0.01
    # exactly calibrated bins: each value's observed frequency equals it -> MCB is 0
    p2 = np.repeat([0.1, 0.3, 0.6, 0.9], 10)
    o2 = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in (1, 3, 6, 9)]).astype(int)
    with one_forecast_each(tmp_path / "exact.duckdb", p2, o2) as store:
        assert scoring.score(store, n_resamples=0).corp.mcb == pytest.approx(0.0, abs=1e-15)


def overconfident(rng, n):
    return rng.choice([0.9, 0.95, 0.99], n), (rng.random(n) < 0.6).astype(int)


def test_overconfident_sample_is_flagged(tmp_path):
    p, o = overconfident(np.random.default_rng(5), 300)
    with one_forecast_each(tmp_path / "l.duckdb", p, o) as store:
        c = scoring.score(store, n_resamples=300).corp
    assert c.mcb_p_value < 0.01
    assert c.band_level == 0.9 and c.n_resamples == 300
    assert all(pt.band_low <= pt.x + 0.05 and pt.band_high >= pt.x - 0.1 for pt in c.curve)


def test_calibration_null_of_groups_in_one_batch(tmp_path):
    """A calibrated and an overconfident forecaster, resampled together, keep their own verdicts; the
    smaller group draws first, so exactly as it would alone."""
    rng = np.random.default_rng(9)
    p_cal, o_cal = calibrated(rng, 1500, np.round(np.linspace(0.05, 0.95, 19), 2))
    p_over, o_over = overconfident(rng, 300)
    rows = [row for name, ps, os in (("cal", p_cal, o_cal), ("over", p_over, o_over))
            for i, (pi, oi) in enumerate(zip(ps, os, strict=True))
            for row in question_rows(f"{name}{i}", [(pi, 0)], oi, forecaster=name)]
    with imported(tmp_path / "l.duckdb", rows) as store:
        by = {g.group: g for g in scoring.score(store, by="forecaster", n_resamples=300, relative=False).groups}
        alone = scoring.score(store, forecaster="over", n_resamples=300).corp
    assert by["cal"].corp.mcb_p_value > 0.01 and by["over"].corp.mcb_p_value < 0.01
    assert_same(as_json(by["over"].corp), as_json(alone))
    # the batched null itself, on two exactly calibrated groups (observed share = forecast at every value)
    x = np.array([0.2, 0.8, 0.1, 0.5, 0.9])
    values = Values(np.array([0, 0, 1, 1, 1]), x, np.full(5, 10.0), 10 * x, np.full(5, 10.0), n_groups=2)
    null = calibration_null(values, np.zeros(2), seed=3, n_resamples=200)
    assert null.p_value.tolist() == [1.0, 1.0]  # no resample has a smaller MCB than 0
    assert np.all((0 <= null.band_low) & (null.band_low <= null.band_high) & (null.band_high <= 1))
    assert calibration_null(values, np.zeros(2), seed=3, n_resamples=0) is None


def test_every_group_of_a_batch_scores_as_it_does_alone(tmp_path):
    """Many groups resampled in one batch (sizes 1 to 1,100, whole-percent ties and distinct floats, above and
    below the bootstrap's 256 cells and the null's 1,000 values): each group's figures, intervals, p-values
    and bands included, are those it has scored by itself."""
    rng = np.random.default_rng(13)
    sizes = {"a1": 1, "b3": 3, "c40": 40, "d40": 40, "e120": 120, "f300": 300, "g1100": 1100}
    rows = []
    for name, n in sizes.items():
        p = rng.uniform(0.02, 0.98, n)
        if name in ("c40", "e120"):
            p = p.round(2)  # ties: fewer distinct values than forecasts
        o = (rng.random(n) < p).astype(int)
        rows += [row for i, (pi, oi) in enumerate(zip(p, o, strict=True))
                 for row in question_rows(f"{name}-{i}", [(pi, 0)], oi, forecaster=name)]
    rows += question_rows("shared", [(0.7, 0), (0.4, 3)], 1, forecaster="c40")  # a revision: a time-averaged pair
    with imported(tmp_path / "l.duckdb", rows) as store:
        groups = scoring.score(store, by="forecaster", n_resamples=120, relative=False).as_json()["groups"]
        assert [g["group"] for g in groups] == sorted(sizes)
        for group in groups:
            alone = scoring.score(store, forecaster=group["group"], n_resamples=120).as_json()
            assert_same({k: v for k, v in group.items() if k != "group"}, {k: alone[k] for k in group if k != "group"},
                        group["group"])
            assert group["brier_ci"] is not None and group["corp"]["mcb_p_value"] is not None  # resampled
        assert [g["corp"]["resampling_note"] is not None for g in groups] == [False] * 6 + [True]  # g1100 pooled


def test_the_null_of_many_calibrated_groups_gives_them_uniform_p_values(tmp_path):
    """Coverage of the calibration null as the groups of one breakdown draw it (each the stream afresh): 60
    calibrated forecasters' p-values are about uniform (about a tenth below 0.1), and 20 overconfident ones
    are flagged."""
    rng = np.random.default_rng(21)
    rows = []
    for k in range(80):
        p = rng.choice(np.round(np.linspace(0.05, 0.95, 10), 2), 30)
        o = (rng.random(30) < (p if k < 60 else 0.5 + (p - 0.5) / 5)).astype(int)  # the last 20 overconfident
        rows += [row for i, (pi, oi) in enumerate(zip(p, o, strict=True))
                 for row in question_rows(f"f{k}-{i}", [(pi, 0)], oi, forecaster=f"f{k:02d}")]
    with imported(tmp_path / "l.duckdb", rows) as store:
        groups = scoring.score(store, by="forecaster", n_resamples=400, relative=False).groups
    p_values = np.array([g.corp.mcb_p_value for g in groups])
    calibrated, overconfident = p_values[:60], p_values[60:]
    assert 2 <= np.sum(calibrated < 0.1) <= 12 and 0.4 < np.median(calibrated) < 0.6
    assert np.sum(overconfident < 0.05) >= 12


def test_the_nulls_binomial_draws_have_their_distribution():
    """Cells of one effective forecast draw a uniform below x, the others numpy's binomial: each cell's
    draws have mean m x and variance m x (1 − x), whatever the mix, and the same seed draws the same."""
    from ledger.scoring.resampling import _binomials

    m, x = np.array([1, 1, 5, 1, 20, 1]), np.array([0.03, 0.5, 0.3, 0.97, 0.6, 0.2])
    draws = _binomials(np.random.default_rng(8), m, x, 40_000)
    assert set(np.unique(draws[:, m == 1])) <= {0.0, 1.0} and draws.min() >= 0 and np.all(draws <= m)
    mean, var = m * x, m * x * (1 - x)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.5 * np.sqrt(var / 40_000))
    np.testing.assert_allclose(draws.var(axis=0), var, rtol=0.05)
    assert np.array_equal(draws, _binomials(np.random.default_rng(8), m, x, 40_000))
    only_numpy = _binomials(np.random.default_rng(8), m[[2, 4]], x[[2, 4]], 10)  # no single cell: numpy's stream
    assert np.array_equal(only_numpy, np.random.default_rng(8).binomial(m[[2, 4]], x[[2, 4]], (10, 2)))


forecast_pairs = st.lists(
    st.tuples(st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False), st.integers(0, 1),
              st.floats(0.05, 0.95)), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None)
@given(forecast_pairs, st.integers(1, 12))
def test_properties(questions, n_bins):
    """Each question: a first forecast, a revision after a share ``split`` of the window (so the two
    weigh split and 1 − split), an outcome; and its mirror image (1 − p, 1 − o) under another tag."""
    rows = []
    for i, (p1, p2, o, split) in enumerate(questions):
        at = split * WINDOW.days
        rows += question_rows(f"a{i}", [(p1, 0), (p2, at)], o, tags=["as-is"])
        rows += question_rows(f"b{i}", [(1 - p1, 0), (1 - p2, at)], 1 - o, tags=["mirrored"])
    with tempfile.TemporaryDirectory() as folder, imported(Path(folder) / "l.duckdb", rows) as store:
        folded = scoring.equal_bins(n_bins, fold=True)
        result = scoring.score(store, tag="as-is", bins=n_bins, n_resamples=20, calibrations={"folded": folded})
        mirrored = scoring.score(store, tag="mirrored", n_resamples=0)
    b = result.brier
    assert 0 <= b <= 1
    assert result.log_loss >= 0
    m = result.murphy
    parts = m.reliability - m.resolution + m.uncertainty + m.within_bin_variance - m.within_bin_covariance
    assert parts == pytest.approx(b, abs=1e-9)
    c = result.corp
    assert c.mcb - c.dsc + c.unc == pytest.approx(b, abs=1e-9)
    assert c.mcb >= -1e-9 and c.dsc >= -1e-9
    assert 0 < c.mcb_p_value <= 1
    for row in result.calibrations["folded"]:
        assert 0 <= row.ci_low <= row.observed <= row.ci_high <= 1
        assert row.bin_low >= 0.5
    # relabelling p -> 1 - p, o -> 1 - o leaves the Brier score unchanged
    assert mirrored.brier == pytest.approx(b, abs=1e-12)


# -- through the store: policies, the window, exclusions ---------------------------------


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
    groups = {g.group: g for g in result.groups}
    assert groups["alice"].brier == pytest.approx(0.0625, abs=1e-12)
    assert groups["bob"].brier == pytest.approx(0.37, abs=1e-12)
    assert result.brier == pytest.approx((0.0625 + 0.37) / 2, abs=1e-12)
    assert groups["bob"].imputed_share == pytest.approx(0.5, abs=1e-12)
    assert result.n_questions == 1 and result.n_scored == 2 and result.n_forecasts == 4
    assert result.excluded.after_outcome == 1
    assert result.excluded.annulled == 1
    # relative to the other: alice 0.125 - 0.74 (GJ form, twice the binary)
    rel = {r.forecaster: r for r in result.relative}
    assert rel["alice"].mean_difference == pytest.approx(2 * (0.0625 - 0.37), abs=1e-12)
    assert result.paired[0].mean_difference == pytest.approx(2 * (0.0625 - 0.37), abs=1e-12)
    assert result.forecasters == ("alice", "bob")


def test_first_and_last_policies(revised_ledger):
    first = scoring.score(revised_ledger, policy="first", n_resamples=0)
    last = scoring.score(revised_ledger, policy="last", n_resamples=0)
    assert first.brier == pytest.approx((0.16 + 0.49) / 2, abs=1e-12)
    assert last.brier == pytest.approx((0.01 + 0.49) / 2, abs=1e-12)  # bob's 0.99 came too late
    assert last.excluded.not_used_by_policy == 2
    only_alice = scoring.score(revised_ledger, policy="last", forecaster="alice", n_resamples=0)
    assert only_alice.brier == pytest.approx(0.01, abs=1e-12)
    assert first.methodology["policy"].startswith("first:") and last.selection.policy == "last"


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
    assert included.n_backfilled == 1 and included.n_questions == 2
    assert included.excluded.backfilled == 0
    excluded = scoring.score(store, exclude_backfilled=True, n_resamples=0)
    assert excluded.n_backfilled == 0 and excluded.n_questions == 1
    assert excluded.excluded.backfilled == 1
    assert excluded.brier == pytest.approx(0.16, abs=1e-12)
    store.close()


def test_multiple_choice_brier(tmp_path):
    store = Store.open(tmp_path / "l.duckdb")
    with store.write("test") as w:
        q = w.add_question(Question(statement="Which?", resolve_by="2024-03-01", options=["A", "B", "C"]),
                           Forecast(forecaster="ann", probabilities=[0.6, 0.3, 0.1], made_at=day(0)))
        w.resolve(q, Resolution(outcome="A", resolved_at=day(5)))
    result = scoring.score(store, n_resamples=0)
    assert result.brier_multi == pytest.approx(0.16 + 0.09 + 0.01, abs=1e-12)
    assert result.brier is None and result.n_multiple_choice == 1
    assert result.log_loss is None
    assert result.murphy.reliability is None and result.corp.mcb is None and result.calibration == ()
    store.close()


def test_bad_options_are_user_errors(revised_ledger):
    from ledger.errors import LedgerError

    with pytest.raises(LedgerError, match="--policy"):
        scoring.score(revised_ledger, policy="median")
    with pytest.raises(LedgerError, match="--bins"):
        scoring.score(revised_ledger, bins=0)
    with pytest.raises(LedgerError, match="not both"):
        scoring.score(revised_ledger, bins=5, levels="analyst")
    with pytest.raises(LedgerError, match="--by"):
        scoring.score(revised_ledger, groupings=("forecaster", "colour"))
    with pytest.raises(LedgerError, match="--resamples"):
        scoring.Options(n_resamples=-1)
    with pytest.raises(TypeError, match="colour"):
        scoring.score(revised_ledger, colour="red")


def test_forecasts_in_bin_lists_what_the_table_counts(revised_ledger):
    result = scoring.score(revised_ledger, policy="last", n_resamples=0, bins=10)
    binning = scoring.equal_bins(10)
    with scoring.Scored(revised_ledger, scoring.Selection(policy="last")) as scored:
        whole = scored.grouped(None)
        for row in result.calibration:
            assert len(forecasts_in_bin(whole, binning, row.bin_low)) == row.n
        listed = forecasts_in_bin(whole, binning, 0.3)
    assert [(r["forecaster"], r["probability"]) for r in listed] == [("bob", 0.3)]


def test_a_selection_leaves_no_tables_behind(revised_ledger):
    def temp_tables():
        return revised_ledger.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]

    before = temp_tables()
    scoring.score(revised_ledger, by="tag", groupings=("forecaster",), n_resamples=10)
    assert temp_tables() == before


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
    rng = np.random.default_rng(4)
    rows = [{"question_key": f"q{i}", "statement": f"Q{i}", "probability": round(float(rng.uniform(0.05, 0.95)), 2),
             "resolve_by": "2024-06-30", "forecaster": f, "made_at": f"2024-0{1 + r}-01T00:00:00",
             "outcome": "yes" if i % 3 else "no", "resolved_at": f"2024-0{5 + i % 2}-01T00:00:00",
             "tags": ["a", "b"] if i % 2 else ["a"], "source_title": f"S{i % 4}"}
            for i in range(30) for f in ("ann", "bo", "cy")[: 2 + i % 2] for r in range(1 + i % 2)]
    with imported(tmp_path / "l.duckdb", rows) as store:
        ids = [q.id for q in store.questions(status="closed", limit=5)]
        folded = scoring.analyst_levels(fold=True)
        one = scoring.score(store, n_resamples=40, groupings=("forecaster", "tag", "source", "quarter"),
                            calibrations={"folded": folded}, question_ids=ids).as_json()
        for by in ("forecaster", "tag", "source", "quarter"):
            separate = scoring.score(store, n_resamples=40, by=by).as_json()
            assert_same(one["groupings"][by]["groups"], separate["groups"], by)
            assert one["groupings"][by]["n_groups"] == len(separate["groups"])
        assert_same(one["calibrations"]["folded"],
                    scoring.score(store, levels="analyst", fold=True).as_json()["calibration"])
        every = scoring.score(store, include_questions=True, n_resamples=0).as_json()["questions"]
        assert one["questions"]
        assert_same(one["questions"], [q for q in every if q["question_id"] in ids])
        assert_same(one["relative"], scoring.score(store, n_resamples=40).as_json()["relative"])
        assert scoring.score(store, n_resamples=0, relative=False).relative is None
        capped = scoring.score(store, n_resamples=0, groupings=("source", "tag"), max_groups=3).groupings
        assert capped["source"] == scoring.Grouping(n_groups=4, too_many=True, groups=())
        assert not capped["tag"].too_many and len(capped["tag"].groups) == 2


def test_scores_are_reproducible(tmp_path):
    """Bit for bit, run after run: the draws are seeded, and the float sums DuckDB could add in any
    order (Murphy's over bins, the tables' over values) are ordered. Ten runs, since one in ten or so
    differed in the last bit before."""
    rows = [row for i in range(60) for row in question_rows(
        f"q{i}", [(0.1 + 0.8 * ((i * 7) % 10) / 10, 0), (0.5, 3 + i % 5)], i % 2, forecaster=("ann", "bo")[i % 2],
        source_title=f"S{i % 6}")]
    with imported(tmp_path / "l.duckdb", rows) as store:
        once = scoring.score(store, by="source", n_resamples=100).as_json()
        for _ in range(10):
            assert scoring.score(store, by="source", n_resamples=100).as_json() == once


# -- the JSON contract: one shape --------------------------------------------------------------


def shape(value):
    """The keys of a JSON value, recursively: dicts by key; a list of dicts by the union of its elements'."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        merged: dict = {}
        for item in value:
            merged.update(shape(item))
        return [merged]
    return None


def assert_same_shape(one, other, where=""):
    """The same keys at every level where both sides hold an object (a list of objects compares its
    elements' keys; a null or an empty list, where the schema allows one, has nothing to compare)."""
    if isinstance(one, dict) and isinstance(other, dict):
        assert one.keys() == other.keys(), f"{where}: {sorted(one.keys() ^ other.keys())}"
        for key in one:
            assert_same_shape(one[key], other[key], f"{where}.{key}")
    elif isinstance(one, list) and isinstance(other, list):
        assert_same_shape(one[0], other[0], f"{where}[]")


def test_json_has_one_shape_empty_or_full(tmp_path, cli):
    p, o = calibrated(np.random.default_rng(6), 40, [0.2, 0.5, 0.8])
    rows = [row for i, (pi, oi) in enumerate(zip(p, o, strict=True))
            for row in question_rows(f"q{i}", [(pi, 0), (1 - pi, 5 + i % 7)], oi, forecaster=("ann", "bo")[i % 2],
                                     tags=["t"])]
    rows += question_rows("mc", [(0.5, 0)], 1, forecaster="ann")  # replaced by a multiple-choice question below
    rows[-1].update(probability=None, options=["A", "B"], probabilities=[0.7, 0.3], outcome="A")
    imported(tmp_path / "ledger.duckdb", rows).close()
    full = cli.json("score", "--by", "forecaster", "--questions", "--resamples", "30")
    empty = cli.json("score", "--by", "forecaster", "--questions", "--resamples", "30", "--since", "2999-01-01")
    assert full["n_scored"] > 0 and full["n_multiple_choice"] == 1 and empty["n_scored"] == 0 and empty["groups"] == []
    assert full.keys() == empty.keys()
    assert_same_shape(shape(full), shape(empty))
    # every group carries the keys of the whole selection's scores, nested objects included
    metrics = {key: value for key, value in shape(empty).items() if key in scoring.Metrics.__dataclass_fields__}
    for group in full["groups"]:
        assert group.keys() == {*metrics, "group"}
        assert_same_shape({k: v for k, v in shape(group).items() if k != "group"}, metrics, "group")
    # the undefined is null, never missing
    assert empty["brier"] is None and empty["murphy"]["reliability"] is None and empty["corp"]["mcb"] is None
    assert empty["relative"] is None and full["relative"] is not None


# -- the boundary ---------------------------------------------------------------------------------


def test_scoring_never_imports_the_store_and_loads_numpy_only_to_compute():
    """Scores read the ledger's views through a connection: no module of ledger/scoring names the store,
    and importing the package (as the CLI does) loads neither the store nor numpy."""
    import ast
    import subprocess
    import sys

    package = Path(scoring.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(name.startswith("ledger.store") for name in names), path.name
    probe = "import json, sys, ledger.scoring; print(json.dumps(sorted(m for m in ('ledger.store', 'numpy', " \
            "'duckdb') if m in sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == []


def test_a_made_selection_is_scored_as_made(revised_ledger):
    """score() of a Scored scores its selection, and refuses another; a part of it (Scored.narrowed)
    is scored as a selection of that forecaster, and closing it leaves the whole one readable."""
    with scoring.Scored(revised_ledger, scoring.Selection(policy="last")) as whole:
        with pytest.raises(TypeError):
            scoring.score(whole, policy="first")
        with whole.narrowed("alice") as part:
            alice = scoring.score(part, n_resamples=0)
        with whole.narrowed("nobody") as part:
            assert scoring.score(part, n_resamples=0).n_questions == 0
        assert scoring.score(whole, n_resamples=0).as_json() == scoring.score(
            revised_ledger, policy="last", n_resamples=0).as_json()
    assert alice.as_json() == scoring.score(revised_ledger, policy="last", forecaster="alice", n_resamples=0).as_json()
    assert alice.brier == pytest.approx(0.01, abs=1e-12) and alice.selection.forecaster == "alice"
