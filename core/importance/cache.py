"""``GradStatsCache``: input-layer statistics per (model, sample set) key, computing only the
targets it has not seen yet."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace

import numpy as np
from torch import nn

from core.importance.engines import gradient_stats
from core.importance.stats import GradStats, ImportanceError, Output, TargetSpec, _target_key
from core.once import Once


class GradStatsCache:
    """Input-layer GradStats per (key, output) that computes only targets it has not seen:
    ``core.once.Once`` keyed by (key, output, target), whose ``get_many`` computes a request's
    missing targets together in one gradient pass.

    ``key`` must identify the model and the sample set (frames, transform, indices), e.g.
    ("speech_en_mfbank", "validation"). Thread-safe; keeps the ``max_entries`` most recently used
    targets' statistics (each (n_labels, D) x 3 float64: 1.3 MB for 40 labels and 35 x 40 inputs).

    A target asked for by several threads at once is computed once: the first thread claims it, the
    others wait for it (seeing its progress: ``progress=`` is called with the computing thread's
    fraction, so every waiter shows a moving bar) and then read the result. ``max_concurrent``
    computations run at a time (the others queue), which bounds the memory of the gradient batches
    (``gradient_stats``' ``max_batch_mb`` each). ``computed`` counts the targets computed (not those
    read from disk).

    With ``disk`` (a ``core.diskstore.DiskStore``) and ``disk_key`` (a function of ``key`` giving the
    store's key of that model and sample set, or None), each target's statistics are also kept on
    disk, one file per (key, output, target): targets found there are read instead of computed, and
    a computation holds the store's lock of its targets, so another process asking for the same
    targets at the same time waits and reads them.
    """

    def __init__(self, max_entries: int = 1024, max_concurrent: int = 2, disk=None, disk_key=None):
        self.disk, self.disk_key = disk, disk_key
        self._once = Once(max_entries, disk=disk, disk_key=self._target_disk_key if disk is not None else None,
                          max_concurrent=max_concurrent)
        self.max_entries, self.max_concurrent = max_entries, max_concurrent

    def _target_disk_key(self, full: tuple):
        key, output, target = full
        dk = self.disk_key(key) if self.disk_key is not None else None
        return None if dk is None else (*dk, output, target)

    @property
    def computed(self) -> int:
        return self._once.computed

    def clear(self) -> None:
        """Forget every target kept in memory (as a restart does; the disk store is kept)."""
        self._once.clear()

    def has(self, key: Hashable, targets: Sequence[TargetSpec], *, output: Output = "posterior") -> bool:
        """True when every target's statistics for (key, output) are stored (a ``get`` returns at once)."""
        return self._once.has_all((key, output, _target_key(t)) for t in targets)

    def get(self, key: Hashable, model: nn.Module, X, labels: np.ndarray,
            targets: Sequence[TargetSpec] | None = None, *, output: Output = "posterior",
            **kwargs) -> GradStats:
        """GradStats for ``targets`` (None = every output), computing only the missing ones.

        Other keyword arguments go to ``gradient_stats`` (n_labels, transform, indices, ...)."""
        if targets is None:
            if getattr(model, "n_classes", None) is None:
                raise ImportanceError("Give the targets: this model does not say how many outputs it has.")
            targets = range(model.n_classes)
        want = tuple(_target_key(t) for t in targets)
        if not want:
            raise ImportanceError("Give at least one target.")
        progress = kwargs.pop("progress", None)

        def compute(keys: list, share) -> dict:
            new = gradient_stats(model, X, labels, [k[2] for k in keys], output=output, progress=share, **kwargs)
            return {k: new.select([k[2]]) for k in keys}

        got = self._once.get_many([(key, output, t) for t in want], compute, progress)
        return _concat([got[(key, output, t)] for t in want])


def _concat(parts: Sequence[GradStats]) -> GradStats:
    """One GradStats of single-target results on the same sample set, targets in order (one copy)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    for p in parts[1:]:
        if (p.output, p.layer, p.unit_shape, p.method) != (first.output, first.layer, first.unit_shape,
                                                             first.method) or not np.array_equal(p.n, first.n):
            raise ImportanceError("Only statistics of the same sample set, layer and output can merge.")
    cat = lambda name: np.concatenate([getattr(p, name) for p in parts], axis=1)  # noqa: E731
    return replace(first, targets=tuple(p.targets[0] for p in parts), n=first.n.copy(), sum_g=cat("sum_g"),
                   sum_g2=cat("sum_g2"), sum_abs=cat("sum_abs"))
