"""What a network costs: its parameters, its multiply-adds per input, and its measured forward time.

The Units and pruning and Digit CNN pages show, for every "delete k", the full and the pruned
network's time; ``bench/prune.py`` measures the same thing with the same function
(``compare_costs`` with its defaults). The two networks are timed **in turns** on the **same**
seeded inputs, after a warm-up pass of each at that batch size, with the process's torch threads
unchanged; each figure is the fastest of ``TIMING_PASSES`` passes (on a busy shared server a burst
of load slows a pass, never speeds it up), and the range of the passes is kept, so a page can say
when a difference is within the noise (``within_noise``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.models import DigitCNN, ModelInfo
from core.pruning.common import PruneError

TIMING_INPUTS = {"speech": 200, "digits": 50}
"""Inputs per timed forward on the pages (scaled to 1,000): small enough that a new k renders in
well under a second (a digit takes the CNN far longer than a frame takes the DNN), large enough
that the forward is in its linear regime."""
TIMING_PASSES = 7
"""Timed passes of each network (in turns) per measurement."""


@dataclass(frozen=True)
class ModelCost:
    """params: weights and biases; macs: multiply-adds per frame (speech) or digit; ms_per_1000:
    measured wall-clock milliseconds of a forward over 1,000 inputs (``model_cost``: the median of
    its passes; ``compare_costs``: the fastest); ms_range: (fastest, slowest) pass, per 1,000."""

    params: int
    macs: int
    ms_per_1000: float
    ms_range: tuple[float, float] = (float("nan"), float("nan"))


def _macs(model: nn.Module) -> int:
    if isinstance(model, DigitCNN):
        return (model.c1 * 25 * 28 * 28 + model.c2 * model.c1 * 25 * 14 * 14
                + model.c2 * 49 * model.hidden + model.hidden * model.n_classes)
    return sum(lin.in_features * lin.out_features for lin in model.linears)


def _inputs(model: nn.Module, n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    shape = (n, 1, 28, 28) if isinstance(model, DigitCNN) else (n, model.input_dim)
    return torch.randn(shape, generator=gen)


def _cost(model: nn.Module, times: list[float], n: int, pick) -> ModelCost:
    per = [t * 1e6 / n for t in times]
    return ModelCost(int(sum(p.numel() for p in model.parameters())), int(_macs(model)),
                     round(float(pick(per)), 3), (round(min(per), 3), round(max(per), 3)))


@torch.no_grad()
def model_cost(model: nn.Module, info: ModelInfo, *, repeats: int = 5, n: int = 1000, seed: int = 0) -> ModelCost:
    """Parameters, multiply-adds and measured ms per 1,000 frames (full frames for speech, so a
    pruned speech model's gather of its kept inputs is included) or 1,000 digits: the median of
    ``repeats`` forwards over ``n`` seeded N(0, 1) inputs (the time does not depend on the values),
    times 1000 / n, after one warm-up pass over the same inputs."""
    if repeats < 1 or n < 1:
        raise PruneError("repeats and n must be at least 1.")
    x = _inputs(model, n, seed)
    model(x)  # warm-up (allocations, kernel choice) at the timed batch size
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
    return _cost(model, times, n, np.median)


@torch.no_grad()
def compare_costs(
    full: nn.Module, small: nn.Module, info: ModelInfo, *, repeats: int = TIMING_PASSES, n: int | None = None,
    seed: int = 0,
) -> tuple[ModelCost, ModelCost]:
    """``ModelCost`` of two networks with the same input (the full one and a pruned copy), timed
    in turns (full, pruned, full, ...) on the same seeded inputs (``n``: ``TIMING_INPUTS`` of the
    model's kind by default), each the **fastest** of its ``repeats`` passes, with the range."""
    n = TIMING_INPUTS[info.kind] if n is None else n
    if repeats < 1 or n < 1:
        raise PruneError("repeats and n must be at least 1.")
    x = _inputs(full, n, seed)
    nets = (full, small)
    for net in nets:
        net(x)  # warm-up (allocations, kernel choice) at the timed batch size
    times: list[list[float]] = [[], []]
    for _ in range(repeats):
        for i, net in enumerate(nets):
            t0 = time.perf_counter()
            net(x)
            times[i].append(time.perf_counter() - t0)
    a, b = (_cost(net, t, n, min) for net, t in zip(nets, times, strict=True))
    return a, b


def within_noise(a: ModelCost, b: ModelCost) -> bool:
    """True when two measured times cannot be told apart: their ranges of passes overlap."""
    return not (a.ms_range[1] < b.ms_range[0] or b.ms_range[1] < a.ms_range[0])
