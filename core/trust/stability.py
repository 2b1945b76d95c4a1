"""Stability of a map: bootstrap over clusters (utterances, not frames) for each cell, cells not
distinguishable from zero, and the split-half rank correlation. The choices are written down in
``core.trust``'s docstring."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.text import N_
from core.trust.maps import ClusterSums, MethodMaps, TrustError
from core.trust.sanity import spearman

PERCENTILES = (2.5, 97.5)
"""The bootstrap percentiles of every interval of the comparison (cells and the summary's margins)."""
LEVEL = (PERCENTILES[1] - PERCENTILES[0]) / 100
"""The intervals' level, 0.95 (the pages state it)."""
Z95 = 1.959963984540054
"""The normal 97.5 % quantile: a cell is distinguishable from zero when value >= Z95 x its bootstrap SE."""


def cluster_weights(n_clusters: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """(n_boot, U) bootstrap weights: how often each cluster is drawn (multinomial, U draws)."""
    if n_clusters < 2:
        raise TrustError(N_("Resampling needs at least two utterances (or digits) in the sample."))
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot).astype(np.float64)


@dataclass(frozen=True, eq=False)
class CellIntervals:
    """Per method and cell: value, 95 % percentile interval (lo, hi) and the bootstrap SE; solid =
    distinguishable from zero (value > 0 and value >= Z95 x SE). Arrays (M, D)."""

    methods: tuple[str, ...]
    value: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    se: np.ndarray

    @property
    def solid(self) -> np.ndarray:
        return (self.value > 0) & (self.value >= Z95 * self.se)

    def relative_width(self) -> np.ndarray:
        """(M,) median over cells of (hi - lo) / value (cells with value 0 left out)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (self.hi - self.lo) / self.value
        return np.array([np.median(row[np.isfinite(row)]) if np.isfinite(row).any() else 0.0 for row in r])


def _intervals(value: np.ndarray, boot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = np.percentile(boot, list(PERCENTILES), axis=0)
    return lo, hi, boot.std(axis=0, ddof=1)


def cell_intervals(maps: MethodMaps, n_boot: int = 200, seed: int = 0) -> CellIntervals:
    """Bootstrap (resampling the clusters) of every method's map."""
    w = cluster_weights(maps.n_clusters, n_boot, seed)
    value, boot = maps.maps(), maps.maps(w)  # (M, D), (B, M, D)
    lo, hi, se = _intervals(value, boot)
    return CellIntervals(maps.methods, value, lo, hi, se)


def solid_cells(sums: list[ClusterSums], stat: str, n_boot: int = 200, seed: int = 0) -> np.ndarray:
    """(D,) bool: cells whose ``stat`` (for several targets on the same clusters: the product of
    their statistics, e.g. imp_a x imp_b) is distinguishable from zero over cluster resamples."""
    w = cluster_weights(len(sums[0].n), n_boot, seed)
    value = np.prod([s.stat(stat) for s in sums], axis=0)
    boot = np.prod([s.stat(stat, w) for s in sums], axis=0)
    return (value > 0) & (value >= Z95 * boot.std(axis=0, ddof=1))


def split_half(maps: MethodMaps, n_splits: int = 20, seed: int = 0) -> np.ndarray:
    """(M,) mean over ``n_splits`` random halvings of the clusters of the Spearman correlation between
    the two halves' maps (no Spearman-Brown correction: a half has half the frames)."""
    u = maps.n_clusters
    if u < 2:
        raise TrustError(N_("Splitting needs at least two utterances (or digits) in the sample."))
    rng = np.random.default_rng(seed)
    out = np.zeros((n_splits, len(maps.methods)))
    for s in range(n_splits):
        half = np.zeros(u)
        half[rng.permutation(u)[: u // 2]] = 1.0
        a, b = maps.maps(half), maps.maps(1.0 - half)
        out[s] = [spearman(x, y) for x, y in zip(a, b, strict=True)]
    return out.mean(axis=0)
