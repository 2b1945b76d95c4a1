"""Sanity checks (Adebayo et al. 2018): cascading randomisation of the layers from the top, and a
twin trained on shuffled labels; Spearman rank correlation of every method's map with the trained
model's. The choices are written down in ``core.trust``'s docstring."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.train.loop import _init_weights, run_adam
from core.trust.maps import MethodMaps

SANITY_THRESHOLD = 0.5
"""A method is flagged when its map's rank correlation with the trained model's map stays at or
above this after every layer is randomised, or for the shuffled-label twin: the map barely depends
on what the network learned."""


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties averaged); 1.0 for two identical constant maps,
    0.0 when only one of them is constant."""
    a, b = np.ravel(a), np.ravel(b)
    ca, cb = np.ptp(a) == 0, np.ptp(b) == 0
    if ca or cb:
        return 1.0 if ca and cb and np.array_equal(a, b) else 0.0
    from scipy.stats import spearmanr  # imported on use: ~1 s of the dashboard's start-up

    return float(spearmanr(a, b).statistic)


def layers_of(model: nn.Module) -> list[nn.Module]:
    """The model's weight layers (linear and convolution) in forward order."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def _activation(model: nn.Module) -> str:
    return getattr(model, "activation", "relu")


def randomized(model: nn.Module, n_top: int, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose top ``n_top`` weight layers are re-initialised as training
    initialises them (Glorot x 4 for sigmoid, Kaiming for ReLU, zero bias); the model is untouched."""
    out = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in layers_of(out)[::-1][:n_top]:
            _init_weights(layer, gen, _activation(out))
    return out.eval().requires_grad_(False)


def shuffled_twin(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 10,
    seed: int = 0,
    batch_size: int = 128,
    lr: float = 1e-3,
) -> nn.Module:
    """A model of the same architecture, freshly initialised and trained (Adam, cross-entropy) for
    ``epochs`` on the frames ``x`` (normalised) with their labels ``y`` (output indices) randomly
    permuted (seeded): its outputs carry no information about the classes."""
    twin = randomized(model, len(layers_of(model)), seed).train()
    rng = np.random.default_rng(seed)
    yt = torch.as_tensor(rng.permutation(np.asarray(y)), dtype=torch.long)
    xt = torch.as_tensor(np.asarray(x), dtype=next(twin.parameters()).dtype)
    params = [p.requires_grad_(True) for p in twin.parameters()]

    def batches(epoch: int):
        return np.array_split(rng.permutation(len(xt)), max(1, len(xt) // batch_size))

    def loss_of(b: np.ndarray) -> torch.Tensor:
        return nn.functional.cross_entropy(twin(xt[b]), yt[b])

    run_adam(params, batches, loss_of, epochs=epochs, lr=lr)
    for p in params:
        p.requires_grad_(False)
    return twin.eval().requires_grad_(False)


@dataclass(frozen=True, eq=False)
class Sanity:
    """rho_cascade: (S, M) Spearman of each method's map with the trained model's after randomising
    the top ``n_top[s]`` weight layers (``cascade_stages``; ``stages`` names the lowest layer
    randomised at each stage);
    rho_shuffled: (M,) the same for the shuffled-label twin; n_frames: frames of the check."""

    methods: tuple[str, ...]
    stages: tuple[str, ...]
    rho_cascade: np.ndarray
    rho_shuffled: np.ndarray
    n_frames: int
    twin_epochs: int
    n_top: tuple[int, ...] = ()

    @property
    def rho_all_random(self) -> np.ndarray:
        """(M,) after every layer is randomised."""
        return self.rho_cascade[-1]

    @property
    def worst(self) -> np.ndarray:
        """(M,) the larger of the two tests' correlations (the check a method passes worst)."""
        return np.maximum(self.rho_all_random, self.rho_shuffled)

    @property
    def flagged(self) -> np.ndarray:
        """(M,) bool: the map hardly changes (``worst >= SANITY_THRESHOLD``)."""
        return self.worst >= SANITY_THRESHOLD


def cascade_stages(n_layers: int) -> tuple[int, ...]:
    """How many top layers are randomised at each stage: 1, 2, 4, 8, ... and finally all of them
    (every layer for up to 3 layers; 1, 2, 4, 8 for the 8 weight layers of the 7 x 512 DNN)."""
    out, k = [], 1
    while k < n_layers:
        out.append(k)
        k *= 2
    return (*out, n_layers)


def layer_names(model: nn.Module) -> list[str]:
    """Names of the weight layers in forward order (``linears.0`` ..., ``conv1`` ...)."""
    kinds = (nn.Linear, nn.Conv2d)
    return [name for name, m in model.named_modules() if isinstance(m, kinds)]


def sanity(
    model: nn.Module,
    reference: MethodMaps,
    compute: Callable[[nn.Module, Callable[[float], None] | None], MethodMaps],
    train_x: np.ndarray,
    train_y: np.ndarray,
    *,
    epochs: int = 10,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Sanity:
    """Both checks. ``reference``: the trained model's maps over the frames of the check;
    ``compute(model, progress)`` gives another model's maps over the same frames;
    ``train_x``, ``train_y``: the frames (normalised) and output-index labels the twin is trained
    on (shuffled)."""
    names = layer_names(model)
    tops = cascade_stages(len(names))
    ref = reference.maps()
    steps = len(tops) + 1

    def sub(i: int):
        if progress is None:
            return None
        return lambda f: progress(min(1.0, (i + f) / steps))

    rho = np.zeros((len(tops), len(reference.methods)))
    for s, n_top in enumerate(tops):
        maps = compute(randomized(model, n_top, seed + s), sub(s)).maps()
        rho[s] = [spearman(a, b) for a, b in zip(ref, maps, strict=True)]
    twin = shuffled_twin(model, train_x, train_y, epochs=epochs, seed=seed)
    maps = compute(twin, sub(len(tops))).maps()
    shuffled = np.array([spearman(a, b) for a, b in zip(ref, maps, strict=True)])
    stages = tuple(names[::-1][n - 1] for n in tops)
    return Sanity(reference.methods, stages, rho, shuffled, reference.n_frames, epochs, tops)
