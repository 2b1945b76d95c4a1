"""Class-conditional histograms of every input, the overlap eps of two classes and p_e.

For input x_i and two classes a, b (METHOD.md section 4)::

    eps(i) = integral min(p_a(x_i), p_b(x_i)) dx_i      (overlap of the two densities)
    p_e(i) = 2 (1 - eps) / (2 - eps)                     (0 = identical, 1 = disjoint)

Choices written down here:

- The densities are normalised histograms on **shared bins**: ``bins`` equal-width bins per input
  between the 0.5th and 99.5th percentiles of *all* frames of the sample set (every class
  together), so every pair of classes is compared on the same bins. The percentiles are exact
  when the set has at most ``max_range_frames`` (20,000) frames, otherwise they come from that many
  evenly spaced frames. Values outside the range are counted in the first / last bin, so no frame is
  lost. An input with a constant value gets the range ``value +- 0.5``.
- With densities p = counts / (n * width), eps = sum_bins min(p_a, p_b) * width is the sum over
  bins of the smaller of the two probability masses: it does not depend on the bin width.
- A class (or a group of labels, e.g. the 3 states of a phoneme, given as a list) is the union of
  the frames with those true labels.
- Everything accumulates batch by batch: memory is (n_labels, D, bins) int64 counts, whatever the
  number of frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.data.batching import Transform, iter_batches
from core.text import UserError

LabelSpec = int | Sequence[int]


class OverlapError(UserError):
    """A histogram / overlap request a user can get wrong (empty class, unknown label)."""


def overlap_probability(eps: np.ndarray | float) -> np.ndarray:
    """p_e = 2 (1 - eps) / (2 - eps): 0 for identical densities (eps=1), 1 for disjoint (eps=0)."""
    eps = np.asarray(eps, dtype=np.float64)
    return 2.0 * (1.0 - eps) / (2.0 - eps)


def input_range(
    X,
    *,
    percentiles: tuple[float, float] = (0.5, 99.5),
    indices: np.ndarray | None = None,
    transform: Transform | None = None,
    max_range_frames: int = 20_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust range of every input over all frames: (lo (D,), hi (D,)) float64 percentiles.

    Uses every frame when there are at most ``max_range_frames``, else that many evenly spaced.
    """
    idx = np.arange(len(X)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise OverlapError("The sample set has no frames.")
    if idx.size > max_range_frames:
        idx = idx[np.linspace(0, idx.size - 1, max_range_frames).round().astype(np.int64)]
    x = X[idx]
    if transform is not None:
        x = transform(x)
    x = np.asarray(x, dtype=np.float32).reshape(len(idx), -1)
    lo, hi = np.empty(x.shape[1]), np.empty(x.shape[1])
    for c in range(0, x.shape[1], 256):  # column blocks keep percentile's copies small
        lo[c : c + 256], hi[c : c + 256] = np.percentile(x[:, c : c + 256], percentiles, axis=0)
    flat = hi <= lo
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    return lo, hi


@dataclass(frozen=True, eq=False)
class OverlapDetail:
    """The two densities of one input, for the click-through view.

    edges (bins+1,), centres (bins,), p_a / p_b (bins,) densities (integrate to 1 over the bins),
    eps = overlap, p_e = 2 (1 - eps) / (2 - eps).
    """

    input_index: int
    edges: np.ndarray
    centres: np.ndarray
    p_a: np.ndarray
    p_b: np.ndarray
    eps: float
    p_e: float


@dataclass(frozen=True, eq=False)
class ClassHistograms:
    """Histograms of every input for every true label, on shared equal-width bins.

    lo, hi: (D,) float64 bin range per input; counts: (n_labels, D, bins) int64; sums: (n_labels, D)
    float64 sum of each input's values (for the class means); names: optional label names, used in
    error messages.
    """

    lo: np.ndarray
    hi: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    names: tuple[str, ...] | None = None

    @property
    def n_labels(self) -> int:
        return int(self.counts.shape[0])

    @property
    def dim(self) -> int:
        return int(self.counts.shape[1])

    @property
    def bins(self) -> int:
        return int(self.counts.shape[2])

    @property
    def n(self) -> np.ndarray:
        """(n_labels,) int64 frames per label."""
        return self.counts[:, 0, :].sum(axis=1) if self.dim else np.zeros(self.n_labels, np.int64)

    def edges(self, i: int) -> np.ndarray:
        """(bins+1,) bin edges of input i."""
        return np.linspace(self.lo[i], self.hi[i], self.bins + 1)

    def class_means(self) -> np.ndarray:
        """mu_c(x_i): (n_labels, D) float64 mean of each input per label; NaN for a label without frames."""
        n = self.n.astype(np.float64)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.sums / np.maximum(n, 1.0), np.nan)

    def _name(self, labels: tuple[int, ...]) -> str:
        if self.names is not None:
            return "+".join(self.names[j] for j in labels)
        return "+".join(str(j) for j in labels)

    def _group(self, spec: LabelSpec) -> tuple[np.ndarray, int, tuple[int, ...]]:
        """Counts (D, bins) and frame count of the union of labels ``spec``."""
        labels = (int(spec),) if np.isscalar(spec) else tuple(sorted({int(j) for j in spec}))
        if not labels:
            raise OverlapError("A class needs at least one label.")
        bad = [j for j in labels if not 0 <= j < self.n_labels]
        if bad:
            raise OverlapError(f"Unknown label index {bad[0]}; there are {self.n_labels} labels.")
        counts = self.counts[list(labels)].sum(axis=0)
        n = int(self.n[list(labels)].sum())
        if n == 0:
            raise OverlapError(f"No frames are labelled {self._name(labels)} in this sample set.")
        return counts, n, labels

    def mean(self, spec: LabelSpec) -> np.ndarray:
        """(D,) mean of every input over the frames of a label or group of labels."""
        _, n, labels = self._group(spec)
        return self.sums[list(labels)].sum(axis=0) / n

    def overlap(self, a: LabelSpec, b: LabelSpec) -> tuple[np.ndarray, np.ndarray]:
        """(eps (D,), p_e (D,)) float64 for classes a and b (label indices or lists of them)."""
        ca, na, _ = self._group(a)
        cb, nb, _ = self._group(b)
        eps = np.minimum(ca / na, cb / nb).sum(axis=1)
        eps = np.clip(eps, 0.0, 1.0)
        return eps, overlap_probability(eps)

    def detail(self, a: LabelSpec, b: LabelSpec, i: int) -> OverlapDetail:
        """Densities of input i for classes a and b on the shared bins, with eps and p_e."""
        if not 0 <= int(i) < self.dim:
            raise OverlapError(f"Input {i} does not exist; there are {self.dim} inputs.")
        i = int(i)
        ca, na, _ = self._group(a)
        cb, nb, _ = self._group(b)
        edges = self.edges(i)
        width = np.diff(edges)
        pa, pb = ca[i] / na, cb[i] / nb
        eps = float(np.clip(np.minimum(pa, pb).sum(), 0.0, 1.0))
        return OverlapDetail(
            input_index=i,
            edges=edges,
            centres=0.5 * (edges[:-1] + edges[1:]),
            p_a=pa / width,
            p_b=pb / width,
            eps=eps,
            p_e=float(overlap_probability(eps)),
        )


def full_range_detail(hist: ClassHistograms, a: LabelSpec, b: LabelSpec, i: int, values_a: np.ndarray,
                      values_b: np.ndarray, max_bins: int = 200) -> OverlapDetail:
    """The densities of input i over the *whole* range of both classes, for drawing.

    The map's shared bins (``hist``) stop at the 0.5th / 99.5th percentiles of all frames and count
    values beyond them in the end bins, so drawn as they are the densities end abruptly while still
    non-zero. Here the shared bins are extended by whole bins of the same width until they hold
    every value of ``values_a`` and ``values_b`` (the input's normalised values over the frames of
    a and b; at most ``max_bins`` bins in all, the last ones then wider); inside the shared range the
    bins are the map's. eps and p_e are the map's (``hist.detail``), so the numbers agree with the
    square's colour; the shaded area can differ from eps by the mass of the tails.
    """
    base = hist.detail(a, b, i)
    va = np.asarray(values_a, dtype=np.float64).ravel()
    vb = np.asarray(values_b, dtype=np.float64).ravel()
    if va.size == 0 or vb.size == 0:
        raise OverlapError("Both classes need frames.")
    w = base.edges[1] - base.edges[0]
    lo, hi = min(va.min(), vb.min()), max(va.max(), vb.max())
    n_lo = int(max(0, np.ceil((base.edges[0] - lo) / w)))
    n_hi = int(max(0, np.ceil((hi - base.edges[-1]) / w)))
    spare = max(0, max_bins - hist.bins)
    if n_lo + n_hi > spare:  # far outliers: keep the bins' width near the map, widen the end bins
        n_lo, n_hi = min(n_lo, spare // 2), min(n_hi, spare - min(n_lo, spare // 2))
    edges = np.concatenate([base.edges[0] - w * np.arange(n_lo, 0, -1), base.edges,
                            base.edges[-1] + w * np.arange(1, n_hi + 1)])
    edges[0], edges[-1] = min(edges[0], lo), max(edges[-1], hi)
    width = np.diff(edges)
    pa = np.histogram(va, edges)[0] / (va.size * width)
    pb = np.histogram(vb, edges)[0] / (vb.size * width)
    return OverlapDetail(input_index=int(i), edges=edges, centres=0.5 * (edges[:-1] + edges[1:]), p_a=pa, p_b=pb,
                         eps=base.eps, p_e=base.p_e)


class HistogramAccumulator:
    """Adds batches of frames to per-label histograms on fixed bins (memory independent of frames).

    lo, hi: (D,) bin range per input; bins: bins per input; n_labels: labels 0..n_labels-1.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray, bins: int, n_labels: int):
        if bins < 1 or n_labels < 1:
            raise OverlapError("Histograms need at least one bin and one label.")
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        if self.lo.shape != self.hi.shape or self.lo.ndim != 1 or np.any(self.hi <= self.lo):
            raise OverlapError("The bin range needs lo < hi for every input, as two (D,) arrays.")
        self.bins, self.n_labels = int(bins), int(n_labels)
        d = self.lo.size
        self._scale = self.bins / (self.hi - self.lo)
        self._counts = np.zeros(self.n_labels * d * self.bins, dtype=np.int64)
        self._sums = np.zeros((self.n_labels, d), dtype=np.float64)

    def update(self, x: np.ndarray, labels: np.ndarray) -> None:
        """x: (b, D) values (or (b, ...) flattened to D); labels: (b,) int in 0..n_labels-1."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        labels = np.asarray(labels, dtype=np.int64)
        d = self.lo.size
        if x.shape[1] != d or labels.shape != (len(x),):
            raise OverlapError(f"Expected (frames, {d}) values with one label per frame.")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_labels):
            raise OverlapError(f"Labels must lie in 0..{self.n_labels - 1}.")
        k = np.floor((x - self.lo) * self._scale).astype(np.int64)
        np.clip(k, 0, self.bins - 1, out=k)
        flat = (labels[:, None] * d + np.arange(d)[None, :]) * self.bins + k
        self._counts += np.bincount(flat.ravel(), minlength=self._counts.size)
        present, inv = np.unique(labels, return_inverse=True)
        onehot = np.zeros((present.size, len(x)))
        onehot[inv, np.arange(len(x))] = 1.0
        self._sums[present] += onehot @ x

    def result(self, names: Sequence[str] | None = None) -> ClassHistograms:
        """A frozen snapshot of the histograms so far."""
        counts = self._counts.reshape(self.n_labels, self.lo.size, self.bins).copy()
        return ClassHistograms(self.lo.copy(), self.hi.copy(), counts, self._sums.copy(),
                               tuple(names) if names is not None else None)


def class_histograms(
    X,
    labels: np.ndarray,
    *,
    n_labels: int | None = None,
    bins: int = 30,
    percentiles: tuple[float, float] = (0.5, 99.5),
    value_range: tuple[np.ndarray, np.ndarray] | None = None,
    transform: Transform | None = None,
    indices: np.ndarray | None = None,
    batch_size: int = 2048,
    max_range_frames: int = 20_000,
    names: Sequence[str] | None = None,
    progress: Callable[[float], None] | None = None,
) -> ClassHistograms:
    """Per-label histograms of every input of a sample set, batch by batch.

    X: (N, D) frames (array or ``X[idx]``-indexable, see ``core.data.batching.iter_batches``); labels: (N,) int.
    n_labels: number of labels (default max label + 1). value_range: (lo, hi) (D,) arrays to use
    instead of the percentiles of the sample set. transform: e.g. ``Normalizer.apply``.
    Returns ClassHistograms with counts (n_labels, D, bins).
    """
    labels = np.asarray(labels)
    if len(labels) != len(X):
        raise OverlapError(f"There are {len(X)} frames but {len(labels)} labels.")
    sel = labels if indices is None else labels[np.asarray(indices, dtype=np.int64)]
    if sel.size == 0:
        raise OverlapError("The sample set has no frames.")
    n_labels = int(sel.max()) + 1 if n_labels is None else int(n_labels)
    if value_range is None:
        value_range = input_range(X, percentiles=percentiles, indices=indices, transform=transform,
                                  max_range_frames=max_range_frames)
    acc = HistogramAccumulator(value_range[0], value_range[1], bins, n_labels)
    done = 0
    for x, lab in iter_batches(X, labels, batch_size=batch_size, indices=indices, transform=transform):
        acc.update(x, lab)
        done += len(lab)
        if progress is not None:
            progress(done / sel.size)
    return acc.result(names)
