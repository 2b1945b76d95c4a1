"""One target's map from every method, kept as per-cluster sums (a cluster = an utterance, or one
digit), so that any resample of the clusters gives its maps exactly (``MethodMaps.maps(weights)``).
The choices are written down in ``core.trust``'s docstring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.batching import Transform
from core.importance import attribution_stats, gradient_stats
from core.text import N_, UserError

METHOD_NAMES = {
    "std": N_("σ of dy/dx (the paper's index)"),
    "mean_abs": N_("mean |dy/dx|"),
    "rms": N_("rms of dy/dx"),
    "smoothgrad": N_("SmoothGrad"),
    "integrated_gradients": N_("Integrated Gradients"),
    "grad_x_input": N_("gradient × input"),
    "weights": N_("first-layer |weights|"),
    "random": N_("random"),
}
"""Every method of the comparison, in the order shown (short names for charts and tables)."""
TRUST_METHODS = tuple(METHOD_NAMES)
GRADIENT_FAMILY = ("std", "mean_abs", "rms")
"""The three statistics of one gradient pass (METHOD.md section 2)."""
GRADIENT_METHODS = ("std", "mean_abs", "rms", "smoothgrad", "integrated_gradients", "grad_x_input")
"""Methods whose map is made of the network's gradients (the sanity checks' subjects)."""


class TrustError(UserError):
    """A comparison request a user can get wrong (unknown method, too few frames or clusters)."""


@dataclass(frozen=True)
class TrustConfig:
    """Sizes and settings of the comparison (``core.trust`` docstring says why these values).

    n_frames: frames of the map sample (spread evenly over the sample set); n_sanity_frames: frames
    of the sanity checks (whole clusters of the map sample); n_eval_frames: target frames of the
    deletion / insertion curves; noise_std, n_samples: SmoothGrad; steps: Integrated Gradients
    (midpoint rule, baseline 0); fractions: the share of inputs removed (deletion) or inserted
    (insertion) at each point; n_boot: bootstrap resamples of the clusters; n_splits: random
    half-splits of the clusters; shuffled_epochs: training of the shuffled-label twin."""

    n_frames: int = 1000
    n_sanity_frames: int = 120
    n_eval_frames: int = 300
    noise_std: float = 0.5
    n_samples: int = 8
    steps: int = 8
    fractions: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0)
    n_boot: int = 200
    n_splits: int = 20
    shuffled_epochs: int = 6
    seed: int = 0
    max_batch_mb: float = 64.0

    def __post_init__(self) -> None:
        if (
            min(
                self.n_frames,
                self.n_sanity_frames,
                self.n_eval_frames,
                self.n_samples,
                self.steps,
                self.n_boot,
                self.n_splits,
            )
            < 1
            or self.shuffled_epochs < 0
        ):
            raise TrustError("Frame counts, samples, steps, resamples and splits must be at least 1.")
        f = np.asarray(self.fractions, dtype=np.float64)
        if f.size < 2 or f[0] != 0.0 or f[-1] != 1.0 or np.any(np.diff(f) <= 0):
            raise TrustError("Fractions must rise from 0 to 1.")

    @property
    def cost_units(self) -> int:
        """Gradient evaluations per frame of one ``method_maps`` call."""
        return 2 + self.n_samples + self.steps


DEFAULT_CONFIG = TrustConfig()
DIGITS_CONFIG = TrustConfig(n_frames=300, n_sanity_frames=100, n_eval_frames=100)
"""The digit CNN goes through autograd, one backward per image and copy: fewer images keep its page
as quick as the speech model's."""


def config_for(kind: str, **changes) -> TrustConfig:
    """The comparison's settings for a model kind ("speech" | "digits"), with ``changes``."""
    from dataclasses import replace

    return replace(DIGITS_CONFIG if kind == "digits" else DEFAULT_CONFIG, **changes)


@dataclass(frozen=True, eq=False)
class ClusterSums:
    """Sums of one method's per-frame attributions a over the frames of each cluster.

    n: (U,) frames per cluster; s1, s2, sa: (U, D) float64 sums of a, a^2 and |a|."""

    n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    sa: np.ndarray

    @classmethod
    def from_grad_stats(cls, stats, row: int = 0) -> ClusterSums:
        """From a ``GradStats`` whose labels are clusters (target ``row``)."""
        return cls(
            stats.n.astype(np.float64), stats.sum_g[:, row], stats.sum_g2[:, row], stats.sum_abs[:, row]
        )

    def stat(self, stat: str, weights: np.ndarray | None = None) -> np.ndarray:
        """The statistic over the clusters weighted by ``weights`` ((U,) or (B, U); None = each once):
        (D,) or (B, D). std (population), mean_abs, rms or mean."""
        w = np.ones(len(self.n)) if weights is None else np.asarray(weights, dtype=np.float64)
        n = np.maximum(w @ self.n, 1e-300)[..., None]
        if stat == "mean_abs":
            return (w @ self.sa) / n
        m2 = (w @ self.s2) / n
        if stat == "rms":
            return np.sqrt(m2)
        m1 = (w @ self.s1) / n
        if stat == "mean":
            return m1
        return np.sqrt(np.maximum(m2 - m1 * m1, 0.0))

    def subset(self, keep: np.ndarray) -> ClusterSums:
        return ClusterSums(self.n[keep], self.s1[keep], self.s2[keep], self.sa[keep])


def method_stat(method: str) -> str:
    """What is drawn from a method's attributions: the gradient family's own statistic; for the random
    baseline the signed mean of its noise (0 in expectation, so its intervals and halves show what
    chance gives); else mean |a| (the usual averaged saliency map)."""
    return method if method in GRADIENT_FAMILY else "mean" if method == "random" else "mean_abs"


@dataclass(frozen=True, eq=False)
class MethodMaps:
    """Every method's map of one target over a sample of frames grouped in clusters.

    sums: {method: ClusterSums} (the gradient family shares one); fixed: {method: (D,)} maps that do
    not depend on the frames (first-layer weights); clusters: (U,) ids of the clusters (utterance
    or digit indices in the source set); unit_shape: the input's shape per frame."""

    methods: tuple[str, ...]
    sums: dict[str, ClusterSums] = field(repr=False)
    fixed: dict[str, np.ndarray] = field(repr=False)
    clusters: np.ndarray
    unit_shape: tuple[int, ...]

    @property
    def n_frames(self) -> int:
        return int(next(iter(self.sums.values())).n.sum()) if self.sums else 0

    @property
    def n_clusters(self) -> int:
        return int(len(self.clusters))

    def map(self, method: str, weights: np.ndarray | None = None) -> np.ndarray:
        """(D,) (or (B, D) for (B, U) weights) map of one method."""
        if method in self.fixed:
            m = self.fixed[method]
            return (
                m if weights is None or np.ndim(weights) == 1 else np.broadcast_to(m, (len(weights), m.size))
            )
        if method not in self.sums:
            raise TrustError(f"Unknown method {method!r}; use one of {', '.join(self.methods)}.")
        return self.sums[method].stat(method_stat(method), weights)

    def maps(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(M, D) maps in ``methods`` order (or (B, M, D) for (B, U) weights)."""
        out = np.stack([self.map(m, weights) for m in self.methods], axis=-2)
        return out

    def subset(self, keep: np.ndarray) -> MethodMaps:
        """The same maps over the clusters where ``keep`` (U,) bool is true (exact)."""
        keep = np.asarray(keep, dtype=bool)
        sums = {m: s.subset(keep) for m, s in self.sums.items()}
        return MethodMaps(self.methods, sums, self.fixed, self.clusters[keep], self.unit_shape)


def first_layer_magnitude(model: nn.Module, x1: np.ndarray) -> np.ndarray:
    """(D,) sum over the first layer's units of |weight| reaching each input: for a linear layer the
    L1 norm of the input's column of W; for a convolution sum_f sum_positions |w_f| over every
    placement of the kernel that covers the pixel (padding counts as no input). A pruned speech
    model's deleted inputs get 0."""
    first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    w = first.weight.detach().abs()
    dim = int(np.asarray(x1[0]).size)
    if isinstance(first, nn.Linear):
        col = w.sum(0).double().numpy()
        if col.size == dim:
            return col
        out = np.zeros(dim)
        out[np.asarray(model.kept_inputs)] = col
        return out
    x = torch.zeros((1, *np.asarray(x1).shape[1:]), dtype=w.dtype, requires_grad=True)
    with torch.enable_grad():
        y = nn.functional.conv2d(x, w, None, first.stride, first.padding, first.dilation, first.groups)
        (g,) = torch.autograd.grad(y.sum(), x)
    return g.reshape(-1).double().numpy()


def relabel(clusters_of_frames: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels (len(clusters_of_frames),) int64 with the sampled frames' cluster numbered 0..U-1 in
    the order of first appearance sorted by id, cluster ids (U,))."""
    ids, inv = np.unique(np.asarray(clusters_of_frames)[indices], return_inverse=True)
    lab = np.zeros(len(clusters_of_frames), dtype=np.int64)
    lab[indices] = inv
    return lab, ids


def method_maps(
    model: nn.Module,
    X,
    clusters_of_frames: np.ndarray,
    target: Sequence[int],
    *,
    indices: np.ndarray,
    cfg: TrustConfig = DEFAULT_CONFIG,
    output: str = "posterior",
    transform: Transform | None = None,
    methods: Sequence[str] = TRUST_METHODS,
    progress: Callable[[float], None] | None = None,
) -> MethodMaps:
    """Every method's map of ``target`` (output indices, summed) over the frames ``indices`` of X.

    X: frames as ``gradient_stats`` takes them (normalised, or raw with ``transform``);
    clusters_of_frames: (N,) cluster id of every frame of X (utterance; for digits each image its
    own). Per-cluster sums are kept, never per-frame attributions."""
    unknown = [m for m in methods if m not in METHOD_NAMES]
    if unknown:
        raise TrustError(f"Unknown method {unknown[0]!r}; use one of {', '.join(TRUST_METHODS)}.")
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise TrustError(N_("The sample set has no frames."))
    lab, ids = relabel(clusters_of_frames, idx)
    common = dict(
        output=output, n_labels=len(ids), transform=transform, indices=idx, max_batch_mb=cfg.max_batch_mb
    )
    cost = {
        "gradient": 1.0,
        "grad_x_input": 1.0,
        "smoothgrad": cfg.n_samples,
        "integrated_gradients": cfg.steps,
        "random": 0.05,
    }
    passes = (["gradient"] if any(m in GRADIENT_FAMILY for m in methods) else []) + [
        m for m in ("grad_x_input", "smoothgrad", "integrated_gradients", "random") if m in methods
    ]
    total, done = sum(cost[p] for p in passes) or 1.0, 0.0
    sums: dict[str, ClusterSums] = {}
    for p in passes:

        def prog(f: float, base: float = done, w: float = cost[p]) -> None:
            if progress is not None:
                progress(min(1.0, (base + f * w) / total))

        if p == "gradient":
            s = gradient_stats(model, X, lab, [tuple(target)], progress=prog, **common)
            for m in GRADIENT_FAMILY:
                if m in methods:
                    sums[m] = ClusterSums.from_grad_stats(s)
        else:
            s = attribution_stats(
                model,
                X,
                lab,
                [tuple(target)],
                method=p,
                noise_std=cfg.noise_std,
                n_samples=cfg.n_samples,
                steps=cfg.steps,
                seed=cfg.seed,
                progress=prog,
                **common,
            )
            sums[p] = ClusterSums.from_grad_stats(s)
        done += cost[p]
    x1 = X[idx[:1]]
    x1 = np.asarray(transform(x1) if transform is not None else x1, dtype=np.float32)
    fixed = {"weights": first_layer_magnitude(model, x1)} if "weights" in methods else {}
    return MethodMaps(tuple(methods), sums, fixed, ids, tuple(x1.shape[1:]))


def spread_indices(candidates: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` of ``candidates`` (sorted frame indices), evenly spread: every ceil(len/n)-th."""
    c = np.asarray(candidates, dtype=np.int64)
    if c.size <= n:
        return c
    return c[:: int(np.ceil(c.size / n))]
