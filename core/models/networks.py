"""The networks: the speech DNN, its pruned form, the digit CNN, and ``build_model``.

Every layer's activations are addressable as (layer index, unit): for ``SpeechDNN`` layer 0 is the
input, layers 1..n_hidden the hidden layers (after the non-linearity), layer n_hidden+1 the output
logits. ``forward_layers`` returns them all in that order.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from core.text import UserError

Activation = Literal["sigmoid", "relu"]


class ModelError(UserError):
    """A model file or request a user can get wrong (missing, tampered, wrong shapes)."""


class SpeechDNN(nn.Module):
    """Frame classifier: input (35 x C spliced, normalised) -> n_hidden x width -> n_classes logits.

    9 layers counting input and output with the defaults (7 hidden). The softmax is applied by the
    caller (loss or importance engine); ``forward`` returns logits (batch, n_classes).
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        width: int = 512,
        n_hidden: int = 7,
        activation: Activation = "sigmoid",
    ):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ModelError(f"Unknown activation {activation!r}; use 'sigmoid' or 'relu'.")
        if min(input_dim, n_classes, width, n_hidden) < 1:
            raise ModelError("Input size, classes, width and hidden layers must all be positive.")
        self.input_dim = int(input_dim)
        self.n_classes = int(n_classes)
        self.width = int(width)
        self.n_hidden = int(n_hidden)
        self.activation = activation
        sizes = [self.input_dim] + [self.width] * self.n_hidden + [self.n_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, input first, output last (length n_hidden + 2)."""
        return [self.input_dim] + [self.width] * self.n_hidden + [self.n_classes]

    def act(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z) if self.activation == "sigmoid" else torch.relu(z)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x, h1, ..., h_n_hidden, logits]: activations of every layer, (batch, units) each."""
        out = [x]
        h = x
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
            out.append(h)
        out.append(self.linears[-1](h))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
        return self.linears[-1](h)

    def arch(self) -> dict:
        return {
            "type": "SpeechDNN",
            "input_dim": self.input_dim,
            "n_classes": self.n_classes,
            "width": self.width,
            "n_hidden": self.n_hidden,
            "activation": self.activation,
        }


class DigitCNN(nn.Module):
    """28 x 28 digit classifier: conv(5x5, c1) -> ReLU -> maxpool 2 -> conv(5x5, c2) -> ReLU ->
    maxpool 2 -> flatten -> fc(hidden) -> ReLU -> fc(10) logits.

    Convolutions use padding 2, so the feature maps are c1 x 28 x 28 and c2 x 14 x 14 before pooling.
    ``forward_layers`` returns [x, conv1 map (after ReLU), conv2 map (after ReLU), fc hidden, logits];
    the conv maps are (batch, filters, H, W), addressable per filter.
    """

    def __init__(self, c1: int = 16, c2: int = 32, hidden: int = 128, n_classes: int = 10):
        super().__init__()
        if min(c1, c2, hidden, n_classes) < 1:
            raise ModelError("Filter counts, hidden width and classes must all be positive.")
        self.c1, self.c2, self.hidden, self.n_classes = int(c1), int(c2), int(hidden), int(n_classes)
        self.conv1 = nn.Conv2d(1, self.c1, 5, padding=2)
        self.conv2 = nn.Conv2d(self.c1, self.c2, 5, padding=2)
        self.fc1 = nn.Linear(self.c2 * 7 * 7, self.hidden)
        self.fc2 = nn.Linear(self.hidden, self.n_classes)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (batch, 1, 28, 28) -> [x, a1 (b,c1,28,28), a2 (b,c2,14,14), h (b,hidden), logits]."""
        a1 = torch.relu(self.conv1(x))
        a2 = torch.relu(self.conv2(nn.functional.max_pool2d(a1, 2)))
        h = torch.relu(self.fc1(nn.functional.max_pool2d(a2, 2).flatten(1)))
        return [x, a1, a2, h, self.fc2(h)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_layers(x)[-1]

    def arch(self) -> dict:
        return {
            "type": "DigitCNN",
            "c1": self.c1,
            "c2": self.c2,
            "hidden": self.hidden,
            "n_classes": self.n_classes,
        }


class PrunedSpeechDNN(nn.Module):
    """A SpeechDNN with deleted input units and hidden units (made by ``core.pruning.prune``).

    It takes **full** spliced frames (batch, input_dim) and drops the deleted inputs itself:
    ``kept_inputs`` (sorted input indices, recorded in model.json's ``arch``) are gathered before
    the first layer, so maps and importance stay on the full time x channel grid (a deleted input
    has gradient 0). ``widths``: units of each hidden layer (they may differ after pruning).
    ``forward_layers`` returns [x (full), h1, ..., logits] like ``SpeechDNN`` (the importance
    engine takes its autograd path for this class).
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        widths: list[int],
        kept_inputs: list[int],
        activation: Activation = "sigmoid",
    ):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ModelError(f"Unknown activation {activation!r}; use 'sigmoid' or 'relu'.")
        widths = [int(w) for w in widths]
        kept = [int(i) for i in kept_inputs]
        if min(input_dim, n_classes) < 1 or not widths or min(widths) < 1:
            raise ModelError("Input size, classes and every hidden width must be positive.")
        if not kept or kept != sorted(set(kept)) or kept[0] < 0 or kept[-1] >= input_dim:
            raise ModelError(f"kept_inputs must be increasing, distinct input indices in 0..{input_dim - 1}.")
        self.input_dim, self.n_classes, self.activation = int(input_dim), int(n_classes), activation
        self.widths, self.kept_inputs = widths, kept
        self.n_hidden = len(widths)
        self.register_buffer("kept_index", torch.tensor(kept, dtype=torch.long), persistent=False)
        sizes = [len(kept)] + widths + [self.n_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer as the full grid sees them: input_dim (full), the widths, n_classes."""
        return [self.input_dim] + self.widths + [self.n_classes]

    def act(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z) if self.activation == "sigmoid" else torch.relu(z)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x (batch, input_dim), h1, ..., logits]."""
        out = [x]
        h = x.index_select(1, self.kept_index)
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
            out.append(h)
        out.append(self.linears[-1](h))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.index_select(1, self.kept_index)
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
        return self.linears[-1](h)

    def arch(self) -> dict:
        return {
            "type": "PrunedSpeechDNN",
            "input_dim": self.input_dim,
            "n_classes": self.n_classes,
            "widths": list(self.widths),
            "kept_inputs": list(self.kept_inputs),
            "activation": self.activation,
        }


def build_model(arch: dict) -> nn.Module:
    """A fresh (randomly initialised) model from an ``arch()`` dictionary."""
    if not isinstance(arch, dict):
        raise ModelError("The model architecture must be a JSON object.")
    kwargs = {k: v for k, v in arch.items() if k != "type"}
    cls = {"SpeechDNN": SpeechDNN, "DigitCNN": DigitCNN, "PrunedSpeechDNN": PrunedSpeechDNN}.get(arch.get("type"))
    if cls is None:
        raise ModelError(f"Unknown model type {arch.get('type')!r}; expected SpeechDNN, DigitCNN or PrunedSpeechDNN.")

    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    lists = ("widths", "kept_inputs") if cls is PrunedSpeechDNN else ()
    bad = [k for k, v in kwargs.items() if k != "activation" and not (
        all(whole(e) for e in v) if k in lists and isinstance(v, list) else whole(v))]
    if bad:
        raise ModelError(f"Architecture field {bad[0]!r} must be a whole number (or a list of them).")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ModelError(f"The architecture does not fit {arch.get('type')}: {exc}.") from None
