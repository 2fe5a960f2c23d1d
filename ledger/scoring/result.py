"""What scoring returns: frozen dataclasses whose JSON (:meth:`Scores.as_json`) has one fixed shape.

Every field is always there, whatever the selection: a number that is
undefined for it (a Brier score without yes/no questions, an interval
without resamples, relative scores with one forecaster) is None, ``null``
in JSON; an empty table is an empty list. ``ledger score --json`` prints
:meth:`Scores.as_json`; the report and the review read the attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.scoring.selection import Exclusions

__all__ = ["CalibrationBin", "Corp", "CurvePoint", "Exclusions", "Group", "Grouping", "Interval", "Metrics", "Murphy",
           "Paired", "Period", "QuestionScore", "Relative", "Retractions", "Scores", "Settings", "as_json"]

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One non-empty bin [bin_low, bin_high) of a calibration table."""

    bin_low: float
    bin_high: float
    n: float  # weight in the bin: scored pairs, fractional under time-averaging
    n_forecasts: int
    mean_forecast: float
    observed: float  # the weighted share that happened
    ci_low: float  # Wilson 95% interval of observed
    ci_high: float


@dataclass(frozen=True, slots=True)
class Murphy:
    """Brier = reliability − resolution + uncertainty + within_bin_variance − within_bin_covariance."""

    reliability: float | None
    resolution: float | None
    uncertainty: float | None
    within_bin_variance: float | None
    within_bin_covariance: float | None
    bins: str


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The CORP reliability curve at one forecast value, with its consistency band (None without resamples)."""

    x: float
    recalibrated: float
    n: float
    band_low: float | None
    band_high: float | None


@dataclass(frozen=True, slots=True)
class Corp:
    """CORP decomposition, Brier = mcb − dsc + unc, with the MCB null and the curve."""

    mcb: float | None
    dsc: float | None
    unc: float | None
    mcb_p_value: float | None
    mcb_null_mean: float | None
    mcb_null_q95: float | None
    n_resamples: int  # resamples drawn (0 without yes/no data)
    band_level: float | None
    curve: tuple[CurvePoint, ...]
    resampling_note: str | None


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every score of one set of scored pairs (the whole selection, or one group)."""

    n_questions: int
    n_forecasts: int
    n_backfilled: int
    n_binary: int
    n_multiple_choice: int
    imputed_share: float | None
    n_scored: int
    brier: float | None
    brier_form: str
    brier_ci: Interval | None
    log_loss: float | None
    base_rate: float | None
    brier_skill_vs_half: float | None
    brier_skill_vs_base_rate: float | None
    brier_multi: float | None
    brier_multi_form: str
    murphy: Murphy
    corp: Corp
    calibration: tuple[CalibrationBin, ...]


@dataclass(frozen=True, slots=True)
class Group(Metrics):
    """The scores of one group of a breakdown."""

    group: str


@dataclass(frozen=True, slots=True)
class Grouping:
    """One breakdown: its groups, or only their number when there are more than asked for."""

    n_groups: int
    too_many: bool
    groups: tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class Period:
    """The scores of the pairs whose outcome became known in one quarter."""

    period: str
    n_scored: int
    brier: float | None
    brier_multi: float | None


@dataclass(frozen=True, slots=True)
class Relative:
    """A forecaster's mean Brier (Good Judgment form) minus the median of the others, per question."""

    forecaster: str
    n_questions: int
    mean_difference: float
    ci: Interval | None


@dataclass(frozen=True, slots=True)
class Paired:
    """Mean of Brier(a) − Brier(b) (Good Judgment form) over the questions both forecast."""

    a: str
    b: str
    n_questions: int
    mean_difference: float | None
    ci: Interval | None


@dataclass(frozen=True, slots=True)
class QuestionScore:
    """One scored (question, forecaster) pair."""

    question_id: str
    forecaster: str
    kind: str
    brier: float | None
    brier_multi: float
    log_loss: float | None
    n_forecasts: int


@dataclass(frozen=True, slots=True)
class Settings:
    """What was scored and how: the selection's filters and the options that shape the numbers."""

    policy: str
    forecaster: str | None
    tag: str | None
    since: date | None
    exclude_backfilled: bool
    bins: str
    fold: bool
    by: str | None
    seed: int
    n_resamples: int


@dataclass(frozen=True, slots=True)
class Retractions:
    """Questions of the selection annulled after their outcome was recorded, disclosed beside every score:
    how many, which, and the selection's binary Brier score (same policy) had each counted at its last
    outcome (None when there are none)."""

    n: int
    brier_if_counted: float | None
    questions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scores(Metrics):
    """The whole score of a selection (the fields of :class:`Metrics`), with what was left out and why,
    the methodology, and what the options asked for (None or empty when not asked)."""

    excluded: Exclusions
    selection: Settings
    methodology: dict[str, str]
    over_time: tuple[Period, ...]
    forecasters: tuple[str, ...]
    relative: tuple[Relative, ...] | None  # with several forecasters
    paired: tuple[Paired, ...] | None  # with 2 to 12 forecasters
    calibrations: dict[str, tuple[CalibrationBin, ...]]
    groups: tuple[Group, ...] | None  # with ``by``
    groupings: dict[str, Grouping]
    questions: tuple[QuestionScore, ...] | None  # with ``include_questions`` or ``question_ids``
    retractions: Retractions

    def as_json(self) -> dict[str, Any]:
        """The JSON contract of ``ledger score --json``: plain dicts, lists, numbers, strings and None."""
        return as_json(self)


def as_json(value: Any) -> Any:
    """A result (or any part of one) as plain JSON data, fields in declaration order."""
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: as_json(getattr(value, name)) for name in type(value).__dataclass_fields__}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value
