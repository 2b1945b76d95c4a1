"""Comparison methods (SmoothGrad, Integrated Gradients, gradient x input, random): per-frame
attributions and their per-label sums, with the same API as ``gradient_stats``.

The random baseline is noise drawn independently for every frame, target and input (standard
normal; ``random_attributions``): frame i's draws come from a generator seeded with (seed, i), i its
index in the sample set X, so they depend neither on the batch size nor on the other frames, and the
same frame gets the same draws under any model. Its map is the *signed* mean over the frames
(``core.trust.method_stat``), whose expected value is 0 in every cell: two halves of the frames give
unrelated maps, and a cell's bootstrap interval includes 0 unless chance says otherwise (until
issue 28 it was one fixed random map per target scaled by a random number per frame, so every half
of the data gave the same map: split-half stability 1.00, every cell "different from zero")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn

from core.data.batching import Transform
from core.importance.engines import _auto_batch, _engine, _grads, _masks, _n_outputs, _setup, _sorted_batches
from core.importance.stats import (
    OUTPUTS,
    GradStats,
    ImportanceError,
    Output,
    TargetSpec,
    _Accumulator,
    normalize_targets,
)

Method = Literal["gradient", "smoothgrad", "integrated_gradients", "grad_x_input", "random"]
METHODS = ("gradient", "smoothgrad", "integrated_gradients", "grad_x_input", "random")


def _attr_batch(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, output: str, method: str,
                engine: str, *, noise_std: float, n_samples: int, steps: int, baseline,
                gen: torch.Generator) -> torch.Tensor:
    """Attributions of one batch: x (B, ...) -> (B, T, D)."""
    nb, nt = x.shape[0], mask.shape[0]

    def grad(xs: torch.Tensor) -> torch.Tensor:
        out = torch.empty(xs.shape[0], nt, xs[0].numel(), dtype=xs.dtype)

        def put(_layer: int, g: torch.Tensor, _shape: tuple[int, ...], first: int) -> None:
            out[:, first : first + g.shape[1]] = g

        _grads(model, xs, mask, output, (0,), put, engine)
        return out

    flat = x.reshape(nb, 1, -1)
    if method == "gradient":
        return grad(x)
    if method == "grad_x_input":
        return grad(x) * flat
    if method == "smoothgrad":
        noise = torch.randn((n_samples, *x.shape), generator=gen, dtype=x.dtype) * noise_std
        xs = (x[None] + noise).reshape(n_samples * nb, *x.shape[1:])
        return grad(xs).view(n_samples, nb, nt, -1).mean(0)
    x0 = torch.as_tensor(baseline, dtype=x.dtype).expand_as(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    xs = (x0[None] + alphas.view(-1, *[1] * x.dim()) * (x - x0)[None]).reshape(steps * nb, *x.shape[1:])
    return grad(xs).view(steps, nb, nt, -1).mean(0) * (x - x0).reshape(nb, 1, -1)


def random_attributions(frames: np.ndarray, n_targets: int, dim: int, seed: int = 0) -> np.ndarray:
    """(B, T, D) float64 standard normal draws, independent per frame, target and input: frame
    ``frames[k]``'s come from ``np.random.default_rng((seed, frames[k]))`` (see module doc)."""
    out = np.empty((len(frames), n_targets, dim))
    for k, i in enumerate(np.asarray(frames, dtype=np.int64)):
        out[k] = np.random.default_rng((int(seed), int(i))).standard_normal((n_targets, dim))
    return out


def _method_args(method: str, n_samples: int, steps: int) -> int:
    if method not in METHODS:
        raise ImportanceError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")
    if n_samples < 1 or steps < 1:
        raise ImportanceError("SmoothGrad samples and Integrated Gradients steps must be at least 1.")
    return n_samples if method == "smoothgrad" else steps if method == "integrated_gradients" else 1


def attributions(model: nn.Module, x: np.ndarray, targets: Sequence[TargetSpec] | None = None, *,
                 method: Method = "gradient", output: Output = "posterior", noise_std: float = 0.2,
                 n_samples: int = 16, steps: int = 32, baseline: float | np.ndarray = 0.0, seed: int = 0,
                 engine: str = "auto") -> np.ndarray:
    """Per-frame attributions of normalised inputs x (B, ...) -> (B, T, D) float (see module doc)."""
    _method_args(method, n_samples, steps)
    if output not in OUTPUTS:
        raise ImportanceError(f"Unknown output {output!r}; use one of {', '.join(OUTPUTS)}.")
    eng = _engine(model, engine)
    dtype = next(model.parameters()).dtype
    xt = torch.as_tensor(np.asarray(x), dtype=dtype)
    n_out = _n_outputs(model, np.asarray(x)[:1])
    mask = _masks(normalize_targets(targets, n_out), n_out, dtype)
    if method == "random":  # frame k of x is frame k of the sample
        return random_attributions(np.arange(len(xt)), mask.shape[0], xt[0].numel(), seed).astype(np.float32)
    gen = torch.Generator().manual_seed(seed)
    return _attr_batch(model, xt, mask, output, method, eng, noise_std=noise_std, n_samples=n_samples,
                       steps=steps, baseline=baseline, gen=gen).numpy()


def attribution_stats(
    model: nn.Module,
    X,
    labels: np.ndarray,
    targets: Sequence[TargetSpec] | None = None,
    *,
    method: Method = "smoothgrad",
    output: Output = "posterior",
    n_labels: int | None = None,
    transform: Transform | None = None,
    indices: np.ndarray | None = None,
    noise_std: float = 0.2,
    n_samples: int = 16,
    steps: int = 32,
    baseline: float | np.ndarray = 0.0,
    seed: int = 0,
    batch_size: int | None = None,
    max_batch_mb: float = 128,
    engine: str = "auto",
    progress: Callable[[float], None] | None = None,
) -> GradStats:
    """Per-label sums of a comparison method's attributions (input layer), same API as gradient_stats.

    ``stat("mean_abs")`` is the usual averaged saliency map; ``stat("mean")`` keeps the sign (the
    random baseline's map). The random baseline's frame i is ``indices[i]``'s draws (module doc).
    """
    factor = _method_args(method, n_samples, steps)
    eng = _engine(model, engine)
    tg, mask, n_labels, idx, x1 = _setup(model, X, labels, targets, output, n_labels, indices, transform)
    bs = batch_size or _auto_batch(model, x1, len(tg), (0,), eng, max_batch_mb, factor, collect=True)
    dtype = next(model.parameters()).dtype
    acc = _Accumulator(n_labels, len(tg))
    if method == "random":  # no network involved: noise per (frame index, target, input)
        labels = np.asarray(labels)
        for start in range(0, idx.size, bs):
            b = idx[start : start + bs]
            order = np.argsort(labels[b], kind="stable")
            acc.batch(labels[b][order].astype(np.int64))
            acc(0, torch.from_numpy(random_attributions(b[order], len(tg), x1[0].size, seed)), tuple(x1.shape[1:]))
            if progress is not None:
                progress(min(1.0, (start + b.size) / idx.size))
        return acc.result(tg, output, method)[0]
    gen = torch.Generator().manual_seed(seed)
    for xb, lb in _sorted_batches(X, labels, bs, idx, transform):
        acc.batch(lb)
        a = _attr_batch(model, torch.from_numpy(xb).to(dtype), mask, output, method, eng, noise_std=noise_std,
                        n_samples=n_samples, steps=steps, baseline=baseline, gen=gen)
        acc(0, a, tuple(x1.shape[1:]))
        if progress is not None:
            progress(float(acc.n.sum()) / idx.size)
    return acc.result(tg, output, method)[0]

