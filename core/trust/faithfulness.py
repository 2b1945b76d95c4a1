"""Deletion and insertion curves of each method's ranking, their areas, and bootstrap intervals
over clusters (utterances or digits). The choices are written down in ``core.trust``'s docstring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.text import N_
from core.torch_utils import eval_mode
from core.trust.maps import TrustError

MEASURES = {
    "posterior": N_("mean posterior of the target on its frames"),
    "recall": N_("recall of the target"),
}
CURVES = ("deletion", "insertion")


def ranking(values: np.ndarray) -> np.ndarray:
    """Input indices from the largest value to the smallest (ties: lower index first)."""
    return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")


@dataclass(frozen=True, eq=False)
class Faithfulness:
    """Curves of every method: ``sums`` (2 measures, M, 2 curves, K, U) float64 per-cluster sums of
    the per-frame measure (posterior, recall) at each fraction; ``n`` (U,) target frames per cluster.
    Measures in ``MEASURES`` order, curves in ``CURVES`` order."""

    methods: tuple[str, ...]
    fractions: np.ndarray
    sums: np.ndarray = field(repr=False)
    n: np.ndarray
    clusters: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.n.sum())

    def curves(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(2, M, 2, K) mean measure over the frames (weighted clusters; (B, U) weights -> (B, 2, M, 2, K))."""
        w = np.ones(len(self.n)) if weights is None else np.asarray(weights, dtype=np.float64)
        num = np.tensordot(w, self.sums, axes=([-1], [-1]))  # (..., 2, M, 2, K)
        den = np.maximum(w @ self.n, 1e-300)
        return num / np.reshape(den, np.shape(den) + (1, 1, 1, 1))

    def auc(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(2, M, 2) area under each curve over the fraction axis [0, 1] (trapezoid rule)."""
        c = self.curves(weights)
        return np.sum(np.diff(self.fractions) * (c[..., 1:] + c[..., :-1]) / 2, axis=-1)

    def table(self) -> pd.DataFrame:
        """Long rows: method, curve, measure, fraction, value."""
        c = self.curves()
        rows = [
            (m, cv, ms, float(f), float(c[i, j, k, q]))
            for i, ms in enumerate(MEASURES)
            for j, m in enumerate(self.methods)
            for k, cv in enumerate(CURVES)
            for q, f in enumerate(self.fractions)
        ]
        return pd.DataFrame(rows, columns=["method", "curve", "measure", "fraction", "value"])


def _measures(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(posterior of the target (summed over its outputs), 1 if the top output is one of them)."""
    with torch.no_grad(), eval_mode(model):
        p = torch.softmax(model(x).double(), -1)
    return p[:, target].sum(1).numpy(), np.isin(p.argmax(1).numpy(), target.numpy()).astype(np.float64)


def faithfulness(
    model: nn.Module,
    x: np.ndarray,
    clusters_of_frames: np.ndarray,
    target: Sequence[int],
    maps: np.ndarray,
    methods: Sequence[str],
    *,
    fill: np.ndarray,
    fractions: Sequence[float],
    progress: Callable[[float], None] | None = None,
) -> Faithfulness:
    """Deletion and insertion curves of the target's frames ``x`` (F, ...) normalised inputs.

    maps: (M, D) one map per method; the top k = round(f * D) inputs of a map are replaced by
    ``fill`` (D,) (deletion) or are the only ones kept, all others taking ``fill`` (insertion)."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        raise TrustError(N_("The target has no frames to measure the curves on."))
    shape, flat = x.shape, x.reshape(len(x), -1)
    d = flat.shape[1]
    maps = np.asarray(maps)
    if maps.shape != (len(methods), d) or np.shape(fill) != (d,):
        raise TrustError(f"Give one map of {d} values per method and a fill of {d} values.")
    fr = np.asarray(fractions, dtype=np.float64)
    ks = np.rint(fr * d).astype(int)
    ids, inv = np.unique(np.asarray(clusters_of_frames), return_inverse=True)
    onehot = np.zeros((len(ids), len(x)))
    onehot[inv, np.arange(len(x))] = 1.0
    tgt = torch.as_tensor(list(target), dtype=torch.long)
    fill32 = np.asarray(fill, dtype=np.float32)
    dtype = next(model.parameters()).dtype
    sums = np.zeros((2, len(methods), 2, len(ks), len(ids)))

    def measure(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(posterior, hit) of a (r, F, D) batch, each (r, U) per-cluster sums."""
        xt = torch.from_numpy(batch.reshape(len(batch) * len(x), *shape[1:])).to(dtype)
        post, hit = _measures(model, xt, tgt)
        return post.reshape(len(batch), len(x)) @ onehot.T, hit.reshape(len(batch), len(x)) @ onehot.T

    # k = 0 and k = D are the intact frames and the all-mean frames, whatever the map: measured once
    ends = measure(np.stack([flat, np.broadcast_to(fill32, flat.shape)]))
    inner = [q for q, k in enumerate(ks) if 0 < k < d]
    for j, values in enumerate(maps):
        order = ranking(values)
        for c, curve in enumerate(CURVES):
            for q, k in enumerate(ks):
                if k in (0, d):
                    whole = (k == 0) == (curve == "deletion")  # deletion at 0, insertion at D: intact
                    sums[0, j, c, q], sums[1, j, c, q] = (
                        ends[0][0 if whole else 1],
                        ends[1][0 if whole else 1],
                    )
            batch = np.empty((len(inner), *flat.shape), dtype=np.float32)
            for b, q in enumerate(inner):
                top = order[: ks[q]]
                if curve == "deletion":
                    batch[b] = flat
                    batch[b][:, top] = fill32[top]
                else:
                    batch[b] = fill32
                    batch[b][:, top] = flat[:, top]
            if inner:
                sums[0, j, c, inner], sums[1, j, c, inner] = measure(batch)
            if progress is not None:
                progress((2 * j + c + 1) / (2 * len(methods)))
    return Faithfulness(tuple(methods), fr, sums, onehot.sum(1), ids)
