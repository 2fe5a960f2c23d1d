"""One scoring pass: the selection made once, every metric read from it, one typed result.

:func:`score` is what ``ledger score``, the report and the review call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.scoring.binning import Binning, analyst_levels, equal_bins
from ledger.scoring.methodology import BRIER_FORM, BRIER_MULTI_FORM, methodology
from ledger.scoring.metrics import (brier, brier_intervals, brier_skill, calibration, corp, murphy, over_time,
                                    pair_aggregates, paired_differences, per_question, relative_scores)
from ledger.scoring.resampling import DEFAULT_RESAMPLES, DEFAULT_SEED
from ledger.scoring.result import Corp, Group, Grouping, Metrics, Murphy, Retractions, Scores, Settings
from ledger.scoring.selection import Grouped, Scored, Selection, check_grouping, retracted_ids

__all__ = ["MAX_PAIRED", "Options", "score"]

MAX_PAIRED = 12  # paired differences are listed for at most this many forecasters (their number grows as n²)


@dataclass(frozen=True)
class Options:
    """How to score: bins, folding, grouping, resampling. Checked when made, so Options are always valid."""

    bins: int | None = None
    levels: str | None = None
    fold: bool = False
    by: str | None = None
    seed: int = DEFAULT_SEED
    n_resamples: int = DEFAULT_RESAMPLES
    include_questions: bool = False
    # Several breakdowns from the one selection: Scores.groupings[by].
    groupings: tuple[str, ...] = ()
    # A grouping in ``groupings`` with more groups than this lists none (too_many), so a page stays bounded.
    max_groups: int | None = None
    # Further calibration tables of the whole selection: Scores.calibrations[name].
    calibrations: Mapping[str, Binning] = field(default_factory=dict)
    relative: bool = True  # relative and paired scores when there are several forecasters
    question_ids: tuple[str, ...] | None = None  # per-question scores of these questions only (implies questions)
    binning: Binning = field(init=False, repr=False, compare=False)  # the table's bins, from bins/levels/fold

    def __post_init__(self) -> None:
        from ledger.errors import LedgerError

        object.__setattr__(self, "groupings", tuple(self.groupings))
        if self.question_ids is not None:
            object.__setattr__(self, "question_ids", tuple(self.question_ids))
        for by in (self.by, *self.groupings):
            if by is not None:
                check_grouping(by)
        if self.n_resamples < 0:
            raise LedgerError("--resamples must be 0 or more")
        if self.levels is not None:
            if self.bins is not None:
                raise LedgerError("give --bins or --levels, not both")
            if self.levels != "analyst":
                raise LedgerError(f"--levels takes 'analyst', got {self.levels!r}")
            binning = analyst_levels(fold=self.fold)
        else:
            binning = equal_bins(10 if self.bins is None else self.bins, fold=self.fold)
        object.__setattr__(self, "binning", binning)


_NOTHING_SCORED = {"n_questions": 0, "n_forecasts": 0, "n_backfilled": 0, "n_binary": 0, "n_multiple_choice": 0,
                   "imputed_share": None, "n_scored": 0, "brier": None, "brier_multi": None, "log_loss": None,
                   "base_rate": None}


def _metrics(g: Grouped, options: Options) -> dict[str, Metrics]:
    """Every metric of every group of ``g``: set-wise SQL per metric, one numpy batch for the resampling."""
    binning = options.binning
    aggregates = pair_aggregates(g) or ({"all": _NOTHING_SCORED} if g.by is None else {})
    tables = calibration(g, binning)
    murphys = murphy(g, binning)
    briers = {grp: a["brier"] for grp, a in aggregates.items() if a["brier"] is not None}
    corps = corp(g, briers, seed=options.seed, n_resamples=options.n_resamples)
    intervals = brier_intervals(g, seed=options.seed, n_resamples=options.n_resamples)
    no_murphy = Murphy(None, None, None, None, None, bins=binning.describe_murphy())
    no_corp = Corp(None, None, None, None, None, None, n_resamples=0, band_level=None, curve=(), resampling_note=None)
    out = {}
    for grp, a in sorted(aggregates.items()):
        b, rate = a["brier"], a["base_rate"]
        out[grp] = Metrics(
            **{name: a[name] for name in ("n_questions", "n_forecasts", "n_backfilled", "n_binary",
                                          "n_multiple_choice", "imputed_share", "n_scored")},
            brier=b, brier_form=BRIER_FORM, brier_ci=intervals.get(grp), log_loss=a["log_loss"], base_rate=rate,
            brier_skill_vs_half=brier_skill(b, None if b is None else 0.25),
            brier_skill_vs_base_rate=brier_skill(b, None if rate is None else rate * (1 - rate)),
            brier_multi=a["brier_multi"], brier_multi_form=BRIER_MULTI_FORM,
            murphy=murphys.get(grp, no_murphy), corp=corps.get(grp, no_corp), calibration=tables.get(grp, ()),
        )
    return out


def _fields(metrics: Metrics) -> dict[str, Any]:
    return {name: getattr(metrics, name) for name in Metrics.__dataclass_fields__}


def _groups(scored: Scored, by: str, options: Options) -> tuple[Group, ...]:
    return tuple(Group(**_fields(m), group=grp) for grp, m in _metrics(scored.grouped(by), options).items())


def _grouping(scored: Scored, by: str, options: Options) -> Grouping:
    """One breakdown of the selection; above ``options.max_groups`` groups only their number."""
    g = scored.grouped(by)
    n_groups = g.execute(f"SELECT count(DISTINCT grp) FROM {g.pairs}").fetchone()[0]
    if options.max_groups is not None and n_groups > options.max_groups:
        return Grouping(n_groups, True, ())
    return Grouping(n_groups, False, _groups(scored, by, options))


def _arguments(selection: Selection | None, options: Options | None, kwargs: dict) -> tuple[Selection, Options]:
    """The selection and options, from themselves or from keyword arguments naming their fields."""
    selection_fields, option_fields = set(Selection.__dataclass_fields__), set(Options.__dataclass_fields__)
    unknown = set(kwargs) - selection_fields - option_fields
    if unknown:
        raise TypeError(f"unknown arguments: {', '.join(sorted(unknown))}")
    selection = selection or Selection(**{k: v for k, v in kwargs.items() if k in selection_fields})
    options = options or Options(**{k: v for k, v in kwargs.items() if k in option_fields})
    return selection, options


def score(source: Any, selection: Selection | None = None, options: Options | None = None, **kwargs) -> Scores:
    """Score the ledger: every metric of the selection, as one :class:`~ledger.scoring.result.Scores`.

    ``source`` is a DuckDB connection with the ledger's views, or a store
    opened on the ledger. ``score(store, policy="last", bins=5, by="forecaster")``
    also works: keyword arguments fill :class:`Selection` and :class:`Options`.
    The selection is made once; the whole-selection metrics, ``by``, every
    grouping of ``groupings`` and the extra ``calibrations`` all read it.
    ``source`` may also be a :class:`Scored` selection already made (a report
    scores one, then each forecaster's part of it: :meth:`Scored.narrowed`);
    its selection is the one scored, so none may be given.
    """
    if isinstance(source, Scored):
        if selection is not None or set(kwargs) & set(Selection.__dataclass_fields__):
            raise TypeError("a Scored selection is scored as it was made: give no selection")
        return _scores(source, _arguments(source.selection, options, kwargs)[1])
    selection, options = _arguments(selection, options, kwargs)
    with Scored(source, selection) as scored:
        return _scores(scored, options)


def _scores(scored: Scored, options: Options) -> Scores:
    """Every metric of a selection made, as :func:`score` returns them."""
    selection = scored.selection
    whole = scored.grouped(None)
    forecasters = scored.forecaster_names()
    several = options.relative and len(forecasters) > 1
    resampling = {"seed": options.seed, "n_resamples": options.n_resamples}
    wants_questions = options.include_questions or options.question_ids is not None
    return Scores(
        **_fields(_metrics(whole, options)["all"]),
        excluded=scored.excluded,
        selection=Settings(
            policy=selection.policy, forecaster=selection.forecaster, tag=selection.tag, since=selection.since,
            exclude_backfilled=selection.exclude_backfilled, bins=options.binning.describe(),
            fold=options.binning.fold, by=options.by, seed=options.seed, n_resamples=options.n_resamples),
        methodology=methodology(selection.policy),
        over_time=over_time(scored),
        forecasters=tuple(forecasters),
        relative=relative_scores(scored, **resampling) if several else None,
        paired=paired_differences(scored, forecasters, **resampling)
        if several and len(forecasters) <= MAX_PAIRED else None,
        calibrations={name: calibration(whole, binning).get("all", ())
                      for name, binning in options.calibrations.items()},
        groups=_groups(scored, options.by, options) if options.by else None,
        groupings={by: _grouping(scored, by, options) for by in options.groupings},
        questions=per_question(scored, options.question_ids) if wants_questions else None,
        retractions=retractions(scored.con, selection),
    )


def retractions(source: Any, selection: Selection) -> Retractions:
    """The selection's retractions, and its Brier score had they counted (see :class:`Retractions`)."""
    ids = retracted_ids(source, selection)
    if not ids:
        return Retractions(n=0, brier_if_counted=None, questions=())
    with Scored(source, selection, undo_retractions=True) as undone:
        whole = undone.grouped(None)
        brier_if_counted = whole.execute(f"SELECT {brier()} FROM {whole.pairs}").fetchone()[0]
    return Retractions(n=len(ids), brier_if_counted=brier_if_counted, questions=tuple(ids))
