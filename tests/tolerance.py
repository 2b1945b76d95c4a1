"""Tolerances derived from float32 arithmetic, for tests that compare recomputed figures with stored
ones (shipped JSON, model metadata) or with another code path.

Another processor, or another CPU code path of the same one (``ATEN_CPU_CAPABILITY``, MKL's and
OpenBLAS's kernels for another core), adds float32 terms in another order and with other vector
widths, so a recomputed float32 figure differs in its last bits. How much follows from the
arithmetic: a float32 sum or dot product of n terms has a relative error of at most about
n·u (u = 2^-24, the unit roundoff; Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1),
and with rounding errors that behave like independent random variables at most λ·√n·u with
probability at least 1 - 2·exp(-λ²/2) (Higham & Mary, SIAM J. Sci. Comput. 2019). A network's
gradient dy/dx is a chain of such products, one per layer forward and back, so its terms add up
over the chain.

``gradient_rtol`` uses the probabilistic bound with λ = 6 (each comparison fails by chance with
probability below 2e-8) over the chain's terms; ``close`` compares nested figures (lists, dicts,
numbers) with it. Exact equality is kept only where a code path is bit-deterministic by
construction (the same process, the same kernels, the same inputs), and said so where it is used.
tests/test_tolerance.py checks that ``close`` passes at the tolerance and fails at ten times it.
"""

from __future__ import annotations

import math

U32 = 2.0**-24
"""The unit roundoff of float32."""
LAMBDA = 6.0
"""Standard deviations of the probabilistic bound (a chance failure below 2·exp(-18) = 3e-8)."""


def float32_rtol(terms: int) -> float:
    """Relative error bound λ·√n·u of a float32 sum (or dot product) of ``terms`` terms."""
    return LAMBDA * math.sqrt(max(1, int(terms))) * U32


def _products(model) -> list[tuple[int, int]]:
    """(inner dimension forward, inner dimension backward) of every product of ``model``'s layers:
    a Linear sums in_features terms forward and out_features back; a Conv2d in_channels·kh·kw and
    out_channels·kh·kw."""
    from torch import nn

    out = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            out.append((m.in_features, m.out_features))
        elif isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            out.append((m.in_channels * k, m.out_channels * k))
    return out


def forward_terms(model) -> int:
    """Terms summed along one output of a forward pass: Σ of every layer's inner dimension."""
    return sum(f for f, _ in _products(model))


def chain_terms(model) -> int:
    """Terms summed along a gradient dy/dx: the forward pass, the softmax's sum over the outputs and
    the backward pass (Σ of the inner dimensions of every product of the chain)."""
    prods = _products(model)
    return sum(f + b for f, b in prods) + prods[-1][1]


def gradient_rtol(model, factors: int = 1) -> float:
    """Relative tolerance of a statistic of ``model``'s float32 gradients recomputed by another
    processor or code path; ``factors``: how many such figures are multiplied together (the pair
    score imp_a·imp_b·p_e has 2): (1 + r)^factors - 1."""
    return (1.0 + float32_rtol(chain_terms(model))) ** factors - 1.0


def forward_rtol(model) -> float:
    """Relative tolerance of ``model``'s float32 outputs (logits, posteriors) computed by another code
    path (a pruned network's shorter sums, another batch)."""
    return float32_rtol(forward_terms(model))


def close(a, b, rtol: float, atol: float = 0.0) -> bool:
    """``a`` equals ``b``: numbers within ``rtol`` (relative to ``b``) plus ``atol``; lists, tuples
    and dicts element by element (same length, same keys); anything else exactly (strings, ints,
    bools, None)."""
    if isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and len(a) == len(b) and all(
            close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(close(a[k], b[k], rtol, atol) for k in b)
    if isinstance(b, float) and not isinstance(a, bool) and isinstance(a, (int, float)):
        return abs(a - b) <= atol + rtol * abs(b)
    return a == b


def perturbed(value, rel: float, sign: int = 1):
    """``value`` with every float moved by ``rel`` of itself (ints, strings and the like unchanged),
    alternating the direction from one float to the next, starting with ``sign``."""
    state = [sign]

    def go(v):
        if isinstance(v, (list, tuple)):
            return type(v)(go(x) for x in v)
        if isinstance(v, dict):
            return {k: go(x) for k, x in v.items()}
        if isinstance(v, float):
            out = v * (1 + state[0] * rel)
            state[0] = -state[0]
            return out
        return v

    return go(value)


def assert_gradients_close(got, want, model, factors: int = 1) -> None:
    """``got`` (float32 gradients or statistics of them) equals ``want`` (a float64 oracle, or the
    same figure by another code path) within ``gradient_rtol``: relative to each value, plus the same
    share of the largest value (the error bound of a chain of products is relative to the sizes of
    its terms, so a value much smaller than its terms, e.g. a std near zero, gets an absolute part)."""
    import numpy as np

    rtol = gradient_rtol(model, factors)
    want = np.asarray(want, dtype=np.float64)
    scale = float(np.abs(want).max()) if want.size else 0.0
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=rtol * scale)


def assert_forward_close(got, want, model) -> None:
    """``got`` equals ``want`` (float32 network outputs) within ``forward_rtol``, relative to each value
    plus the same share of the largest (the bound is relative to the sizes of the summed terms)."""
    import numpy as np

    rtol = forward_rtol(model)
    want = np.asarray(want, dtype=np.float64)
    scale = float(np.abs(want).max()) if want.size else 0.0
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=rtol * scale)
