"""The methodology: the prose every number links to (the report's Methodology section, ``--json``'s
``methodology``). It says in words what :mod:`ledger.scoring.selection` and
:mod:`ledger.scoring.metrics` compute; when one changes, so does the other.
"""

from __future__ import annotations

__all__ = ["BRIER_FORM", "BRIER_MULTI_FORM", "METHODOLOGY", "WINDOW_DEFINITION", "methodology", "policy_text"]

BRIER_FORM = "binary: mean (p - o)^2 over yes/no questions, 0..1"
BRIER_MULTI_FORM = "Good Judgment: mean sum_i (p_i - o_i)^2 over all questions, 0..2"

WINDOW_DEFINITION = (
    "Time-averaged: a (question, forecaster) pair is scored over the question's scored window, "
    "from the moment the question opened (the earlier of when it was logged and its first counted "
    "forecast by anyone) up to the moment its outcome became known (resolved_at). Each forecast stands "
    "from its made_at until the forecaster's next forecast or the end of the window; the pair's score "
    "is the time-weighted mean of the scores of the standing forecasts (exact timestamps, not days). "
    "Before the forecaster's first forecast the window is scored as the uninformed forecast "
    "(50% for yes/no, 1/k for k options: Brier 0.25), so joining late never scores better than "
    "ignorance (these imputed stretches are reported as imputed_share). "
    "A window of zero length (forecast made at the moment the outcome became known) scores the last forecast."
)

METHODOLOGY = {
    "brier": "Brier score, binary form: weighted mean over scored pairs of (p - o)^2, p = P(yes), o = 1 if yes "
             "else 0. 0 is perfect, 0.25 is always 50%, 1 is always certain and wrong. Yes/no questions only.",
    "brier_multi": "Brier score, Good Judgment form: mean over scored pairs of sum over options of (p_i - o_i)^2, "
                   "0..2, over all questions; a yes/no question counts with two options (twice its binary Brier).",
    "log_loss": "Log loss: mean of -ln(probability given to what happened); probabilities are clipped to "
                "[eps, 1 - eps] with eps = 2.22e-16 (float64 machine epsilon, as sklearn), so a certain "
                "forecast that failed costs 36.04 instead of infinity.",
    "base_rate": "Base rate: share of scored yes/no pairs that resolved yes.",
    "brier_skill_vs_half": "Brier skill score against always 50%: 1 - Brier / 0.25.",
    "brier_skill_vs_base_rate": "Brier skill score against always forecasting the base rate b of the "
                                "selection: 1 - Brier / (b(1 - b)); undefined when all outcomes agree.",
    "murphy": "Murphy decomposition over the probability bins of the calibration table (unfolded scale): "
              "Brier = reliability - resolution + uncertainty + within_bin_variance - within_bin_covariance, "
              "with, over bins k of weight n_k, mean forecast f_k and observed frequency o_k: "
              "reliability = sum n_k (f_k - o_k)^2 / N, resolution = sum n_k (o_k - o)^2 / N, "
              "uncertainty = o(1 - o), within_bin_variance = sum over forecasts (p - f_k)^2 / N, "
              "within_bin_covariance = 2 sum over forecasts (p - f_k)(o - o_k) / N. Exact, not approximate.",
    "corp": "CORP decomposition (Dimitriadis, Gneiting & Jordan, PNAS 2021): the forecasts are recalibrated "
            "by isotonic regression (pool-adjacent-violators, ties pooled); MCB = Brier(forecast) - "
            "Brier(recalibrated), DSC = UNC - Brier(recalibrated), UNC = Brier of always the base rate; "
            "Brier = MCB - DSC + UNC exactly.",
    "mcb_p_value": "Chance of an MCB at least as large as observed if the forecaster were perfectly calibrated: "
                   "outcomes are redrawn as Bernoulli(p) and PAV refitted, n_resamples times (seeded). Per "
                   "distinct forecast value the number of yes is drawn as Binomial(n, p) (exact when every "
                   "weight is 1; with time-averaged weights as (W/m) Binomial(m, p), m the Kish effective size "
                   "W^2 / sum w^2). Small samples show MCB > 0 even when calibrated; this says whether the "
                   "observed MCB is more than chance. The consistency band of the reliability curve "
                   "(band_low, band_high; 90%) comes from the same resamples. Above 1000 distinct forecast "
                   "values the resampling uses the values rounded to 0.001 (resampling_note says so). Each group "
                   "of a breakdown draws the seeded stream afresh, so its figures are those it has scored alone.",
    "calibration": "Calibration table: half-open bins [low, high) decided on the exact decimal value of the "
                   "forecast (rounded to 12 decimals), the last bin closed at 1. n is the weight in the bin "
                   "(scored pairs; fractional under time-averaging), observed the weighted share that "
                   "happened, ci the Wilson 95% interval for it (z = 1.959964, n and x weighted). Folded: a "
                   "forecast p < 0.5 on X counts as 1 - p on not-X.",
    "brier_ci": "95% bootstrap interval of the mean binary Brier: scored pairs resampled with replacement "
                "n_resamples times (seeded, reproducible). Up to 256 pairs each resample draws that many pairs; "
                "above, a multinomial draw over distinct per-pair scores (exact), and above 256 distinct scores "
                "they are pooled into 256 quantile groups whose inner spread is added as a normal term with the "
                "same variance. Each group of a breakdown draws the seeded stream afresh, so its interval is "
                "the one it has scored alone.",
    "relative": "Relative score: per question, the forecaster's Brier (Good Judgment form) minus the median "
                "Brier of the other forecasters on the same question; mean over questions, with a bootstrap "
                "interval. Negative is better than the others.",
    "paired": "Paired difference of two forecasters: mean over their common questions of Brier(a) - Brier(b) "
              "(Good Judgment form), with a 95% bootstrap interval over questions.",
    "window": WINDOW_DEFINITION,
    "groups": "By tag a question counts once in each of its tags (untagged: '(none)'); by quarter or year of "
              "when the outcome became known; source is the analysis title (else URL); author its author.",
}


POLICY_TEXT = {
    "first": "first: each forecaster's first forecast on a question counts (made at or before the moment the "
             "outcome became known).",
    "last": "last: each forecaster's last forecast made at or before the moment the outcome became known counts.",
    "time-averaged": WINDOW_DEFINITION,
}


def policy_text(policy: str) -> str:
    """What the policy counts, in words."""
    return POLICY_TEXT[policy]


def methodology(policy: str) -> dict[str, str]:
    """Every definition, keyed as the result's fields are, plus ``policy`` for the policy in use."""
    return {**METHODOLOGY, "policy": policy_text(policy)}
