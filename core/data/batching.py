"""Generic batching of a sample set: (x, labels) batches of any indexable frame store.

Shared by every module that walks over many frames (``core.importance``, ``core.importance.overlap``,
``core.pruning``); it knows nothing about models or statistics.

Choices written down here:

- A sample set is ``X`` (an array, or any object with ``len(X)`` and ``X[int_array]``, e.g.
  ``core.features.SplicedFrames``), its true labels, an optional subset of frame indices and an
  optional ``transform`` applied to each raw batch (e.g. ``Normalizer.apply``), so that a lazy
  spliced view is normalised batch by batch and never materialised whole.
- Batches come in the order of ``indices`` (or of the frames); the last one may be shorter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from core.text import UserError

Transform = Callable[[np.ndarray], np.ndarray]


class BatchError(UserError):
    """A sample set that cannot be batched (frames and labels of different lengths)."""


def iter_batches(
    X,
    labels: np.ndarray,
    *,
    batch_size: int,
    indices: np.ndarray | None = None,
    transform: Transform | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, labels) batches of a sample set, in order.

    X: (N, ...) array or any object with ``len(X)`` and ``X[int_array] -> (n, ...)`` (e.g.
    ``core.features.SplicedFrames``). labels: (N,) int true label of every frame. indices: optional
    subset of frames (int array). transform: applied to each raw batch (e.g. ``Normalizer.apply``).
    Yields x (b, ...) float32 and labels (b,) int64, b <= batch_size.
    """
    labels = np.asarray(labels)
    if len(labels) != len(X):
        raise BatchError(f"There are {len(X)} frames but {len(labels)} labels.")
    idx = np.arange(len(X)) if indices is None else np.asarray(indices, dtype=np.int64)
    step = max(1, int(batch_size))
    for s in range(0, idx.size, step):
        b = idx[s : s + step]
        x = X[b]
        if transform is not None:
            x = transform(x)
        yield np.asarray(x, dtype=np.float32), labels[b].astype(np.int64)


__all__ = ["BatchError", "Transform", "iter_batches"]
