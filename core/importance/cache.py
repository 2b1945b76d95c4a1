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

    A target asked for by several threads at once is computed once: the first thread claims it
    (under the lock), the others wait for it and then read the result. ``max_concurrent``
    computations run at a time (the others queue), which bounds the memory of the gradient
    batches (``gradient_stats``' ``max_batch_mb`` each). ``computed`` counts the targets computed (not
    those read from disk).
    A thread waiting for another's computation sees its progress (``progress=`` is called with the
    computing thread's fraction), so every waiter shows a moving bar, not a frozen page.

    With ``disk`` (a ``core.diskstore.DiskStore``) and ``disk_key`` (a function of ``key`` giving the
    store's key of that model and sample set, or None), each target's statistics are also kept on
    disk, one file per (key, output, target): targets found there are read instead of computed, and
    a computation holds the store's lock of its targets, so another process asking for the same
    targets at the same time waits and reads them.
    """

    def __init__(self, max_entries: int = 8, max_concurrent: int = 2, disk=None, disk_key=None):
        self._store: OrderedDict[Hashable, GradStats] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Event] = {}
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._fraction: dict[Hashable, float] = {}
        self.max_entries = max_entries
        self.max_concurrent = max_concurrent
        self.computed = 0
        self.disk, self.disk_key = disk, disk_key

    def _from_disk(self, key, output, targets) -> list[GradStats]:
        dk = self.disk_key(key) if self.disk is not None else None
        if dk is None:
            return []
        found = (self.disk.load((*dk, output, t)) for t in targets)
        return [s for s in found if isinstance(s, GradStats)]

    def _compute(self, key, model, X, labels, targets, output, share, kwargs) -> tuple[GradStats, int]:
        """Statistics of ``targets``: read from disk where stored, the rest computed (and stored);
        and how many were computed."""
        dk = self.disk_key(key) if self.disk is not None else None
        if dk is None:
            return gradient_stats(model, X, labels, targets, output=output, progress=share, **kwargs), len(targets)
        with self.disk.claim((*dk, output, tuple(targets))):
            have = self._from_disk(key, output, targets)
            done = {t for s in have for t in s.targets}
            rest = [t for t in targets if t not in done]
            if rest:
                new = gradient_stats(model, X, labels, rest, output=output, progress=share, **kwargs)
                for t in rest:
                    self.disk.save((*dk, output, t), new.select([t]))
                have.append(new)
        out = have[0]
        for s in have[1:]:
            out = out.merge(s)
        return out, len(rest)

    def has(self, key: Hashable, targets: Sequence[TargetSpec], *, output: Output = "posterior") -> bool:
        """True when every target's statistics for (key, output) are stored (a ``get`` returns at once)."""
        with self._lock:
            have = self._store.get((key, output))
            return have is not None and all(_target_key(t) in have.targets for t in targets)

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
        sk = (key, output)
        progress = kwargs.pop("progress", None)
        while True:
            with self._lock:
                have = self._store.get(sk)
                missing = list(dict.fromkeys(t for t in want if have is None or t not in have.targets))
                if not missing:
                    self._store.move_to_end(sk)
                    return have.select(want)
                mine = [t for t in missing if (sk, t) not in self._pending]
                others = [(t, self._pending[(sk, t)]) for t in missing if (sk, t) in self._pending]
                done = threading.Event()
                for t in mine:
                    self._pending[(sk, t)] = done
            if mine:

                def share(f: float, _mine=tuple(mine)) -> None:
                    for t in _mine:
                        self._fraction[(sk, t)] = f
                    if progress is not None:
                        progress(f)

                try:
                    with self._slots:
                        share(0.0)
                        new, n_computed = self._compute(key, model, X, labels, mine, output, share, kwargs)
                    with self._lock:
                        have = self._store.get(sk)
                        self._store[sk] = new if have is None else have.merge(new)
                        self._store.move_to_end(sk)
                        self.computed += n_computed
                        while len(self._store) > self.max_entries:
                            self._store.popitem(last=False)
                finally:
                    with self._lock:
                        for t in mine:
                            self._pending.pop((sk, t), None)
                            self._fraction.pop((sk, t), None)
                    done.set()
            for t, ev in others:  # computed by another thread (or failed there: then claimed again)
                while not ev.wait(0.25):
                    if progress is not None:
                        progress(self._fraction.get((sk, t), 0.0))
