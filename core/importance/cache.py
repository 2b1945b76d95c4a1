"""``GradStatsCache``: input-layer statistics per (model, sample set) key, computing only the
targets it has not seen yet."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import numpy as np
from torch import nn

from core.importance.engines import gradient_stats
from core.importance.stats import GradStats, ImportanceError, Output, TargetSpec, _target_key


class GradStatsCache:
    """Input-layer GradStats per (key, output) that computes only targets it has not seen.

    ``key`` must identify the model and the sample set (frames, transform, indices), e.g.
    ("speech_en_mfbank", "validation"). Thread-safe; keeps the ``max_entries`` most recent keys.
    """

    def __init__(self, max_entries: int = 8):
        self._store: OrderedDict[Hashable, GradStats] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

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
        with self._lock:
            have = self._store.get((key, output))
        missing = list(dict.fromkeys(t for t in want if have is None or t not in have.targets))
        if missing:
            new = gradient_stats(model, X, labels, missing, output=output, **kwargs)
            with self._lock:
                have = self._store.get((key, output))
                have = new if have is None else have.merge(new)
                self._store[(key, output)] = have
                self._store.move_to_end((key, output))
                while len(self._store) > self.max_entries:
                    self._store.popitem(last=False)
        return have.select(want)

