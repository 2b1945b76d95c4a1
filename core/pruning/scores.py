"""Scores -> deletion order -> keep-mask (scikit-learn's shape: scores, then a support mask).

A score is "higher = more important" for every order; the order decides which end goes first.

- ``imp_asc`` / ``imp_desc``: Imp(l, i) = sum over outputs j of sigma_x(dy_j / dh_i^(l))
  (METHOD.md 5; posterior outputs, population std), least / most important first. For conv
  filters the sum also runs over the positions of the filter's map (METHOD.md 6).
- ``random``: a permutation from ``default_rng(seed)``.
- ``l1``: L1 norm of the unit's weights: for an input unit its outgoing column of the first layer
  (the only weights it has); for a hidden unit its incoming row; for a conv filter its kernel
  (Li et al. 2017, "Pruning filters for efficient ConvNets").
- ``taylor``: first-order Taylor (Molchanov et al. 2017): mean over the statistics inputs of
  |h_i * dL/dh_i| (L = cross-entropy with the true label); for a filter |sum over positions of
  a * dL/da| per image, averaged.
- ``variance``: the variance of the raw (unnormalised) input over the statistics frames, what
  scikit-learn's ``VarianceThreshold`` ranks by. Input units only.

Ties are broken by unit index (stable sorts). Layers: speech 0 = input, 1..n_hidden hidden;
digits 1 = conv1 filters, 2 = conv2 filters. Models are only read (no mode switch is needed:
neither network has dropout or batch norm), so a shared model is left bit-identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from core.models import DigitCNN, ModelInfo, PrunedSpeechDNN, SpeechDNN
from core.pruning import _deps
from core.pruning.common import ORDERS, UNITS, PruneData, PruneError, prune_data


def check_model(model: nn.Module, info: ModelInfo, allow_pruned: bool = False) -> str:
    """"speech" or "digits"; PruneError for a model pruning cannot start from (a PrunedSpeechDNN
    only with ``allow_pruned``)."""
    if isinstance(model, SpeechDNN | PrunedSpeechDNN if allow_pruned else SpeechDNN) and info.kind == "speech":
        return "speech"
    if isinstance(model, DigitCNN) and info.kind == "digits":
        return "digits"
    if isinstance(model, PrunedSpeechDNN):
        raise PruneError("Curves and scores start from a full model, not from an already pruned one.")
    raise PruneError(f"The model {info.name} is not a SpeechDNN or DigitCNN matching its metadata.")


def unit_layers(model: nn.Module, info: ModelInfo, units: str, layer: int | None) -> tuple[int, ...]:
    """The layers whose units a request deletes (checked)."""
    kind = check_model(model, info)
    if units not in UNITS:
        raise PruneError(f"Unknown unit kind {units!r}; use one of {', '.join(UNITS)}.")
    if kind == "digits":
        if units != "filters":
            raise PruneError(f"The digits model {info.name} has conv filters to delete; use --units filters.")
        layer = 2 if layer is None else layer
        if layer not in (1, 2):
            raise PruneError(f"A DigitCNN has conv layers 1 and 2, not {layer}.")
        return (int(layer),)
    if units == "filters":
        raise PruneError(f"The speech model {info.name} has no conv filters; use --units input or hidden.")
    if units == "input":
        if layer not in (None, 0):
            raise PruneError("Input units are layer 0; leave the layer out.")
        return (0,)
    if layer is None:
        return tuple(range(1, model.n_hidden + 1))
    if not 1 <= layer <= model.n_hidden:
        raise PruneError(f"Hidden layers of {info.name} are 1..{model.n_hidden}, not {layer}.")
    return (int(layer),)


def n_units(model: nn.Module, layer: int) -> int:
    """Units (or filters) of a layer."""
    if isinstance(model, DigitCNN):
        return model.c1 if layer == 1 else model.c2
    return model.layer_sizes[layer]


def unit_importance_by_layer(model: nn.Module, info: ModelInfo, *, layers: Sequence[int] | None = None,
                             data: PruneData | None = None, stat: str = "std",
                             output: str = "posterior") -> dict[int, np.ndarray]:
    """Imp(l, i) per layer: {layer: (units,) float64}; speech default layers 0..n_hidden (one sweep),
    digits default conv layers 1 and 2 (per filter: summed over the map's positions). A pruned
    speech model works too (its input layer is the full grid; deleted inputs get 0).

    Computed on the statistics subset of ``prune_data(info)`` (2,000 frames / 500 digits by default)."""
    kind = check_model(model, info, allow_pruned=True)
    data = data or prune_data(info)
    if layers is None:
        layers = range(model.n_hidden + 1) if kind == "speech" else (1, 2)
    return _deps.grad_importance(model, np.asarray(data.x_stats), np.asarray(data.y_stats),
                                 tuple(sorted(set(int(v) for v in layers))), n_labels=info.n_classes,
                                 stat=stat, output=output, batch_size=None if kind == "speech" else 128)


def filter_importance(model: DigitCNN, info: ModelInfo, **kwargs) -> dict[int, np.ndarray]:
    """Filter importance of the conv layers (METHOD.md 6): {1: (c1,), 2: (c2,)}."""
    return unit_importance_by_layer(model, info, layers=(1, 2), **kwargs)


def _weights_l1(model: nn.Module, layer: int) -> np.ndarray:
    if isinstance(model, DigitCNN):
        w = (model.conv1 if layer == 1 else model.conv2).weight.detach()
        return w.abs().flatten(1).sum(1).double().numpy()
    if layer == 0:
        return model.linears[0].weight.detach().abs().sum(0).double().numpy()
    return model.linears[layer - 1].weight.detach().abs().sum(1).double().numpy()


def _taylor(model: nn.Module, data: PruneData, layers: tuple[int, ...], batch: int = 1024) -> dict[int, np.ndarray]:
    """Mean |h * dL/dh| per unit (per filter: |sum over positions|, per image)."""
    x, y = np.asarray(data.x_stats), np.asarray(data.y_stats)
    out = {layer: 0.0 for layer in layers}
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(np.array(x[i : i + batch]))
        with torch.enable_grad():
            xb.requires_grad_(True)
            acts = model.forward_layers(xb)
            loss = nn.functional.cross_entropy(acts[-1], torch.from_numpy(np.array(y[i : i + batch])), reduction="sum")
            grads = torch.autograd.grad(loss, [acts[layer] for layer in layers])
        for layer, g in zip(layers, grads, strict=True):
            prod = acts[layer].detach() * g
            prod = prod.flatten(2).sum(2) if prod.dim() == 4 else prod
            out[layer] = out[layer] + prod.abs().sum(0).double().numpy()
    return {layer: v / len(x) for layer, v in out.items()}


def unit_scores(model: nn.Module, info: ModelInfo, units: str, order: str, *, layer: int | None = None,
                seed: int = 0, data: PruneData | None = None, importance: Mapping[int, np.ndarray] | None = None,
                stat: str = "std", output: str = "posterior") -> dict[int, np.ndarray]:
    """{layer: (units,) float64 score} for the layers ``units``/``layer`` select (higher = more
    important; for ``random`` uniform numbers from ``default_rng(seed)``, one draw per layer in
    layer order). ``importance``: precomputed ``unit_importance_by_layer`` (reused by
    imp_asc/imp_desc). Deterministic, so a caller can cache it by its arguments."""
    layers = unit_layers(model, info, units, layer)
    if order not in ORDERS:
        raise PruneError(f"Unknown order {order!r}; use one of {', '.join(ORDERS)}.")
    if order == "variance" and units != "input":
        raise PruneError("The variance order ranks input units only (it needs the inputs' values).")
    if order == "random":
        rng = np.random.default_rng(seed)
        return {layer: rng.random(n_units(model, layer)) for layer in layers}
    if order == "l1":
        return {layer: _weights_l1(model, layer) for layer in layers}
    data = data or prune_data(info)
    if order == "variance":
        return {0: np.asarray(data.raw_stats, np.float64).var(axis=0)}
    if order == "taylor":
        return _taylor(model, data, layers)
    if importance is None or any(layer not in importance for layer in layers):
        importance = unit_importance_by_layer(model, info, layers=layers, data=data, stat=stat, output=output)
    return {layer: np.asarray(importance[layer], np.float64) for layer in layers}


def deletion_order(scores: Mapping[int, np.ndarray] | np.ndarray, order: str, seed: int = 0):
    """Unit indices in the order they are deleted, first deleted first: ascending score for
    imp_asc, l1, taylor, variance; descending for imp_desc; for random a permutation from
    ``default_rng(seed)`` (the scores only give the size). A mapping gives a mapping per layer."""
    if isinstance(scores, Mapping):
        return {layer: deletion_order(s, order, seed + i) for i, (layer, s) in enumerate(sorted(scores.items()))}
    s = np.asarray(scores, dtype=np.float64)
    if order not in ORDERS:
        raise PruneError(f"Unknown order {order!r}; use one of {', '.join(ORDERS)}.")
    if order == "random":
        return np.random.default_rng(seed).permutation(len(s))
    if order == "imp_desc":
        return np.argsort(-s, kind="stable")
    return np.argsort(s, kind="stable")


def layer_counts(sizes: Mapping[int, int], k: int | Mapping[int, int]) -> dict[int, int]:
    """Units deleted per layer: an int k on one layer is k; on several layers it is the total,
    deleting the same fraction of each: round(k * n_l / N). A mapping is used as it is (checked)."""
    if isinstance(k, Mapping):
        ks = {int(layer): int(v) for layer, v in k.items()}
        unknown = sorted(set(ks) - set(sizes))
        if unknown:
            raise PruneError(f"Layer {unknown[0]} is not among the layers {sorted(sizes)}.")
    else:
        total = sum(sizes.values())
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= total:
            raise PruneError(f"k must be a whole number of units between 0 and {total}, not {k}.")
        ks = {layer: (int(k) if len(sizes) == 1 else int(round(int(k) * n / total))) for layer, n in sizes.items()}
    for layer, v in ks.items():
        if not 0 <= v <= sizes[layer]:
            raise PruneError(f"Layer {layer} has {sizes[layer]} units; cannot delete {v}.")
    return ks


def keep_mask(orders: Mapping[int, np.ndarray], k: int | Mapping[int, int]) -> dict[int, np.ndarray]:
    """{layer: (units,) bool keep-mask}: False for the first k_l units of each layer's deletion
    order (``layer_counts`` for how an int k is shared between layers)."""
    ks = layer_counts({layer: len(o) for layer, o in orders.items()}, k)
    out = {}
    for layer, o in orders.items():
        o = np.asarray(o, dtype=np.int64)
        if sorted(o.tolist()) != list(range(len(o))):
            raise PruneError(f"The deletion order of layer {layer} is not a permutation of its units.")
        m = np.ones(len(o), dtype=bool)
        m[o[: ks.get(layer, 0)]] = False
        out[layer] = m
    return out
