"""Probability bins with exact decimal edges: the one rule that both counts and lists a bin.

Bins are decided on the exact decimal value: probabilities are rounded to 12
decimals (``DECIMAL(18,12)``) before comparison with decimal edges, so a 0.3
forecast is in [0.3, 0.4) however its binary double rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["ANALYST_LEVELS", "DECIMAL", "MAX_BINS", "Binning", "analyst_levels", "bin_index_sql", "decimal_text",
           "equal_bins", "folded_sql"]

DECIMAL = "DECIMAL(18,12)"
ANALYST_LEVELS = ("0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.99")
MAX_BINS = 100


def decimal_text(value: Decimal) -> str:
    """A decimal edge as plain text (``0.95``, never ``9.5E-1``), for SQL literals and labels."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Binning:
    """Probability bins with exact decimal edges over [0, 1].

    ``edges`` span 0..1 (the unfolded scale, used by the Murphy decomposition);
    a folded table uses the edges at or above 0.5.
    """

    edges: tuple[Decimal, ...]
    fold: bool = False
    label: str = ""

    def table_edges(self) -> tuple[Decimal, ...]:
        """The edges of the calibration table: all of them, or from 0.5 up when folded."""
        return tuple(e for e in self.edges if e >= Decimal("0.5")) if self.fold else self.edges

    def describe(self) -> str:
        """The bins as the methodology names them: ``10 equal bins, unfolded: [0, 0.1) … [0.9, 1]``."""
        edges = self.table_edges()
        parts = [f"[{decimal_text(lo)}, {decimal_text(hi)})" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        parts[-1] = parts[-1][:-1] + "]"
        scale = "folded (p < 0.5 on X counts as 1 - p on not-X)" if self.fold else "unfolded"
        return f"{self.label}, {scale}: " + " ".join(parts)

    def describe_murphy(self) -> str:
        """What the Murphy decomposition used: always the unfolded scale, even under a folded table."""
        text = self.describe()
        return text.replace(", folded", ", unfolded for Murphy; table folded") if self.fold else text


def equal_bins(n: int = 10, *, fold: bool = False) -> Binning:
    """n equal half-open bins on [0, 1] (or on [0.5, 1] when folded; 2n mirrored on [0, 1] for Murphy)."""
    from ledger.errors import LedgerError

    if not 1 <= n <= MAX_BINS:
        raise LedgerError(f"--bins must be between 1 and {MAX_BINS}, got {n}")
    q = Decimal("1e-12")
    if fold:
        upper = [(Decimal("0.5") + Decimal(k) / (2 * n)).quantize(q) for k in range(n + 1)]
        lower = [(Decimal(1) - e).quantize(q) for e in reversed(upper[1:])]
        edges = tuple(lower + upper)
    else:
        edges = tuple((Decimal(k) / n).quantize(q) for k in range(n + 1))
    return Binning(edges=edges, fold=fold, label=f"{n} equal bins")


def analyst_levels(*, fold: bool = False) -> Binning:
    """The analyst levels 50/60/70/80/90/95/99%, mirrored below 50% (1/5/10/20/30/40%)."""
    upper = [Decimal(x) for x in ANALYST_LEVELS]
    lower = [Decimal(1) - e for e in reversed(upper[1:])]
    edges = tuple([Decimal(0), *lower, *upper, Decimal(1)])
    return Binning(edges=edges, fold=fold, label="analyst levels 50/60/70/80/90/95/99%")


def folded_sql(expr: str) -> str:
    """SQL for a probability on the folded scale: a p < 0.5 on X is 1 − p on not-X."""
    return f"CASE WHEN {expr} < 0.5 THEN 1 - {expr} ELSE {expr} END"


def bin_index_sql(exact: str, edges: tuple[Decimal, ...]) -> str:
    """SQL for the bin index (0-based) of a ``DECIMAL(18,12)`` value: the one binning rule.

    Bin k is [edges[k], edges[k+1]); the last bin is closed at its top. The
    index is the number of inner edges at or below the value, compared as
    exact decimals. Used both to count (calibration, Murphy) and to list
    (:func:`ledger.scoring.metrics.forecasts_in_bin`), so the two never disagree.
    """
    inner = edges[1:-1]
    if not inner:
        return "0"
    return "(" + " + ".join(f"({exact} >= {decimal_text(e)}::{DECIMAL})::INTEGER" for e in inner) + ")"
