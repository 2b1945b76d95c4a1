"""The only calls from ``core.pruning`` into ``core.importance`` and ``core.train``.

Kept in one small file so that a change of those modules' names or keywords (e.g. the output kind
``output=``, ``stat=``) is adjusted here and nowhere else.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from core.models import ModelInfo


def grad_importance(model: nn.Module, X: np.ndarray, labels: np.ndarray, layers: tuple[int, ...], *,
                    n_labels: int, stat: str = "std", output: str = "posterior",
                    per_filter: bool = True, batch_size: int | None = None) -> dict[int, np.ndarray]:
    """Imp(l, i) = sum over every output j of stat_x(dy_j / dh_i^(l)) for each layer in ``layers``:
    {layer: (D_l,) float64}; conv maps summed over positions (per filter) with ``per_filter``.
    X: (N, ...) normalised inputs; labels: (N,) true labels 0..n_labels-1."""
    from core.importance import layer_gradient_stats, unit_importance

    stats = layer_gradient_stats(model, X, labels, None, layers=layers, output=output, n_labels=n_labels,
                                 batch_size=batch_size)
    return unit_importance(stats, stat, per_filter=per_filter)


def speech_frames(info: ModelInfo):
    """(spliced raw frames view (N, 35*C), (N,) int64 class of each frame in model output order,
    (N,) int64 utterance of each frame) of the model's validation set."""
    from core.train import frame_targets, load_validation

    frames = load_validation(info)
    return frames.spliced(), frame_targets(frames, info.targets), np.asarray(frames.frame_utt, np.int64)


def digit_sets(info: ModelInfo) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images (n, 28, 28) 0..255, train labels, held-out images, held-out labels) of a
    digits model: the split its metadata names."""
    from core.train import digits_validation, mnist_split

    held = digits_validation(info)
    d = info.data
    if d.get("source") == "idx":
        from core.data.idx import load_idx_dataset

        ds = load_idx_dataset(d["dir"])
        tr_x, tr_y = ds.train_images, ds.train_labels
    else:
        train, _, _ = mnist_split(int(d.get("split_seed", 0)), int(d.get("heldout_per_class", 100)))
        tr_x, tr_y = train.images, train.labels
    return (np.asarray(tr_x, np.float32), np.asarray(tr_y, np.int64),
            np.asarray(held.images, np.float32), np.asarray(held.labels, np.int64))
