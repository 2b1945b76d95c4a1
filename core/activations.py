"""What the layers of a model output: per-class mean activations (e.g. a CNN's feature maps).

Choices written down here:

- Activations are those of ``model.forward_layers`` (for the DigitCNN: the conv maps after the
  ReLU, before pooling, (filters, H, W) per image), computed without gradients in batches.
- The model is only read: a shared model in eval mode is not touched, a model in training mode is
  put into eval mode for the computation and back afterwards (``core.torch_utils.eval_mode``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from core.text import UserError
from core.torch_utils import eval_mode


class ActivationError(UserError):
    """A request for layer outputs a user can get wrong (unknown layer, no examples of a class)."""


@torch.no_grad()
def class_mean_activations(
    model: nn.Module, x: np.ndarray, labels: np.ndarray, layers: Sequence[int], *, batch_size: int = 250
) -> dict[int, np.ndarray]:
    """Mean output of each of ``layers`` (indices into ``forward_layers``) per true class.

    x: (N, ...) inputs as the network takes them (normalised); labels: (N,) int class of each.
    Returns {layer: (n_classes, *unit_shape) float32}; n_classes = labels.max() + 1. A class
    without examples gets NaN.
    """
    x = np.asarray(x, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if len(x) != len(labels) or len(x) == 0:
        raise ActivationError("Give at least one input and exactly one label per input.")
    n_classes = int(labels.max()) + 1
    sums: dict[int, np.ndarray] = {}
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    with eval_mode(model):
        for s in range(0, len(x), batch_size):
            outs = model.forward_layers(torch.from_numpy(np.array(x[s : s + batch_size])))
            lab = labels[s : s + batch_size]
            for layer in layers:
                if not 0 <= layer < len(outs):
                    raise ActivationError(f"Layer {layer} does not exist; the model has layers 0..{len(outs) - 1}.")
                a = outs[layer].double().numpy()
                if layer not in sums:
                    sums[layer] = np.zeros((n_classes, *a.shape[1:]))
                np.add.at(sums[layer], lab, a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {layer: (s / counts.reshape(-1, *([1] * (s.ndim - 1)))).astype(np.float32) for layer, s in sums.items()}


@torch.no_grad()
def predict_proba(model: nn.Module, x: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
    """(N, n_classes) float32 softmax posteriors of normalised inputs x (N, ...)."""
    x = np.asarray(x, dtype=np.float32)
    with eval_mode(model):
        out = [torch.softmax(model(torch.from_numpy(np.array(x[s : s + batch_size]))), dim=1).numpy()
               for s in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
