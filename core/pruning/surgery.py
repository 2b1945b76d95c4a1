"""Keep-mask -> a new, physically smaller model; the masked network it equals; its cost.

What a deletion means (the *masked* network, ``masked_logits``):

- an **input unit** is replaced by its mean, 0 after normalisation (METHOD.md 5), so the pruned
  first layer simply loses that column;
- a **hidden unit** is replaced by its mean activation over the statistics frames of the full
  network (``layer_means``), folded into the next layer's bias: b' = b + W[:, deleted] @ mean
  (``fold_mean=False``: replaced by 0, plain removal);
- a **conv2 filter**'s pooled map (what fc1 reads) is replaced by its mean map, folded into fc1's
  bias the same way; a **conv1 filter** is always removed as zero: a position-dependent mean map
  cannot enter conv2's per-filter bias exactly.

``prune`` slices the weights, so its outputs equal ``masked_logits`` (to float rounding, 1e-5).
The given model is never changed: weights are copied (``clone``), no mode is switched.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.models import DigitCNN, ModelInfo, PrunedSpeechDNN, SpeechDNN
from core.pruning.common import PruneData, PruneError, prune_data
from core.pruning.cost import ModelCost, compare_costs, model_cost  # noqa: F401 - their old home
from core.train.loop import run_adam

_pool = nn.functional.max_pool2d


def _speech_parts(model: nn.Module) -> tuple[np.ndarray, list[nn.Linear], str, int]:
    """(kept input indices, linears, activation, full input size) of a SpeechDNN or PrunedSpeechDNN."""
    if isinstance(model, PrunedSpeechDNN):
        return np.asarray(model.kept_inputs, np.int64), list(model.linears), model.activation, model.input_dim
    return np.arange(model.input_dim), list(model.linears), model.activation, model.input_dim


def _act(activation: str, z: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(z) if activation == "sigmoid" else torch.relu(z)


@torch.no_grad()
def layer_means(model: nn.Module, x: np.ndarray, batch: int = 2048) -> dict[int, np.ndarray]:
    """Mean activation of every unit over inputs x: speech {l: (width_l,)} for the hidden layers;
    digits {1: (c1, 14, 14), 2: (c2, 7, 7)} the pooled conv maps (what the next layer reads)."""
    sums: dict[int, torch.Tensor] = {}
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(np.array(x[i : i + batch]))
        acts = model.forward_layers(xb)
        if isinstance(model, DigitCNN):
            parts = {1: _pool(acts[1], 2), 2: _pool(acts[2], 2)}
        else:
            parts = {layer: acts[layer] for layer in range(1, len(acts) - 1)}
        for layer, a in parts.items():
            sums[layer] = sums.get(layer, 0) + a.double().sum(0)
    return {layer: (s / len(x)).numpy() for layer, s in sums.items()}


def _full_keep(model: nn.Module, keep: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Every layer's keep-mask (True where not given), checked against the model's sizes."""
    if isinstance(model, DigitCNN):
        sizes = {1: model.c1, 2: model.c2}
    elif isinstance(model, (SpeechDNN, PrunedSpeechDNN)):
        sizes = dict(enumerate(model.layer_sizes[:-1]))
    else:
        raise PruneError(f"Cannot prune a {type(model).__name__}.")
    out = {layer: np.ones(n, bool) for layer, n in sizes.items()}
    for layer, m in keep.items():
        m = np.asarray(m)
        if int(layer) not in sizes:
            raise PruneError(f"Layer {layer} cannot be pruned; the layers are {sorted(sizes)}.")
        if m.dtype != bool or m.shape != (sizes[int(layer)],):
            raise PruneError(f"The keep-mask of layer {layer} must be {sizes[int(layer)]} booleans.")
        out[int(layer)] = m.copy()
    for layer, m in out.items():
        if not m.any():
            raise PruneError(f"Layer {layer} would keep no unit; keep at least one.")
    if isinstance(model, PrunedSpeechDNN):  # inputs deleted before stay deleted
        gone = np.ones(model.input_dim, bool)
        gone[model.kept_inputs] = False
        out[0] = out[0] & ~gone
        if not out[0].any():
            raise PruneError("Layer 0 would keep no input; keep at least one.")
    return out


def _means_for(model: nn.Module, info: ModelInfo, means, data: PruneData | None):
    if means is not None:
        return means
    return layer_means(model, (data or prune_data(info)).x_stats)


@torch.no_grad()
def masked_logits(model: nn.Module, info: ModelInfo, x: np.ndarray, keep: Mapping[int, np.ndarray], *,
                  fold_mean: bool = True, means: Mapping[int, np.ndarray] | None = None,
                  data: PruneData | None = None) -> np.ndarray:
    """(n, n_classes) float32 logits of the *masked* network (see module doc) on normalised
    inputs x (full frames for speech, (n, 1, 28, 28) digits)."""
    keep = _full_keep(model, keep)
    if fold_mean:
        means = _means_for(model, info, means, data)
    xt = torch.from_numpy(np.array(x, dtype=np.float32))
    if isinstance(model, DigitCNN):
        a1 = torch.relu(model.conv1(xt)) * torch.from_numpy(keep[1]).float()[None, :, None, None]
        p2 = _pool(torch.relu(model.conv2(_pool(a1, 2))), 2)
        gone = torch.from_numpy(~keep[2])
        p2[:, gone] = torch.from_numpy(means[2]).float()[gone] if fold_mean else 0.0
        return model.fc2(torch.relu(model.fc1(p2.flatten(1)))).numpy()
    kept, lins, activation, _ = _speech_parts(model)
    h = (xt * torch.from_numpy(keep[0]).float())[:, torch.from_numpy(kept)]
    for layer, lin in enumerate(lins[:-1], start=1):
        h = _act(activation, lin(h))
        gone = torch.from_numpy(~keep[layer])
        h[:, gone] = torch.from_numpy(means[layer]).float()[gone] if fold_mean else 0.0
    return lins[-1](h).numpy()


def _linear(w: torch.Tensor, b: torch.Tensor) -> nn.Linear:
    """An nn.Linear holding ``w`` and ``b`` (fresh tensors of the caller's, used as they are; built
    on the meta device, so there is no random init before)."""
    lin = nn.Linear(w.shape[1], w.shape[0], device="meta")
    lin.weight = nn.Parameter(w.contiguous())
    lin.bias = nn.Parameter(b.contiguous())
    return lin


@torch.no_grad()
def _prune_speech(model: nn.Module, keep: dict, fold_mean: bool, means) -> PrunedSpeechDNN:
    kept, lins, activation, input_dim = _speech_parts(model)
    in_keep = torch.from_numpy(keep[0][kept])  # over the model's current first-layer columns
    new_kept = kept[keep[0][kept]]
    widths = [int(keep[layer].sum()) for layer in range(1, len(lins))]
    with torch.device("meta"):  # every layer is replaced below: no random init of 2 M weights
        out = PrunedSpeechDNN(input_dim, lins[-1].out_features, widths, new_kept.tolist(), activation)
    out.kept_index = torch.tensor(new_kept.tolist(), dtype=torch.long)
    prev = in_keep
    for layer, lin in enumerate(lins):
        w, b = lin.weight.detach(), lin.bias.detach()
        rows = torch.from_numpy(keep[layer + 1]) if layer + 1 < len(lins) else torch.ones(w.shape[0], dtype=torch.bool)
        if fold_mean and layer > 0 and bool((~prev).any()):  # the fold in float64, the weights copied as they are
            m = torch.from_numpy(np.asarray(means[layer], np.float64))[~prev]
            b = (b.double() + w[:, ~prev].double() @ m).float()
        new = _linear(w[rows][:, prev], b[rows].clone())
        out.linears[layer] = new
        prev = rows
    return out


@torch.no_grad()
def _prune_cnn(model: DigitCNN, keep: dict, fold_mean: bool, means) -> DigitCNN:
    k1, k2 = torch.from_numpy(keep[1]), torch.from_numpy(keep[2])
    out = DigitCNN(int(k1.sum()), int(k2.sum()), model.hidden, model.n_classes)
    out.conv1.weight.copy_(model.conv1.weight[k1])
    out.conv1.bias.copy_(model.conv1.bias[k1])
    out.conv2.weight.copy_(model.conv2.weight[k2][:, k1])
    out.conv2.bias.copy_(model.conv2.bias[k2])
    w = model.fc1.weight.detach().double().reshape(model.hidden, model.c2, -1)
    b = model.fc1.bias.detach().double()
    if fold_mean and bool((~k2).any()):
        m = torch.from_numpy(np.asarray(means[2], np.float64)).reshape(model.c2, -1)
        b = b + torch.einsum("hfp,fp->h", w[:, ~k2], m[~k2])
    out.fc1.weight.copy_(w[:, k2].reshape(model.hidden, -1).float())
    out.fc1.bias.copy_(b.float())
    out.fc2.weight.copy_(model.fc2.weight)
    out.fc2.bias.copy_(model.fc2.bias)
    return out


def prune(model: nn.Module, info: ModelInfo, keep: Mapping[int, np.ndarray], *, fold_mean: bool = True,
          means: Mapping[int, np.ndarray] | None = None, data: PruneData | None = None,
          record: Mapping[str, object] | None = None) -> tuple[nn.Module, dict]:
    """A NEW, physically smaller model and its metadata for ``core.models.save_model``.

    keep: {layer: (units,) bool}, layers left out keep everything. Speech: layer 0 = inputs (a mask
    over the full input grid), 1..n_hidden hidden units -> a ``PrunedSpeechDNN`` that takes full
    frames. Digits: 1, 2 = conv filters -> a smaller ``DigitCNN``. ``means``: ``layer_means`` of the
    model (computed on the statistics subset if needed). ``record``: extra facts stored under
    ``training["pruning"]`` (order, k, ...). The new model is in eval mode, frozen like a loaded
    one; ``model`` is not changed.
    """
    keep = _full_keep(model, keep)
    if fold_mean:
        means = _means_for(model, info, means, data)
    if isinstance(model, DigitCNN):
        new = _prune_cnn(model, keep, fold_mean, means)
    else:
        new = _prune_speech(model, keep, fold_mean, means)
    new.eval()
    new.requires_grad_(False)
    deleted = {str(layer): np.flatnonzero(~m).tolist() for layer, m in keep.items() if not m.all()}
    pruning = {"from": info.name, "deleted": deleted, "fold_mean": bool(fold_mean),
               "deleted_means": "mean activation over the statistics subset" if fold_mean else "zero",
               **dict(record or {})}
    meta = {
        "description": f"{info.description} - pruned ({', '.join(f'layer {k}: {len(v)} deleted' for k, v in deleted.items()) or 'nothing deleted'})",
        "features": info.features,
        "labels": list(info.labels),
        "targets": info.targets,
        "phone_set": info.phone_set_name,
        "normalizer": info.normalizer,
        "validation": info.validation,
        "data": dict(info.data),
        "training": {**info.training, "pruning": pruning},
        "metrics": {},
    }
    return new, meta


def full_grid_mask(info: ModelInfo) -> np.ndarray:
    """(2*context+1, C) bool: which inputs of the full time x channel grid a speech model keeps
    (all True for an unpruned model); row = time offset -context..+context, column = channel."""
    if info.features is None:
        raise PruneError(f"{info.name} is not a speech model; it has no time x channel grid.")
    keep = np.zeros(info.features.input_dim, bool)
    kept = info.arch.get("kept_inputs")
    keep[np.arange(info.features.input_dim) if kept is None else np.asarray(kept, np.int64)] = True
    return keep.reshape(info.features.n_context_frames, info.features.n_channels)


# ---------------------------------------------------------------------------------------------
# FC-only retraining of a DigitCNN


@dataclass(frozen=True)
class RetrainConfig:
    """FC-only retraining after a filter deletion: Adam from the current (folded) weights, plain
    (no schedule, no augmentation), on the precomputed conv features of all training digits."""

    epochs: int = 2
    lr: float = 1e-3
    batch_size: int = 128
    seed: int = 0


@torch.no_grad()
def conv_features(model: DigitCNN, x: np.ndarray, keep1: np.ndarray | None = None, batch: int = 1000) -> torch.Tensor:
    """(n, c2, 49) pooled conv2 maps (what fc1 reads) of normalised digits x; conv1 filters with
    ``keep1`` False are zeroed (deleted)."""
    out = []
    k1 = None if keep1 is None else torch.from_numpy(np.asarray(keep1)).float()[None, :, None, None]
    for i in range(0, len(x), batch):
        a1 = torch.relu(model.conv1(torch.from_numpy(np.array(x[i : i + batch]))))
        if k1 is not None:
            a1 = a1 * k1
        out.append(_pool(torch.relu(model.conv2(_pool(a1, 2))), 2).flatten(2))
    return torch.cat(out)


def train_fc(fc1: nn.Linear, fc2: nn.Linear, feats: torch.Tensor, y: torch.Tensor, cfg: RetrainConfig) -> None:
    """Train two linear layers (fc2(relu(fc1(feats)))) in place; ``feats`` (n, in) fixed."""
    params = [*fc1.parameters(), *fc2.parameters()]
    for p in params:
        p.requires_grad_(True)
    gen = torch.Generator().manual_seed(cfg.seed)

    def batches(epoch: int):
        order = torch.randperm(len(y), generator=gen)
        return (order[i : i + cfg.batch_size] for i in range(0, len(y), cfg.batch_size))

    def loss_of(b: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(fc2(torch.relu(fc1(feats[b]))), y[b])

    run_adam(params, batches, loss_of, epochs=cfg.epochs, lr=cfg.lr, foreach=True)
    for p in params:
        p.requires_grad_(False)
        p.grad = None


def retrain_fc(model: DigitCNN, info: ModelInfo, cfg: RetrainConfig = RetrainConfig(), *,
               data: PruneData | None = None) -> DigitCNN:
    """A NEW DigitCNN with the same conv weights (bit-identical) and the fully connected layers
    retrained on the training digits (``RetrainConfig``). ``model`` is not changed."""
    if not isinstance(model, DigitCNN):
        raise PruneError("FC-only retraining applies to the digit CNN.")
    if min(cfg.epochs, cfg.batch_size) < 1 or not cfg.lr > 0:
        raise PruneError("Retraining needs at least one epoch, a batch of at least 1 and a positive rate.")
    data = data or prune_data(info)
    new = copy.deepcopy(model)
    new.requires_grad_(False)
    feats = conv_features(model, data.x_train).flatten(1)
    train_fc(new.fc1, new.fc2, feats, torch.from_numpy(np.array(data.y_train)), cfg)
    new.eval()
    return new
