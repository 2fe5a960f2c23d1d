"""The metrics: each a small definition over the scored selection, set-wise in SQL (numpy for CORP).

Notation: a scored row has forecast p = P(yes), outcome o (1 if yes, else
0) and weight w; each (question, forecaster) pair's weights sum to 1, so a
weighted mean over rows is a mean over scored pairs. Functions take a
:class:`~ledger.scoring.selection.Grouped` (the selection labelled by a
grouping) and return their numbers per group; the one-number aggregates are
SQL expressions over the pairs relation, computed together in one pass by
:func:`pair_aggregates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.scoring.binning import DECIMAL, Binning, bin_index_sql, decimal_text, folded_sql
from ledger.scoring.result import CalibrationBin, Corp, CurvePoint, Murphy, Paired, Period, QuestionScore, Relative

if TYPE_CHECKING:
    import numpy as np

    from ledger.scoring.resampling import Values
    from ledger.scoring.selection import Grouped, Scored

__all__ = ["PAIR_AGGREGATES", "Z95", "base_rate", "brier", "brier_intervals", "brier_multi", "brier_skill",
           "calibration", "corp", "forecasts_in_bin", "imputed_share", "leave_one_out_median", "log_loss",
           "murphy", "n_backfilled", "n_binary", "n_forecasts", "n_multiple_choice", "n_questions", "n_scored",
           "over_time", "pair_aggregates", "paired_differences", "per_question", "relative_scores"]

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
YES_NO = "FILTER (WHERE kind = 'binary')"


# -- one-number aggregates over the scored pairs --------------------------------------------


def n_questions() -> str:
    """Questions with a scored pair."""
    return "count(DISTINCT question_no)"


def n_forecasts() -> str:
    """Forecasts used (imputed stretches are not forecasts)."""
    return "sum(n_forecasts)::BIGINT"


def n_backfilled() -> str:
    """Backfilled forecasts among those used."""
    return "sum(n_backfilled)::BIGINT"


def n_binary() -> str:
    """Yes/no questions scored."""
    return "count(DISTINCT question_no) FILTER (WHERE kind = 'binary')"


def n_multiple_choice() -> str:
    """Multiple-choice questions scored."""
    return "count(DISTINCT question_no) FILTER (WHERE kind = 'multiple_choice')"


def imputed_share() -> str:
    """Share of the scored time that is imputed as the uninformed forecast: Σ w_imputed / Σ w."""
    return "sum(imputed_weight) / sum(weight)"


def n_scored() -> str:
    """Scored (question, forecaster) pairs: round(Σ w)."""
    return "round(sum(weight))::BIGINT"


def brier() -> str:
    """Brier score, binary form: Σ w (p − o)² / Σ w over yes/no pairs. 0 is perfect, 0.25 always 50%, 1 worst."""
    return f"sum(brier) {YES_NO} / sum(weight) {YES_NO}"


def brier_multi() -> str:
    """Brier score, Good Judgment form: Σ w Σᵢ (pᵢ − oᵢ)² / Σ w over all pairs, 0..2 (yes/no: 2 (p − o)²)."""
    return "sum(brier_multi) / sum(weight)"


def log_loss() -> str:
    """Log loss: Σ w · −ln clip(q, ε, 1 − ε) / Σ w over yes/no pairs, q the probability given to what
    happened, ε = 2⁻⁵² (as sklearn), so a certain forecast that failed costs 36.04, not infinity."""
    return f"sum(log_loss) {YES_NO} / sum(weight) {YES_NO}"


def base_rate() -> str:
    """Base rate: Σ w o / Σ w over yes/no pairs, the share of scored yes/no pairs that resolved yes."""
    return f"sum(yes_weight) {YES_NO} / sum(weight) {YES_NO}"


PAIR_AGGREGATES = (n_questions, n_forecasts, n_backfilled, n_binary, n_multiple_choice, imputed_share,
                   n_scored, brier, brier_multi, log_loss, base_rate)


def pair_aggregates(g: Grouped, aggregates=PAIR_AGGREGATES) -> dict[str, dict[str, Any]]:
    """Per group, every aggregate in one pass over the pairs: ``{grp: {name: value}}``."""
    columns = ", ".join(f"{a()} AS {a.__name__}" for a in aggregates)
    return _by_group(g.execute(f"SELECT grp, {columns} FROM {g.pairs} GROUP BY grp"))


def brier_skill(score: float | None, reference: float | None) -> float | None:
    """Brier skill score: BSS = 1 − B / B_ref (1 perfect, 0 no better than the reference); None if undefined."""
    if score is None or reference is None or reference == 0:
        return None
    return 1.0 - score / reference


def _by_group(cursor) -> dict[str, dict[str, Any]]:
    names = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


# -- binned: calibration and Murphy ---------------------------------------------------------


def _bins_sql(g: Grouped, binning: Binning, *, fold: bool) -> str:
    """Per group and bin: weight n, forecasts, Σwp, Σwo, Σwp², Σwpo (on the folded scale when ``fold``).

    The sums run in the order of the value (``ORDER BY``), as :func:`murphy`'s run in bin order: a float
    sum depends on its order, and DuckDB joins and groups in none fixed, so this keeps them reproducible.
    """
    edges = binning.table_edges() if fold else binning.edges
    if fold:
        exact, p = folded_sql("exact"), folded_sql("probability")
        yes = "CASE WHEN exact < 0.5 THEN weight - yes_weight ELSE yes_weight END"
    else:
        exact, p, yes = "exact", "probability", "yes_weight"
    return f"""
        SELECT grp, bin, sum(weight ORDER BY p) AS n, sum(n_forecasts) AS n_forecasts,
               sum(weight * p ORDER BY p) AS sum_p, sum(yes ORDER BY p) AS sum_o,
               sum(weight * p * p ORDER BY p) AS sum_pp, sum(p * yes ORDER BY p) AS sum_po
        FROM (SELECT grp, n_forecasts, weight, {p} AS p, {yes} AS yes, {bin_index_sql(exact, edges)} AS bin
              FROM {g.values})
        GROUP BY grp, bin"""


def calibration(g: Grouped, binning: Binning, z: float = Z95) -> dict[str, tuple[CalibrationBin, ...]]:
    """Calibration table per group: for each non-empty bin [low, high)

    n = Σ w, mean_forecast = Σ w p / n, observed ô = Σ w o / n, and the Wilson
    interval (ô + z²/2n ± z √(ô(1 − ô)/n + z²/4n²)) / (1 + z²/n), clamped to
    [0, 1] and exact at 0 and 1 yes.
    """
    edges = binning.table_edges()
    lows = "[" + ", ".join(f"{decimal_text(e)}::DOUBLE" for e in edges[:-1]) + "]"
    highs = "[" + ", ".join(f"{decimal_text(e)}::DOUBLE" for e in edges[1:]) + "]"
    centre, spread = "obs + z * z / (2 * n)", "z * sqrt(obs * (1 - obs) / n + z * z / (4 * n * n))"
    cursor = g.execute(f"""
        WITH b AS ({_bins_sql(g, binning, fold=binning.fold)}),
        r AS (SELECT *, sum_o / n AS obs, {z}::DOUBLE AS z FROM b WHERE n > 0)
        SELECT grp, {lows}[bin + 1] AS bin_low, {highs}[bin + 1] AS bin_high, n, n_forecasts,
               sum_p / n AS mean_forecast, obs AS observed,
               CASE WHEN sum_o <= 0 THEN 0.0 ELSE greatest(0.0, ({centre} - {spread}) / (1 + z * z / n)) END AS ci_low,
               CASE WHEN sum_o >= n THEN 1.0 ELSE least(1.0, ({centre} + {spread}) / (1 + z * z / n)) END AS ci_high
        FROM r ORDER BY grp, bin""")
    out: dict[str, list[CalibrationBin]] = {}
    for grp, *row in cursor.fetchall():
        out.setdefault(grp, []).append(CalibrationBin(*row))
    return {grp: tuple(rows) for grp, rows in out.items()}


def murphy(g: Grouped, binning: Binning) -> dict[str, Murphy]:
    """Murphy decomposition over the bins (unfolded scale), exact:

    B = REL − RES + UNC + WBV − WBC with REL = Σ n_k (f̄_k − ō_k)² / N,
    RES = Σ n_k (ō_k − ō)² / N, UNC = ō (1 − ō), WBV = Σ_k Σ_i w (p_i − f̄_k)² / N,
    WBC = 2 Σ_k Σ_i w (p_i − f̄_k)(o_i − ō_k) / N.
    """
    cursor = g.execute(f"""
        WITH b AS ({_bins_sql(g, binning, fold=False)}),
        t AS (SELECT grp, sum(n ORDER BY bin) AS total, sum(sum_o ORDER BY bin) / sum(n ORDER BY bin) AS obar
              FROM b GROUP BY grp)
        SELECT grp,
               sum(n * (sum_p / n - sum_o / n) ^ 2 ORDER BY bin) / total AS reliability,
               sum(n * (sum_o / n - obar) ^ 2 ORDER BY bin) / total AS resolution,
               obar * (1 - obar) AS uncertainty,
               sum(sum_pp - sum_p * sum_p / n ORDER BY bin) / total AS within_bin_variance,
               2 * sum(sum_po - sum_p * sum_o / n ORDER BY bin) / total AS within_bin_covariance
        FROM b JOIN t USING (grp) WHERE n > 0 GROUP BY grp, total, obar""")
    bins = binning.describe_murphy()
    return {grp: Murphy(**parts, bins=bins) for grp, parts in _by_group(cursor).items()}


def forecasts_in_bin(g: Grouped, binning: Binning, bin_low: float) -> list[dict[str, Any]]:
    """The scored yes/no rows in the table bin that starts at ``bin_low``: the rule that counts them, listing."""
    edges = binning.table_edges()
    index = [float(e) for e in edges[:-1]].index(float(bin_low))
    scored = g.scored
    exact = f"CAST(r.probability AS {DECIMAL})"
    cursor = g.execute(f"""
        SELECT q.question_id, n.forecaster, r.seq, r.probability, r.resolved_yes, r.weight
        FROM {g.binary_rows} r JOIN {scored.questions} q USING (question_no)
        JOIN {scored.forecasters} n USING (forecaster_no)
        WHERE {bin_index_sql(folded_sql(exact) if binning.fold else exact, edges)} = ?
        ORDER BY q.question_id, n.forecaster, r.seq""", [index])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- CORP ------------------------------------------------------------------------------------


def _values(g: Grouped) -> tuple[list[str], Values]:
    """The per-value sums of every group as arrays, groups as ``grp_no`` codes into the returned names."""
    import numpy as np

    from ledger.scoring.resampling import Values

    data = g.execute(f"SELECT grp_no, probability, weight, yes_weight, weight_sq FROM {g.values} "
                     "ORDER BY grp_no, probability").fetchnumpy()
    names = g.names
    return names, Values(np.asarray(data["grp_no"], np.int64), *(np.asarray(data[c], float) for c in (
        "probability", "weight", "yes_weight", "weight_sq")), n_groups=len(names))


def _per_group(values: Values, a) -> np.ndarray:
    import numpy as np

    return np.bincount(values.groups, weights=a, minlength=values.n_groups)


def _brier_of(values: Values, forecast) -> np.ndarray:
    """Per group, the Brier score of forecasting ``forecast`` at each value: Σ (W f² − 2 f S + S) / N
    (NaN for a group without yes/no values)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        return _per_group(values, values.weight * forecast * forecast - 2 * forecast * values.yes + values.yes) / \
            _per_group(values, values.weight)


def corp(g: Grouped, briers: dict[str, float], *, seed: int, n_resamples: int) -> dict[str, Corp]:
    """CORP decomposition per group (Dimitriadis, Gneiting & Jordan 2021): B = MCB − DSC + UNC.

    C = PAV(o on p) over the distinct forecast values (ties pooled);
    MCB = B(p) − B(C), DSC = UNC − B(C), UNC = ō(1 − ō), with
    B(C) = Σ (W C² − 2 C S + S) / N. Also the MCB null distribution (outcomes
    redrawn Bernoulli(p), PAV refitted) and the consistency band of the curve,
    for all groups in one batch (:func:`ledger.scoring.resampling.calibration_null`);
    above RESAMPLE_MAX_VALUES distinct values a group is resampled on 0.001
    steps, and its curve and observed MCB for the p-value are those of the
    pooled values. ``briers`` is each group's B(p).
    """
    import numpy as np

    from ledger.scoring.isotonic import pav
    from ledger.scoring.resampling import BAND_LEVEL, calibration_null, pool_values

    names, values = _values(g)
    starts, present = values.bounds()
    fit = pav(values.yes, values.weight, starts)
    fit_score = _brier_of(values, fit)
    with np.errstate(invalid="ignore"):
        obar = _per_group(values, values.yes) / _per_group(values, values.weight)
    mcb = np.array([briers.get(name, np.nan) for name in names]) - fit_score
    unc = obar * (1 - obar)
    dsc = unc - fit_score
    resampled, pooled = pool_values(values)
    if resampled is not values:
        fit = pav(resampled.yes, resampled.weight, resampled.bounds()[0])
    # the p-value compares with the MCB of the values resampled: pooled ones give their own
    observed = np.where(pooled, _brier_of(resampled, resampled.x) - _brier_of(resampled, fit), mcb)
    null = calibration_null(resampled, observed, seed=seed, n_resamples=n_resamples)
    lo, size = resampled.bounds()
    out = {}
    for code, name in enumerate(names):
        if not present[code]:
            continue
        at = slice(int(lo[code]), int(lo[code] + size[code]))
        band = (None, None) if null is None else (null.band_low[at].tolist(), null.band_high[at].tolist())
        curve = tuple(CurvePoint(x, f, n, *(None if b is None else b[i] for b in band)) for i, (x, f, n) in
                      enumerate(zip(resampled.x[at].tolist(), fit[at].tolist(), resampled.weight[at].tolist(),
                                    strict=True)))
        out[name] = Corp(
            mcb=float(mcb[code]), dsc=float(dsc[code]), unc=float(unc[code]),
            mcb_p_value=None if null is None else float(null.p_value[code]),
            mcb_null_mean=None if null is None else float(null.null_mean[code]),
            mcb_null_q95=None if null is None else float(null.null_q95[code]),
            n_resamples=0 if null is None else n_resamples, band_level=None if null is None else BAND_LEVEL,
            curve=curve, resampling_note="forecast values pooled to 0.001 steps for the resampling"
            if pooled[code] else None)
    return out


# -- intervals and several forecasters ----------------------------------------------------------


def brier_intervals(g: Grouped, *, seed: int, n_resamples: int) -> dict[str, tuple[float, float] | None]:
    """Per group, the 95% bootstrap interval of the mean binary Brier over its scored pairs (the per-pair
    Brier Σ w (p − o)² over the pair's rows), all groups in one batch."""
    from ledger.scoring.resampling import bootstrap_mean_ci

    data = g.execute(f"SELECT grp_no, brier FROM {g.pairs} WHERE kind = 'binary'").fetchnumpy()
    names = g.names
    cis = bootstrap_mean_ci(data["brier"], data["grp_no"], n_groups=len(names), seed=seed, n_resamples=n_resamples)
    return dict(zip(names, cis, strict=True))


def leave_one_out_median(groups, values):
    """For (group, value) arrays sorted by group then value: per element, the median of the other values of
    its group (NaN when it is alone)."""
    import numpy as np

    n = len(groups)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, n])
    start = np.repeat(starts, sizes)
    size = np.repeat(sizes, sizes)
    rank = np.arange(n) - start
    m = size - 1  # number of others
    ok = m > 0
    lo_pos = np.where(ok, (m - 1) // 2, 0)
    hi_pos = np.where(ok, m // 2, 0)
    # position j among the others maps to j (before own rank) or j + 1 (after it)
    lo_idx = np.minimum(start + lo_pos + (lo_pos >= rank), n - 1)
    hi_idx = np.minimum(start + hi_pos + (hi_pos >= rank), n - 1)
    median = (values[lo_idx] + values[hi_idx]) / 2
    return np.where(ok, median, np.nan)


def relative_scores(scored: Scored, *, seed: int, n_resamples: int) -> tuple[Relative, ...]:
    """Per forecaster: mean over questions of Brier (GJ form) − median Brier of the others on that question,
    with a 95% bootstrap interval (all forecasters in one batch)."""
    import numpy as np

    from ledger.scoring.resampling import bootstrap_mean_ci

    data = scored.con.execute(f"SELECT question_no, forecaster_no, brier_multi FROM {scored.pairs} "
                              "ORDER BY question_no, brier_multi").fetchnumpy()
    scores = np.asarray(data["brier_multi"], float)
    difference = scores - leave_one_out_median(np.asarray(data["question_no"]), scores)
    keep = ~np.isnan(difference)
    forecaster, difference = np.asarray(data["forecaster_no"], np.int64)[keep] - 1, difference[keep]
    names = [name for (name,) in scored.con.execute(
        f"SELECT forecaster FROM {scored.forecasters} ORDER BY forecaster_no").fetchall()]
    cis = bootstrap_mean_ci(difference, forecaster, n_groups=len(names), seed=seed, n_resamples=n_resamples)
    count = np.bincount(forecaster, minlength=len(names))
    total = np.bincount(forecaster, weights=difference, minlength=len(names))
    return tuple(Relative(name, int(count[i]), float(total[i] / count[i]), cis[i])
                 for i, name in enumerate(names) if count[i])


def paired_differences(scored: Scored, forecasters: list[str], *, seed: int,
                       n_resamples: int) -> tuple[Paired, ...]:
    """Per two forecasters a, b (a before b in ``forecasters``): mean over their common questions of
    Brier(a) − Brier(b) (GJ form), with a 95% bootstrap interval; every pair from one self-join."""
    import numpy as np

    from ledger.scoring.resampling import bootstrap_mean_ci

    number = dict(scored.con.execute(f"SELECT forecaster, forecaster_no FROM {scored.forecasters}").fetchall())
    wanted = [(a, b) for i, a in enumerate(forecasters) for b in forecasters[i + 1:]]
    data = scored.con.execute(f"""
        SELECT a.forecaster_no::BIGINT << 32 | b.forecaster_no AS pair, a.brier_multi - b.brier_multi AS difference
        FROM {scored.pairs} a JOIN {scored.pairs} b ON a.question_no = b.question_no AND a.forecaster_no < b.forecaster_no
        """).fetchnumpy()
    keys = np.array([number[a] << 32 | number[b] for a, b in wanted], np.int64)
    order = np.argsort(keys)
    code = np.searchsorted(keys[order], data["pair"])  # rows of pairs not wanted fall outside or mismatch
    known = (code < keys.size) & (keys[order][np.minimum(code, keys.size - 1)] == data["pair"])
    codes, difference = order[code[known]], np.asarray(data["difference"], float)[known]
    cis = bootstrap_mean_ci(difference, codes, n_groups=len(wanted), seed=seed, n_resamples=n_resamples)
    count = np.bincount(codes, minlength=len(wanted))
    total = np.bincount(codes, weights=difference, minlength=len(wanted))
    return tuple(Paired(a, b, int(count[i]), float(total[i] / count[i]) if count[i] else None, cis[i])
                 for i, (a, b) in enumerate(wanted))


def over_time(scored: Scored) -> tuple[Period, ...]:
    """Per quarter in which outcomes became known: scored pairs, binary Brier, GJ Brier."""
    points = pair_aggregates(scored.grouped("quarter"), (n_scored, brier, brier_multi))
    return tuple(Period(period, **m) for period, m in sorted(points.items()))


def per_question(scored: Scored, question_ids: list[str] | None = None) -> tuple[QuestionScore, ...]:
    """Per scored pair (of the given questions, or all): question, forecaster, kind, binary Brier (if
    yes/no), GJ Brier, log loss, forecasts used."""
    only = "WHERE q.question_id IN (SELECT unnest(?::VARCHAR[]))" if question_ids is not None else ""
    cursor = scored.con.execute(f"""
        SELECT q.question_id, n.forecaster, p.kind, p.brier, p.brier_multi, p.log_loss, p.n_forecasts
        FROM {scored.pairs} p JOIN {scored.questions} q USING (question_no)
        JOIN {scored.forecasters} n USING (forecaster_no) {only}
        ORDER BY q.question_id, n.forecaster""", [list(question_ids)] if question_ids is not None else [])
    return tuple(QuestionScore(*row) for row in cursor.fetchall())
