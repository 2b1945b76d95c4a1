"""The comparison helper of tests/tolerance.py: it passes at the tolerance and fails at ten times it,
on the shipped Findings cards' own figures (the values test_findings compares with recomputed ones)."""

from __future__ import annotations

import math

import pytest

from core import findings as F
from core.models import DigitCNN, SpeechDNN
from tests.test_findings import LIVE, card_rtol
from tests.tolerance import U32, chain_terms, close, float32_rtol, forward_terms, gradient_rtol, perturbed


def test_bound_follows_the_arithmetic():
    assert float32_rtol(1) == pytest.approx(6 * U32)
    assert float32_rtol(10_000) == pytest.approx(6 * 100 * U32)
    # an MLP 4 -> 3 -> 2: forward sums of 4 and 3 terms, backward of 3 and 2, the softmax's 2
    mlp = SpeechDNN(4, 2, width=3, n_hidden=1)
    assert (forward_terms(mlp), chain_terms(mlp)) == (4 + 3, 4 + 3 + 3 + 2 + 2)
    r = 6 * math.sqrt(14) * U32
    assert gradient_rtol(mlp, factors=2) == pytest.approx((1 + r) ** 2 - 1)
    # a CNN: conv1 1x5x5 -> 4 filters, conv2 4x5x5 -> 6, fc 6*7*7 -> 16 -> 10
    cnn = DigitCNN(c1=4, c2=6, hidden=16)
    assert forward_terms(cnn) == 25 + 4 * 25 + 6 * 49 + 16


@pytest.mark.shipped
@pytest.mark.parametrize("key", LIVE)
@pytest.mark.parametrize("sign", [1, -1])
def test_shipped_figures_pass_at_the_tolerance_and_fail_at_ten_times_it(key, sign):
    values = F.read_shipped().findings[key].values
    rtol = card_rtol(key)
    assert close(perturbed(values, rtol * (1 - 1e-9), sign), values, rtol)  # the tolerance, to the last bit
    assert not close(perturbed(values, 10 * rtol, sign), values, rtol)
    # each figure alone: one number moved by 10x the tolerance is found
    for name, v in values.items():
        if any(isinstance(x, float) and x != 0 for x in (v if isinstance(v, list) else [v])):
            assert not close({**values, name: perturbed(v, 10 * rtol, sign)}, values, rtol), name


def test_close_compares_structure_and_non_floats_exactly():
    assert close({"a": [1.0, 2]}, {"a": [1.0, 2]}, 0.0)
    assert not close({"a": [1.0, 2]}, {"a": [1.0, 3]}, 0.5)  # ints exactly
    assert not close({"a": [1.0]}, {"a": [1.0, 2.0]}, 0.5)
    assert not close({"a": 1.0}, {"b": 1.0}, 0.5)
    assert not close("20%", "21%", 0.5)
    assert close(0.0, 0.0, 1e-3) and not close(1e-30, 0.0, 1e-3)
