"""core.overlap: histograms, eps and p_e against hand-computed cases; batching changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from core.importance.overlap import (
    HistogramAccumulator,
    OverlapError,
    class_histograms,
    input_range,
    overlap_probability,
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 500)
    x = rng.standard_normal((500, 6)) + labels[:, None] * np.array([0, 0.5, 1, 2, 4, 8])
    return x.astype(np.float32), labels


def test_overlap_probability_ends():
    np.testing.assert_allclose(overlap_probability([1.0, 0.0, 0.5]), [0.0, 1.0, 2 / 3])


def test_identical_distributions_give_zero():
    x = np.random.default_rng(1).standard_normal((200, 3)).astype(np.float32)
    h = class_histograms(np.concatenate([x, x]), np.repeat([0, 1], 200), bins=17)
    eps, p_e = h.overlap(0, 1)
    np.testing.assert_allclose(eps, 1.0)
    np.testing.assert_allclose(p_e, 0.0, atol=1e-12)


def test_disjoint_distributions_give_one():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(0, 1, (100, 2)), rng.uniform(5, 6, (100, 2))])
    h = class_histograms(x, np.repeat([0, 1], 100), bins=30, percentiles=(0, 100))
    eps, p_e = h.overlap(0, 1)
    np.testing.assert_array_equal(eps, 0.0)
    np.testing.assert_array_equal(p_e, 1.0)


def test_hand_computed_case():
    # bins of width 1 on [0, 4]: a has masses .5 .25 .25 0, b has 0 .25 .25 .5 -> eps .5, p_e 2/3
    x = np.array([0.5, 0.5, 1.5, 2.5, 1.5, 2.5, 3.5, 3.5])[:, None]
    h = class_histograms(x, np.repeat([0, 1], 4), bins=4, value_range=(np.zeros(1), np.full(1, 4.0)))
    eps, p_e = h.overlap(0, 1)
    assert eps[0] == pytest.approx(0.5) and p_e[0] == pytest.approx(2 / 3)
    d = h.detail(0, 1, 0)
    np.testing.assert_allclose(d.centres, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(d.p_a, [0.5, 0.25, 0.25, 0.0])
    np.testing.assert_allclose(d.p_b, [0.0, 0.25, 0.25, 0.5])
    assert (d.eps, d.p_e) == (pytest.approx(0.5), pytest.approx(2 / 3))
    np.testing.assert_allclose(h.class_means()[:, 0], [1.25, 2.75])


def test_bin_width_changes_density_not_eps():
    x = np.array([0.5, 1.5, 1.5, 3.0])[:, None]
    h = class_histograms(x, np.array([0, 0, 1, 1]), bins=2, value_range=(np.zeros(1), np.full(1, 4.0)))
    d = h.detail(0, 1, 0)
    np.testing.assert_allclose(d.p_a, [0.5, 0.0])  # mass 1 in a bin of width 2
    np.testing.assert_allclose((d.p_a * np.diff(d.edges)).sum(), 1.0)
    assert d.eps == pytest.approx(0.5)


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_batches_equal_one_shot(data, batch_size):
    x, labels = data
    one = class_histograms(x, labels, batch_size=len(x))
    got = class_histograms(x, labels, batch_size=batch_size)
    np.testing.assert_array_equal(got.counts, one.counts)
    np.testing.assert_allclose(got.sums, one.sums, rtol=1e-12)
    np.testing.assert_array_equal(got.overlap(0, 3)[1], one.overlap(0, 3)[1])


def test_counts_keep_every_frame_and_means_are_exact(data):
    x, labels = data
    h = class_histograms(x, labels, bins=5, percentiles=(10, 90))  # many values clipped into end bins
    assert h.counts.shape == (4, 6, 5)
    np.testing.assert_array_equal(h.counts.sum(axis=2), np.bincount(labels)[:, None].repeat(6, 1))
    means = np.stack([x[labels == c].astype(np.float64).mean(0) for c in range(4)])
    np.testing.assert_allclose(h.class_means(), means, rtol=1e-10)
    np.testing.assert_allclose(h.mean([1, 2]), x[np.isin(labels, [1, 2])].astype(np.float64).mean(0))


def test_label_groups_are_unions(data):
    x, labels = data
    h = class_histograms(x, labels)
    merged = class_histograms(x, np.where(labels == 1, 0, labels), n_labels=4,
                              value_range=(h.lo, h.hi))
    np.testing.assert_allclose(h.overlap([0, 1], 3)[0], merged.overlap(0, 3)[0])
    p_e = class_histograms(x, labels, bins=6).overlap(0, 3)[1]
    assert p_e[0] < 0.3 and p_e[-1] > 0.99  # input 0 is the same for all labels, input 5 far apart


def test_range_from_percentiles_and_subsample(data):
    x, _ = data
    lo, hi = input_range(x, percentiles=(0.5, 99.5))
    np.testing.assert_allclose(lo, np.percentile(x.astype(np.float64), 0.5, axis=0))
    lo2, _ = input_range(x, max_range_frames=50)
    assert lo2.shape == (6,) and np.all(np.isfinite(lo2))
    const_lo, const_hi = input_range(np.ones((5, 2)))
    np.testing.assert_allclose(const_hi - const_lo, 1.0)


def test_empty_label_and_bad_input_raise(data):
    x, labels = data
    h = class_histograms(x, labels, n_labels=6, names=["a", "b", "c", "d", "e", "f"])
    assert np.isnan(h.class_means()[5]).all()
    with pytest.raises(OverlapError, match="No frames are labelled f"):
        h.overlap(0, 5)
    with pytest.raises(OverlapError, match="Unknown label index 9"):
        h.detail(0, 9, 0)
    with pytest.raises(OverlapError, match="Input 6 does not exist"):
        h.detail(0, 1, 6)
    with pytest.raises(OverlapError, match="but 3 labels"):
        class_histograms(x, labels[:3])
    with pytest.raises(OverlapError, match="no frames"):
        class_histograms(x, labels, indices=np.array([], dtype=int))
    acc = HistogramAccumulator(np.zeros(6), np.ones(6), 4, 2)
    with pytest.raises(OverlapError, match="Labels must lie"):
        acc.update(x[:2], np.array([0, 2]))
