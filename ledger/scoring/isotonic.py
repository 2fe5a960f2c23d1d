"""Isotonic regression by pool-adjacent-violators (PAV): the recalibration step of CORP.

The data are weighted outcome sums at sorted distinct forecast values: for
value k, ``weight[k]`` = Σ w and ``yes[k]`` = Σ w o. The fit is the
non-decreasing step function minimising Σ w (o − f)², whose steps are the
weighted means ``yes_b / weight_b`` of pooled blocks of adjacent values.

Two shapes, two algorithms, one rule:

* :func:`pav` fits long sequences (every distinct forecast value of every
  group, possibly millions) in one pass with a stack, segment by segment;
* :func:`pav_rows` fits many short sequences at once (a thousand resampled
  outcome vectors per group, at most about a thousand values each), looping
  over the values and vectorised over the rows.

Both pool a block into its left neighbour while the neighbour's mean is
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
    over a block is −yes_b² / weight_b. Zero-weight values at the end of a
    row (padding of a shorter sequence) are never pooled; their fit is 0.
    Loops over the K values; each step is vectorised over the R rows, which
    keep their blocks as a stack in one flat array (row r's at r·K …).
    """
    import numpy as np

    yes = np.asarray(yes, float)
    n_rows, n_values = yes.shape
    weight = np.broadcast_to(np.asarray(weight, float), yes.shape)
    block_weight = np.zeros(n_rows * n_values)
    block_yes = np.zeros(n_rows * n_values)
    block_start = np.zeros(n_rows * n_values, dtype=np.int64)
    bottom = np.arange(n_rows, dtype=np.int64) * n_values  # flat index of each row's first block
    top = bottom - 1  # flat index of each row's top block
    for j in range(n_values):
        top += 1
        block_weight[top] = weight[:, j]
        block_yes[top] = yes[:, j]
        block_start[top] = j
        t = top[top > bottom]
        while t.size:
            below = t - 1
            t = t[block_yes[below] * block_weight[t] > block_yes[t] * block_weight[below]]
            if not t.size:
                break
            below = t - 1
            block_weight[below] += block_weight[t]
            block_yes[below] += block_yes[t]
            rows = t // n_values
            top[rows] = below
            t = below[below > bottom[rows]]
    live = np.flatnonzero(np.arange(n_values)[None, :] <= (top - bottom)[:, None])
    row_of = live // n_values
    marker = np.zeros(n_rows * n_values, dtype=np.int64)
    marker[row_of * n_values + block_start[live]] = live - row_of * n_values
    level = np.maximum.accumulate(marker.reshape(n_rows, n_values), axis=1)
    filled = block_weight > 0
    mean = np.divide(block_yes, block_weight, out=np.zeros_like(block_yes), where=filled)
    fitted = np.take_along_axis(mean.reshape(n_rows, n_values), level, axis=1)
    squares = np.zeros(n_rows * n_values)
    squares[live] = np.divide(block_yes * block_yes, block_weight, out=np.zeros_like(block_yes), where=filled)[live]
    return fitted, squares.reshape(n_rows, n_values).sum(axis=1)
