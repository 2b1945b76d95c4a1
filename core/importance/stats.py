"""Per-label running sums of gradients (or attributions) and the statistics drawn from them.

``GradStats`` holds n, sum g, sum g^2, sum |g| per true label; ``stat`` turns them into std / mean
|g| / rms / mean over any union of labels, exactly. ``_Accumulator`` adds an engine's batches to
those sums. The choices are written down in ``core.importance``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch

from core.text import UserError

Output = Literal["posterior", "logit", "log_posterior"]
"""What is differentiated: the softmax posterior, the logit or the log posterior (``output=``)."""
Stat = Literal["std", "mean_abs", "rms", "mean"]
"""What is drawn from the gradients over frames (``stat=``)."""
TargetSpec = int | Sequence[int]
OUTPUTS = ("posterior", "logit", "log_posterior")
STATS = ("std", "mean_abs", "rms", "mean")
Consume = Callable[[int, torch.Tensor, tuple[int, ...], int], None]
"""What an engine calls with its gradients: (layer, g (B, k, D), unit shape, first target): g holds
targets first .. first+k-1 of the batch's frames (the chain gives all T at once, autograd one)."""


class ImportanceError(UserError):
    """An importance request a user can get wrong (unknown output, empty sample set, bad statistic)."""


@dataclass(frozen=True, eq=False)
class GradStats:
    """Running sums of g = d y_t / d h_i^(l) per true label of the frames.

    targets: T tuples of output indices (each summed into one y_t); n: (n_labels,) int64 frames per
    label; sum_g, sum_g2, sum_abs: (n_labels, T, D) float64. unit_shape: the layer's shape per frame
    (D = its product; (filters, H, W) for a conv map). method: "gradient" or a comparison method.
    """

    targets: tuple[tuple[int, ...], ...]
    output: str
    n: np.ndarray
    sum_g: np.ndarray
    sum_g2: np.ndarray
    sum_abs: np.ndarray
    layer: int = 0
    unit_shape: tuple[int, ...] = ()
    method: str = "gradient"

    def __post_init__(self) -> None:
        for a in (self.n, self.sum_g, self.sum_g2, self.sum_abs):
            a.setflags(write=False)

    @property
    def n_labels(self) -> int:
        return int(self.n.shape[0])

    @property
    def dim(self) -> int:
        return int(self.sum_g.shape[2])

    def target_index(self, target: TargetSpec) -> int:
        """Row of a target (an output index or a list of them) in the (T, D) maps."""
        key = _target_key(target)
        if key not in self.targets:
            raise ImportanceError(f"Target {list(key)} was not computed; have {[list(t) for t in self.targets]}.")
        return self.targets.index(key)

    def stat(self, stat: Stat = "std", labels: Sequence[int] | None = None) -> np.ndarray:
        """(T, D) float64 statistic over the frames whose true label is in ``labels`` (None = all).

        std (population, ddof=0), mean_abs = mean |g|, rms = sqrt(mean g^2), mean = mean g.
        """
        if stat not in STATS:
            raise ImportanceError(f"Unknown statistic {stat!r}; use one of {', '.join(STATS)}.")
        sel = slice(None) if labels is None else np.asarray(sorted({int(j) for j in labels}), dtype=np.int64)
        if labels is not None and (sel.size == 0 or sel.min() < 0 or sel.max() >= self.n_labels):
            raise ImportanceError(f"Labels must be a non-empty list of indices 0..{self.n_labels - 1}.")
        n = float(self.n[sel].sum())
        if n == 0:
            raise ImportanceError("No frames in the sample set have the chosen labels.")
        if stat == "mean_abs":
            return self.sum_abs[sel].sum(axis=0) / n
        m2 = self.sum_g2[sel].sum(axis=0) / n
        if stat == "rms":
            return np.sqrt(m2)
        m1 = self.sum_g[sel].sum(axis=0) / n
        return m1 if stat == "mean" else np.sqrt(np.maximum(m2 - m1 * m1, 0.0))

    def select(self, targets: Sequence[TargetSpec]) -> GradStats:
        """The same statistics restricted to (and ordered as) ``targets``."""
        rows = [self.target_index(t) for t in targets]
        return replace(self, targets=tuple(self.targets[r] for r in rows), n=self.n.copy(),
                       sum_g=self.sum_g[:, rows], sum_g2=self.sum_g2[:, rows], sum_abs=self.sum_abs[:, rows])

    def merge(self, other: GradStats) -> GradStats:
        """Union of the targets of two results on the same sample set (this one's order first)."""
        same = (self.output, self.layer, self.unit_shape, self.method) == (
            other.output, other.layer, other.unit_shape, other.method)
        if not same or not np.array_equal(self.n, other.n):
            raise ImportanceError("Only statistics of the same sample set, layer and output can merge.")
        extra = [i for i, t in enumerate(other.targets) if t not in self.targets]
        cat = lambda a, b: np.concatenate([a, b[:, extra]], axis=1)  # noqa: E731
        return replace(self, targets=self.targets + tuple(other.targets[i] for i in extra), n=self.n.copy(),
                       sum_g=cat(self.sum_g, other.sum_g), sum_g2=cat(self.sum_g2, other.sum_g2),
                       sum_abs=cat(self.sum_abs, other.sum_abs))


def _target_key(target: TargetSpec) -> tuple[int, ...]:
    if isinstance(target, (int, np.integer)):
        return (int(target),)
    return tuple(sorted({int(v) for v in target}))


def normalize_targets(targets: Sequence[TargetSpec] | None, n_outputs: int) -> tuple[tuple[int, ...], ...]:
    """Targets as sorted tuples of output indices; None = every output on its own."""
    if targets is None:
        return tuple((j,) for j in range(n_outputs))
    out = tuple(_target_key(t) for t in targets)
    if not out or any(not t for t in out):
        raise ImportanceError("Give at least one target, each with at least one output.")
    if any(j < 0 or j >= n_outputs for t in out for j in t):
        raise ImportanceError(f"Output indices must lie in 0..{n_outputs - 1}.")
    if len(set(out)) != len(out):
        raise ImportanceError("Each target may be asked for only once.")
    return out


_PIECE_BYTES = 4 << 20  # rows of g reduced together (the |g| temporary stays in cache)


class _Accumulator:
    """Receives (layer, g (B, T, D), unit shape) from an engine and adds g, g^2, |g| to that layer's
    float64 per-label sums (3, n_labels, T*D). Batches arrive sorted by label (``batch``), so each
    label's frames are one block of rows. Every block is converted to float64 before it is summed
    (float32 block sums cost ~1e-6 relative where the mean gradient is large against its spread,
    e.g. hidden-layer logit std). The reductions run in numpy, single-threaded: on a busy
    machine many small multi-threaded torch ops would each wait for a free core."""

    def __init__(self, n_labels: int, nt: int):
        self.n_labels, self.nt = n_labels, nt
        self.sums: dict[int, np.ndarray] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.n = np.zeros(n_labels, dtype=np.int64)

    def batch(self, lab: np.ndarray) -> None:
        """lab: (B,) labels of the batch, sorted."""
        cuts = np.flatnonzero(np.diff(lab)) + 1
        starts, ends = np.append(0, cuts), np.append(cuts, len(lab))
        self.segments = [(int(lab[i]), int(i), int(j)) for i, j in zip(starts, ends, strict=True)]
        self.n += np.bincount(lab, minlength=self.n_labels)

    def __call__(self, layer: int, g: torch.Tensor, shape: tuple[int, ...], first: int = 0) -> None:
        """Add g (B, k, D) of targets first .. first+k-1 (``Consume``)."""
        d = g.shape[2]
        if layer not in self.sums:
            self.sums[layer] = np.zeros((3, self.n_labels, self.nt * d))
            self.shapes[layer] = shape
        acc, flat = self.sums[layer][:, :, first * d : (first + g.shape[1]) * d], g.reshape(g.shape[0], -1).numpy()
        step = max(1, _PIECE_BYTES // (flat.shape[1] * 8))
        for label, i, j in self.segments:
            for k in range(i, j, step):
                block = flat[k : min(j, k + step)].astype(np.float64)  # float32 block sums lose ~1e-6
                acc[0, label] += block.sum(axis=0)
                acc[1, label] += np.einsum("ij,ij->j", block, block)
                acc[2, label] += np.abs(block).sum(axis=0)

    def result(self, targets: tuple[tuple[int, ...], ...], output: str, method: str) -> dict[int, GradStats]:
        return {layer: GradStats(targets, output, self.n.copy(), *(a.reshape(self.n_labels, self.nt, -1) for a in s),
                                 layer=layer, unit_shape=self.shapes[layer], method=method)
                for layer, s in sorted(self.sums.items())}



def unit_importance(stats: Mapping[int, GradStats], stat: Stat = "std",
                    labels: Sequence[int] | None = None, per_filter: bool = True) -> dict[int, np.ndarray]:
    """Imp(l, i) = sum over targets j of stat_x(dy_j / dh_i^(l)): {layer: (D_l,) float64}.

    With every output as a target (``targets=None``) this is METHOD.md's Imp. For a conv map
    (unit_shape (filters, H, W), layer > 0) and ``per_filter`` the sum also runs over positions:
    (filters,).
    """
    out = {}
    for layer, s in stats.items():
        imp = s.stat(stat, labels).sum(axis=0)
        if per_filter and layer > 0 and len(s.unit_shape) == 3:
            imp = imp.reshape(s.unit_shape[0], -1).sum(axis=1)
        out[layer] = imp
    return out

