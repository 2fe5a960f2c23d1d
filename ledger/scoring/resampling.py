"""Resampling: bootstrap intervals and CORP's calibration null, every group of a breakdown in one batch.

Each function takes all the groups of a breakdown at once (``groups``: an
integer code per value). Every group draws from the same seeded stream,
restarted for it (the generator's state set back to the seed's): so a group's
figures depend on its own data and the seed alone, and equal those it has when
scored by itself, whatever the other groups of its breakdown. The draws are
one call per group (a few microseconds beside the B resamples of its cells
it draws anyway); everything after them (the PAV refits, the sums, the
quantiles) runs over many groups' resamples at once, in chunks that bound
memory (the groups sorted by how many cells they draw over, so a chunk holds
groups of like widths).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["BAND_LEVEL", "BOOTSTRAP_MAX_CELLS", "DEFAULT_RESAMPLES", "DEFAULT_SEED", "RESAMPLE_MAX_VALUES",
           "CalibrationNull", "Values", "bootstrap_mean_ci", "calibration_null", "pool_values"]

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20210301
BOOTSTRAP_MAX_CELLS = 256  # a group of at most this many values draws indices; above it this many cells at most
RESAMPLE_MAX_VALUES = 1000  # above this many distinct forecast values the null is computed on 0.001 steps
BAND_LEVEL = 0.90
CHUNK_CELLS = 1 << 17  # groups × resamples × cells drawn at once: 1 MiB arrays, the fastest size measured for PAV


def _group_bounds(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, size) of each group code in an array sorted by code."""
    import numpy as np

    size = np.bincount(groups, minlength=n_groups)
    return np.r_[0, np.cumsum(size)[:-1]].astype(np.int64), size


def _chunks(cells: np.ndarray, n_resamples: int) -> Iterator[np.ndarray]:
    """Group codes with cells, smallest first, in chunks of at most CHUNK_CELLS drawn cells (one group at least)."""
    import numpy as np

    order = np.argsort(cells, kind="stable")
    order = order[cells[order] > 0]
    start = 0
    while start < order.size:
        stop = start + 1
        while stop < order.size and (stop + 1 - start) * n_resamples * cells[order[stop]] <= CHUNK_CELLS:
            stop += 1
        yield order[start:stop]
        start = stop


def _restarts(seed):
    """A generator, and a function that sets it back to the state the seed gives it (one a group)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    state = rng.bit_generator.state

    def restart() -> np.random.Generator:
        rng.bit_generator.state = state
        return rng

    return restart


def _pad(values: np.ndarray, start: np.ndarray, size: np.ndarray, chunk: np.ndarray, *, left: bool) -> np.ndarray:
    """The chunk's groups as rows of a (groups, widest) array, zero-padded on the left or the right."""
    import numpy as np

    width = int(size[chunk].max())
    out = np.zeros((chunk.size, width))
    row = np.repeat(np.arange(chunk.size), size[chunk])
    offset = np.arange(row.size) - np.repeat(np.cumsum(size[chunk]) - size[chunk], size[chunk])
    column = offset + (width - size[chunk])[row] if left else offset
    out[row, column] = values[np.repeat(start[chunk], size[chunk]) + offset]
    return out


def bootstrap_mean_ci(values, groups=None, *, n_groups: int | None = None, seed: int = DEFAULT_SEED,
                      n_resamples: int = DEFAULT_RESAMPLES, level: float = 0.95) -> list[tuple[float, float] | None]:
    """Percentile bootstrap interval of each group's mean, seeded; None for an empty group.

    The ordinary bootstrap. A group of at most BOOTSTRAP_MAX_CELLS values
    draws each resample's n indices (O(B·n), a few ns a draw); a larger one
    draws C ~ Multinomial(n, counts/n) over its distinct values v_k and takes
    Σ_k C_k v_k / n (O(B·K), ~40 ns a cell: cheaper once values repeat).
    Above BOOTSTRAP_MAX_CELLS distinct values a group's sorted values are
    pooled into that many equal-count cells and the within-cell spread is
    added as N(0, Σ C_c var_c) (same mean and variance). ``groups`` holds a
    code 0..n_groups-1 per value (default: one group).
    """
    import numpy as np

    v = np.asarray(values, float)
    g = np.zeros(v.size, np.int64) if groups is None else np.asarray(groups, np.int64)
    n_groups = (int(g.max()) + 1 if g.size else 0) if n_groups is None else n_groups
    out: list[tuple[float, float] | None] = [None] * n_groups
    if n_resamples <= 0 or v.size == 0:
        return out
    order = np.argsort(v)  # ties are equal values, so their order does not matter
    order = order[np.argsort(g[order], kind="stable")]  # by group, then value: np.lexsort, several times faster
    v, g = v[order], g[order]
    start, n = _group_bounds(g, n_groups)
    first_of_value = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (v[1:] != v[:-1])])
    pooled = np.bincount(g[first_of_value], minlength=n_groups) > BOOTSTRAP_MAX_CELLS
    quantile_cells = np.flatnonzero(pooled)
    quantile_starts = start[quantile_cells, None] + (np.arange(BOOTSTRAP_MAX_CELLS) * n[quantile_cells, None]
                                                     ) // BOOTSTRAP_MAX_CELLS
    cell_start = np.sort(np.r_[first_of_value[~pooled[g[first_of_value]]], quantile_starts.ravel()])
    cell_group = g[cell_start]
    count = np.diff(np.r_[cell_start, v.size]).astype(float)
    in_quantile_cell = pooled[cell_group]
    mean = np.where(in_quantile_cell, np.add.reduceat(v, cell_start) / count, v[cell_start])
    var = np.where(in_quantile_cell, np.maximum(np.add.reduceat(v * v, cell_start) / count - mean * mean, 0.0), 0.0)
    first_cell, cells = _group_bounds(cell_group, n_groups)
    restart = _restarts(seed)
    for chunk in _chunks(cells, n_resamples):
        # Left-padded with zero counts and zero values, so the padding adds nothing.
        draws = np.zeros((chunk.size, n_resamples, int(cells[chunk].max())))
        noise, drawn = np.zeros((chunk.size, n_resamples)), np.zeros((chunk.size, n_resamples))
        for i, code in enumerate(chunk.tolist()):
            rng, at = restart(), slice(first_cell[code], first_cell[code] + cells[code])
            if n[code] <= BOOTSTRAP_MAX_CELLS:
                own = v[start[code]:start[code] + n[code]]
                drawn[i] = own[rng.integers(0, n[code], (n_resamples, n[code]))].sum(axis=1)
                continue
            draws[i, :, draws.shape[2] - cells[code]:] = rng.multinomial(n[code], count[at] / n[code], n_resamples)
            if pooled[code]:
                noise[i] = rng.standard_normal(n_resamples)
        totals = drawn + (draws @ _pad(mean, first_cell, cells, chunk, left=True)[:, :, None])[..., 0]
        spread = _pad(var, first_cell, cells, chunk, left=True)
        totals = totals + np.sqrt((draws @ spread[:, :, None])[..., 0]) * noise
        low, high = np.quantile(totals / n[chunk, None], [(1 - level) / 2, (1 + level) / 2], axis=1)
        for i, code in enumerate(chunk.tolist()):
            out[code] = (float(low[i]), float(high[i]))
    return out


@dataclass(frozen=True)
class Values:
    """Per group and distinct forecast value (sorted by group code, then value): the sufficient statistics.

    ``weight`` = Σ w, ``yes`` = Σ w o, ``weight_sq`` = Σ w² over the scored
    yes/no rows with that forecast value ``x``.
    """

    groups: np.ndarray
    x: np.ndarray
    weight: np.ndarray
    yes: np.ndarray
    weight_sq: np.ndarray
    n_groups: int

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(first index, number of values) of each group."""
        return _group_bounds(self.groups, self.n_groups)


def pool_values(values: Values, max_values: int = RESAMPLE_MAX_VALUES) -> tuple[Values, np.ndarray]:
    """The values with every group of more than ``max_values`` pooled to 0.001 steps, and which groups were.

    Resampling a group costs B resamples × its values; pooling caps that at
    1001 values while keeping each group's totals.
    """
    import numpy as np

    start, size = values.bounds()
    pooled = size > max_values
    if not pooled.any():
        return values, pooled
    x = np.where(pooled[values.groups], np.round(values.x, 3), values.x)
    first = np.flatnonzero(np.r_[True, (values.groups[1:] != values.groups[:-1]) | (x[1:] != x[:-1])])
    return Values(values.groups[first], x[first], *(np.add.reduceat(a, first) for a in
                                                    (values.weight, values.yes, values.weight_sq)),
                  n_groups=values.n_groups), pooled


def _binomials(rng: np.random.Generator, m: np.ndarray, x: np.ndarray, n_resamples: int) -> np.ndarray:
    """``n_resamples`` rows of Binomial(m_k, x_k) draws: the cells with m = 1 first, each a uniform below x
    (numpy's binomial costs ~30 ns a draw whatever m, a uniform ~5), then the others with numpy's binomial."""
    import numpy as np

    single = m == 1
    if not single.any():
        return rng.binomial(m, x, (n_resamples, m.size))
    out = np.empty((n_resamples, m.size))
    out[:, single] = rng.random((n_resamples, int(single.sum()))) < x[single]
    if not single.all():
        out[:, ~single] = rng.binomial(m[~single], x[~single], (n_resamples, int((~single).sum())))
    return out


@dataclass(frozen=True)
class CalibrationNull:
    """Per group: the MCB null (p-value, mean, 95th percentile); per value: the consistency band."""

    p_value: np.ndarray
    null_mean: np.ndarray
    null_q95: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray


def calibration_null(values: Values, mcb: np.ndarray, *, seed: int = DEFAULT_SEED,
                     n_resamples: int = DEFAULT_RESAMPLES, level: float = BAND_LEVEL) -> CalibrationNull | None:
    """MCB under the hypothesis of calibration, and the consistency band of the reliability curve.

    Outcomes are redrawn as if every forecast were calibrated: per value the
    yes weight is (W/m) · Binomial(m, x), m = max(1, round(W² / Σ w²)) the
    Kish effective size (exactly Binomial(n, x) when every weight is 1). PAV
    is refitted to each draw; MCB_null = (B(x) − B(fit)) / N per draw, and
    p = (1 + #{MCB_null ≥ MCB − 1e-12}) / (1 + n_resamples). The band is the
    central ``level`` of the refitted curves at each value. ``mcb`` is each
    group's observed MCB on these values. Each group draws the stream seeded
    with (seed, 0), restarted for it: first the uniforms of its values with
    m = 1 (Binomial(1, x) is a uniform below x), n_resamples rows of them,
    then the binomials of the others (:func:`_binomials`).
    """
    import numpy as np

    from ledger.scoring.isotonic import pav_rows

    if n_resamples <= 0:
        return None
    start, size = values.bounds()
    total_weight = np.bincount(values.groups, weights=values.weight, minlength=values.n_groups)
    p_value, null_mean, null_q95 = (np.full(values.n_groups, np.nan) for _ in range(3))
    band_low, band_high = np.full(values.x.size, np.nan), np.full(values.x.size, np.nan)
    effective = np.maximum(1, np.rint(values.weight ** 2 / values.weight_sq))
    restart = _restarts([seed, 0])
    for chunk in _chunks(size, n_resamples):
        x, weight, m = (_pad(a, start, size, chunk, left=False) for a in (values.x, values.weight, effective))
        scale = np.divide(weight, m, out=np.zeros_like(weight), where=m > 0)  # zero on the padding
        draws = np.zeros((chunk.size, n_resamples, x.shape[1]))
        for i, code in enumerate(chunk.tolist()):
            draws[i, :, :size[code]] = _binomials(restart(), m[i, :size[code]].astype(np.int64), x[i, :size[code]],
                                                  n_resamples)
        draws = draws * scale[:, None, :]
        rows = draws.reshape(-1, x.shape[1])
        fitted, pooled = pav_rows(np.repeat(weight, n_resamples, axis=0), rows)
        drawn = rows.sum(axis=1)
        score_forecast = np.repeat((weight * x * x).sum(axis=1), n_resamples) - 2 * (draws @ x[:, :, None]).ravel() + drawn
        score_fit = drawn - pooled
        null = ((score_forecast - score_fit) / np.repeat(total_weight[chunk], n_resamples)).reshape(chunk.size, -1)
        p_value[chunk] = (1 + np.sum(null >= mcb[chunk, None] - 1e-12, axis=1)) / (1 + n_resamples)
        null_mean[chunk] = null.mean(axis=1)
        null_q95[chunk] = np.quantile(null, 0.95, axis=1)
        low, high = np.quantile(fitted.reshape(chunk.size, n_resamples, -1), [(1 - level) / 2, (1 + level) / 2],
                                axis=1)
        taken = np.arange(x.shape[1])[None, :] < size[chunk, None]
        index = (start[chunk, None] + np.arange(x.shape[1])[None, :])[taken]
        band_low[index], band_high[index] = low[taken], high[taken]
    return CalibrationNull(p_value, null_mean, null_q95, band_low, band_high)
