"""Isotonic regression by pool-adjacent-violators (PAV): the recalibration step of CORP.

The data are weighted outcome sums at sorted distinct forecast values: for
value k, ``weight[k]`` = Σ w and ``yes[k]`` = Σ w o. The fit is the
non-decreasing step function minimising Σ w (o − f)², whose steps are the
weighted means ``yes_b / weight_b`` of pooled blocks of adjacent values.

Two shapes, two algorithms, one rule:

* :func:`pav` fits long sequences (every distinct forecast value of every
  group, possibly millions) in one pass with a stack, segment by segment;
* :func:`pav_rows` fits many short sequences at once (a thousand resampled
  outcome vectors per group, at most about a thousand values each), pooling
  every run of violators of every row in one array operation, pass by pass.

Both pool a block into its left neighbour when the neighbour's mean is
strictly greater, comparing ``yes_a * weight_b > yes_b * weight_a`` so that
no division decides a merge.
"""

from __future__ import annotations

__all__ = ["pav", "pav_rows"]


def pav(yes, weight, starts=None):
    """Fitted values of the isotonic fit, at each value, independently within each segment.

    ``yes`` and ``weight`` are the per-value sums in order of the forecast
    value; ``starts`` are the indices where a new segment (a group) begins
    (default: one segment). One pass over all values: linear in their number,
    whatever the number of segments.
    """
    import numpy as np

    yes = np.asarray(yes, float)
    weight = np.asarray(weight, float)
    boundary = np.zeros(yes.size, bool)
    starts = np.zeros(min(1, yes.size), np.int64) if starts is None else np.asarray(starts, np.int64)
    boundary[starts[starts < yes.size]] = True  # an empty segment starts where the next one does
    sums: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    floor = 0  # blocks below this index belong to earlier segments and are never pooled with
    for s, w, new in zip(yes.tolist(), weight.tolist(), boundary.tolist(), strict=True):
        if new:
            floor = len(sums)
        k = 1
        while len(sums) > floor and sums[-1] * w > s * weights[-1]:
            s += sums.pop()
            w += weights.pop()
            k += sizes.pop()
        sums.append(s)
        weights.append(w)
        sizes.append(k)
    return np.repeat(np.array(sums) / np.array(weights), sizes)


def pav_rows(weight, yes):
    """The isotonic fit of every row of ``yes`` (R, K) with weights ``weight`` (R, K) or (K,).

    Returns (fitted (R, K), Σ over each row's blocks of yes_b² / weight_b).
    The second is what the Brier score of the fit needs: Σ (w f² − 2 f yes)
    over a block is −yes_b² / weight_b. Zero-weight values (the padding of a
    shorter sequence at the end of a row) are never pooled; their fit is 0.

    Pass after pass, every run of adjacent blocks whose means strictly fall
    is pooled into one block, in every row at once, until no row has a
    violator: pooling a run is a sequence of PAV's own merges (a pooled
    block's mean stays above the next one's), so the fit is PAV's. Each pass
    is a few whole-array operations over the blocks left; a resampled
    (near-monotone) row needs a handful of passes, the worst row K.
    """
    import numpy as np

    yes = np.asarray(yes, float)
    n_rows, n_values = yes.shape
    weight = np.broadcast_to(np.asarray(weight, float), yes.shape)
    cell = np.flatnonzero(weight.ravel() > 0)  # the values with weight, row after row
    row = cell // n_values
    block_yes, block_weight = yes.ravel()[cell], weight.ravel()[cell]
    first = np.arange(cell.size)  # each block's first value, as an index into ``cell``
    while True:
        falls = (row[1:] == row[:-1]) & (block_yes[:-1] * block_weight[1:] > block_yes[1:] * block_weight[:-1])
        if not falls.any():
            break
        kept = np.flatnonzero(np.r_[True, ~falls])  # a block that falls below its left neighbour joins it
        block_yes, block_weight = np.add.reduceat(block_yes, kept), np.add.reduceat(block_weight, kept)
        row, first = row[kept], first[kept]
    fitted = np.zeros(n_rows * n_values)
    fitted[cell] = np.repeat(block_yes / block_weight, np.diff(np.r_[first, cell.size]))
    squares = np.bincount(row, weights=block_yes * block_yes / block_weight, minlength=n_rows)
    return fitted.reshape(n_rows, n_values), squares
