"""Scoring: how good were the forecasts, computed set-wise in SQL over the ledger.

:func:`score` makes the :class:`Selection` once (:mod:`~ledger.scoring.selection`:
which forecasts count, weighted, as a :class:`Scored` handle on TEMP tables),
reads every metric from it (:mod:`~ledger.scoring.metrics`, over bins from
:mod:`~ledger.scoring.binning`, CORP through :mod:`~ledger.scoring.isotonic`,
intervals and the calibration null from :mod:`~ledger.scoring.resampling`)
and returns one typed :class:`Scores` (:mod:`~ledger.scoring.result`) whose
:meth:`Scores.as_json` is the contract of ``ledger score --json``. The words
for every number are in :mod:`~ledger.scoring.methodology`.

Scoring reads the ledger's documented views through a DuckDB connection and
never imports the store. numpy is imported only when a score is computed.
"""

from ledger.scoring.binning import MAX_BINS, Binning, analyst_levels, bin_index_sql, equal_bins
from ledger.scoring.compute import Options, score
from ledger.scoring.isotonic import pav, pav_rows
from ledger.scoring.methodology import METHODOLOGY, WINDOW_DEFINITION
from ledger.scoring.metrics import Z95, brier_skill, forecasts_in_bin, leave_one_out_median
from ledger.scoring.resampling import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_mean_ci
from ledger.scoring.result import (CalibrationBin, Corp, CurvePoint, Group, Grouping, Interval, Metrics, Murphy,
                                   Paired, Period, QuestionScore, Relative, Scores, Settings)
from ledger.scoring.selection import GROUPINGS, LOG_EPS, POLICIES, Exclusions, Grouped, Scored, Selection

__all__ = [
    "DEFAULT_RESAMPLES", "DEFAULT_SEED", "GROUPINGS", "LOG_EPS", "MAX_BINS", "METHODOLOGY", "POLICIES",
    "WINDOW_DEFINITION", "Z95",
    "Binning", "CalibrationBin", "Corp", "CurvePoint", "Exclusions", "Group", "Grouped", "Grouping", "Interval",
    "Metrics", "Murphy", "Options", "Paired", "Period", "QuestionScore", "Relative", "Retractions", "Scored", "Scores",
    "Selection", "Settings",
    "analyst_levels", "bin_index_sql", "bootstrap_mean_ci", "brier_skill", "equal_bins", "forecasts_in_bin",
    "leave_one_out_median", "pav", "pav_rows", "score",
]
