"""Tests of core/batching.py: batches in order, subsets, transforms, and a length mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.batching import BatchError, iter_batches
from core.features import SplicedFrames


def test_iter_batches_transform_and_indices():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 6)).astype(np.float32)
    labels = np.arange(12) % 4
    got = list(iter_batches(x, labels, batch_size=3, indices=np.array([4, 1, 7, 9]), transform=lambda v: v * 2))
    assert [len(b[1]) for b in got] == [3, 1]
    np.testing.assert_array_equal(got[0][0], x[[4, 1, 7]] * 2)
    np.testing.assert_array_equal(got[1][1], labels[[9]])
    assert got[0][0].dtype == np.float32 and got[0][1].dtype == np.int64


def test_iter_batches_covers_a_lazy_view_in_order():
    feats = np.arange(20, dtype=np.float32).reshape(10, 2)
    view = SplicedFrames(feats, np.array([0, 4]), 1)
    labels = np.arange(10)
    got = list(iter_batches(view, labels, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), view[np.arange(10)])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), labels)


def test_iter_batches_refuses_mismatched_labels():
    with pytest.raises(BatchError, match="5 frames but 4 labels"):
        next(iter_batches(np.zeros((5, 2)), np.zeros(4), batch_size=2))
