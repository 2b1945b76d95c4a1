"""What speech and digit training share: the epoch loop, the learning-rate schedule, weight
initialisation, batched logits, and the package's TrainError."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import torch
from torch import nn

Targets = Literal["phone", "state"]


class TrainError(ValueError):
    """A training or evaluation request a user can get wrong (no data, bad option, wrong model)."""


class FramesLike(Protocol):
    """What training needs of a corpus (``core.corpus.CorpusFrames`` has it).

    feats (N, C) float32 raw features, labels (N,) int16 phone indices, states (N,) int8 (0/1/2),
    utt_starts (U,) int64, utt_ids and voices: U strings each, frame_utt (N,) int32.
    """

    feats: np.ndarray
    labels: np.ndarray
    states: np.ndarray
    utt_starts: np.ndarray
    utt_ids: tuple[str, ...]
    voices: tuple[str, ...]
    frame_utt: np.ndarray


@dataclass(frozen=True)
class EpochStats:
    """One progress line: mean training loss and accuracy over the epoch's batches, held-out
    accuracy after the epoch (phone accuracy of summed states for state targets), seconds since
    the start."""

    epoch: int
    epochs: int
    loss: float
    train_acc: float
    heldout_acc: float
    elapsed_s: float
    heldout_phone_acc: float | None = None

    def line(self) -> str:
        s = (
            f"epoch {self.epoch}/{self.epochs}  loss {self.loss:.4f}  train acc {self.train_acc:.4f}  "
            f"held-out acc {self.heldout_acc:.4f}"
        )
        if self.heldout_phone_acc is not None:
            s += f"  (phones {self.heldout_phone_acc:.4f})"
        return s + f"  elapsed {self.elapsed_s:.0f} s"


@dataclass(eq=False)
class TrainResult:
    """A trained model (train mode off), the metadata for ``save_model`` and the epoch history."""

    model: nn.Module
    meta: dict
    history: list[EpochStats] = field(default_factory=list)
    elapsed_s: float = 0.0


def _init_weights(model: nn.Module, gen: torch.Generator, activation: str = "relu") -> None:
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if activation == "sigmoid":  # Glorot & Bengio (2010): 4x the tanh scale for sigmoid
                nn.init.xavier_uniform_(m.weight, gain=4.0, generator=gen)
            else:
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu", generator=gen)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def _logits(model: nn.Module, x_batches) -> np.ndarray:
    """Concatenated logits of a model over an iterable of float32 numpy batches."""
    out = [model(torch.from_numpy(np.ascontiguousarray(xb))).numpy() for xb in x_batches]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _sgd_step(model: nn.Module, opt: torch.optim.Optimizer, loss_fn, x: torch.Tensor, y: torch.Tensor,
              lr: float, step: int, total: int) -> tuple[float, int]:
    """One optimiser step on a batch (learning rate from the cosine schedule); returns the batch's
    mean loss and its number of correct decisions."""
    _cosine_lr(opt, lr, step, total)
    logits = model(x)
    loss = loss_fn(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item(), int((logits.argmax(1) == y).sum())


def _cosine_lr(opt: torch.optim.Optimizer, lr: float, step: int, total: int) -> None:
    frac = min(step / max(total, 1), 1.0)
    for g in opt.param_groups:
        g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
