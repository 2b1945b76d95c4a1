"""Gradient statistics across processes: each rank sums its frames, ``torch.distributed`` adds the sums.

The per-label sums n, sum g, sum g^2, sum |g| (``GradStats``) are mergeable by addition, so a pass
over N frames shared by W ranks is W passes over N / W frames and one all-reduce of the float64
sums (``all_reduce_stats``); the statistics drawn from them (std, mean |g|, ...) are then those of
the whole sample set. Without a process group everything here is the single-process computation.

Choices written down here:

- **Whole batches per rank.** ``rank_frames`` gives rank r a contiguous block of *whole batches* of
  the single-process batch size (the one ``layer_gradient_stats`` would choose), so every frame's
  gradient is computed in the very batch it would be in one process: the float32 gradients are
  bit for bit the same, and the float64 sums differ from one process's only by the order of the
  additions (relative 1e-16 per addition; the test's bound is the arithmetic's).
- **A rank with nothing to do** (fewer batches than ranks) computes one frame and multiplies its
  sums by zero, so that every rank all-reduces arrays of the same shapes (the shapes of a layer's
  gradient need a forward pass).
- **Sharded corpora** (``core.data.shards``): rank r takes shards r, r + W, ...; each shard's frames
  go through ``layer_gradient_stats`` on their own (two shards' pages at most are mapped), and the
  sums are added over shards, then over ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from core.data.batching import Transform
from core.importance.engines import _auto_batch, _engine, _setup, layer_gradient_stats
from core.importance.stats import GradStats, ImportanceError, Output, TargetSpec
from core.train import distributed as D


def _add(a: dict[int, GradStats] | None, b: dict[int, GradStats], scale: float = 1.0) -> dict[int, GradStats]:
    """Layer by layer: the sums of ``a`` plus ``scale`` times those of ``b`` (``a`` None: zero)."""
    out = {}
    for layer, s in b.items():
        new = [s.n * scale, s.sum_g * scale, s.sum_g2 * scale, s.sum_abs * scale]
        if a is not None:
            t = a[layer]
            new = [x + y for x, y in zip((t.n, t.sum_g, t.sum_g2, t.sum_abs), new, strict=True)]
        out[layer] = GradStats(s.targets, s.output, np.rint(new[0]).astype(np.int64), *new[1:], layer=s.layer,
                               unit_shape=s.unit_shape, method=s.method)
    return out


def all_reduce_stats(stats: dict[int, GradStats]) -> dict[int, GradStats]:
    """Sum every layer's n, sum g, sum g^2, sum |g| over the ranks (float64 ``all_reduce``, one call
    per layer); the identity without a process group."""
    if not D.current().active:
        return stats
    out = {}
    for layer, s in sorted(stats.items()):
        flat = torch.from_numpy(np.concatenate([s.n.astype(np.float64), s.sum_g.ravel(), s.sum_g2.ravel(),
                                                s.sum_abs.ravel()]))
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        a = flat.numpy()
        k, m = len(s.n), s.sum_g.size
        parts = [a[k + i * m : k + (i + 1) * m].reshape(s.sum_g.shape) for i in range(3)]
        out[layer] = GradStats(s.targets, s.output, np.rint(a[:k]).astype(np.int64), *parts, layer=s.layer,
                               unit_shape=s.unit_shape, method=s.method)
    return out


def batch_size_for(model: nn.Module, X, labels: np.ndarray, targets=None, *, layers: Sequence[int] = (0,),
                   output: Output = "posterior", n_labels: int | None = None, transform: Transform | None = None,
                   indices: np.ndarray | None = None, max_batch_mb: float = 128, engine: str = "auto") -> int:
    """The batch size ``layer_gradient_stats`` chooses for these arguments (``_auto_batch``)."""
    eng = _engine(model, engine)
    tg, _, _, _, x1 = _setup(model, X, labels, targets, output, n_labels, indices, transform)
    return _auto_batch(model, x1, len(tg), tuple(sorted({int(v) for v in layers})), eng, max_batch_mb)


def rank_frames(indices: np.ndarray, batch_size: int, ranks: D.Ranks) -> np.ndarray:
    """This rank's contiguous block of whole batches of ``indices`` (batches of ``batch_size`` in
    order; the ``nb`` batches are cut into W blocks by ``numpy.array_split``)."""
    if not ranks.active:
        return indices
    nb = -(-len(indices) // batch_size)
    blocks = np.array_split(np.arange(nb), ranks.world)[ranks.rank]
    if blocks.size == 0:
        return indices[:0]
    return indices[blocks[0] * batch_size : (blocks[-1] + 1) * batch_size]


def gradient_stats_across_ranks(model: nn.Module, X, labels: np.ndarray,
                                targets: Sequence[TargetSpec] | None = None, *, layers: Sequence[int] = (0,),
                                batch_size: int | None = None, indices: np.ndarray | None = None,
                                progress: Callable[[float], None] | None = None,
                                **kwargs) -> dict[int, GradStats]:
    """``layer_gradient_stats`` over the frames ``indices`` (all if None), shared among the ranks of
    the process group (whole batches each, ``rank_frames``) and all-reduced: every rank returns the
    statistics of all frames. In one process it is ``layer_gradient_stats`` itself."""
    ranks = D.current()
    if not ranks.active:
        return layer_gradient_stats(model, X, labels, targets, layers=layers, batch_size=batch_size,
                                    indices=indices, progress=progress, **kwargs)
    idx = np.arange(len(X)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ImportanceError("The sample set has no frames.")
    bs = batch_size or batch_size_for(model, X, labels, targets, layers=layers, indices=idx,
                                      **{k: v for k, v in kwargs.items() if k in (
                                          "output", "n_labels", "transform", "max_batch_mb", "engine")})
    mine = rank_frames(idx, bs, ranks)
    scale = 1.0 if mine.size else 0.0  # nothing to do: one frame's sums, zeroed (same shapes on every rank)
    local = layer_gradient_stats(model, X, labels, targets, layers=layers, batch_size=bs,
                                 indices=mine if mine.size else idx[:1], progress=progress, **kwargs)
    return all_reduce_stats(_add(None, local, scale))


def sharded_gradient_stats(model: nn.Module, corpus, labels_of: Callable[[object], np.ndarray],
                           targets: Sequence[TargetSpec] | None = None, *, layers: Sequence[int] = (0,),
                           transform: Transform | None = None, batch_size: int | None = None,
                           **kwargs) -> dict[int, GradStats]:
    """Statistics over every frame of a sharded corpus (``core.data.shards.ShardedCorpus``): rank r
    of W takes shards r, r + W, ... (all of them in one process), each shard's spliced frames go
    through ``layer_gradient_stats`` (``labels_of(shard)`` gives its true labels), the sums are
    added over shards and all-reduced. One shard is mapped at a time."""
    ranks = D.current()
    context = corpus.cfg.context
    total = None
    for k in range(ranks.rank, corpus.n_shards, ranks.world):
        shard = corpus.shard(k)
        part = layer_gradient_stats(model, shard.spliced(context), labels_of(shard), targets, layers=layers,
                                    transform=transform, batch_size=batch_size, **kwargs)
        total = _add(total, part)
        del shard, part
    if total is None:  # more ranks than shards: shard 0's first frame, zeroed
        shard = corpus.shard(0)
        part = layer_gradient_stats(model, shard.spliced(context), labels_of(shard), targets, layers=layers,
                                    transform=transform, batch_size=batch_size, indices=np.arange(1), **kwargs)
        total = _add(None, part, 0.0)
    return all_reduce_stats(total)


__all__ = ["all_reduce_stats", "batch_size_for", "gradient_stats_across_ranks", "rank_frames",
           "sharded_gradient_stats"]
