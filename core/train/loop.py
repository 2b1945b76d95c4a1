"""The package's one optimisation loop (``run_adam``), and what speech and digit training share on
top of it (``fit``: epochs, the learning-rate schedule, held-out accuracy, a time budget, several
processes), weight initialisation, batched logits, and the package's TrainError."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

from core.text import UserError
from core.train import distributed as D

Targets = Literal["phone", "state"]


class TrainError(UserError):
    """A training or evaluation request a user can get wrong (no data, bad option, wrong model)."""


class FramesLike(Protocol):
    """What training needs of a corpus (``core.data.frames.CorpusFrames`` has it).

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


def cosine_factor(total: int) -> Callable[[int], float]:
    """The closed form of training's schedule (``cosine_schedule`` is torch's, recursive): the factor of
    optimiser step ``step`` (0-based), a cosine from 1 to 0.05 over
    ``total`` steps, then 0.05, i.e. ``0.05 + 0.95 * 0.5 * (1 + cos(pi * min(step / total, 1)))``."""

    def factor(step: int) -> float:
        frac = min(step / max(total, 1), 1.0)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac))

    return factor


Steps = Callable[[int], Iterable]


def run_adam(
    params: Iterable[nn.Parameter],
    batches: Steps,
    loss_of: Callable[[object], torch.Tensor],
    *,
    epochs: int,
    lr: float,
    schedule: Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler] | None = None,
    after_step: Callable[[], bool] | None = None,
    after_epoch: Callable[[int], None] | None = None,
    foreach: bool | None = None,
) -> bool:
    """The one optimisation loop of the package: training (``fit``), adaptation
    (``core.voice.adapt``), FC-only retraining after pruning (``core.pruning.surgery.train_fc``) and
    the sanity check's shuffled-label twin (``core.trust.sanity.shuffled_twin``) all run it, each with
    its own batches, loss, schedule and callbacks.

    For each epoch 1..``epochs``: ``batches(epoch)`` gives the epoch's batches (anything
    ``loss_of`` understands: index arrays, tensors; it is called at the start of the epoch, so a
    generator that draws the epoch's order draws it then); for each, ``loss_of(batch)`` returns the
    scalar loss, and torch's Adam (``lr``, ``foreach`` as torch takes it) steps on its gradient;
    ``schedule(optimiser)`` builds a torch learning-rate scheduler, stepped after every step.
    ``after_step()`` returning True ends the epoch early and the loop after it (a time budget);
    ``after_epoch(epoch)`` runs after every epoch, the ended one included. Gradients are on inside
    the loop whatever the caller's mode. Returns whether ``after_step`` stopped it."""
    params = list(params)
    opt = torch.optim.Adam(params, lr=lr, foreach=foreach)
    sched = None if schedule is None else schedule(opt)
    stopped = False
    with torch.enable_grad():
        for epoch in range(1, epochs + 1):
            for b in batches(epoch):
                loss = loss_of(b)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                if after_step is not None and after_step():
                    stopped = True
                    break
            if after_epoch is not None:
                after_epoch(epoch)
            if stopped:
                break
    return stopped


MIN_LR_FACTOR = 0.05
"""Training's learning rate decays by a cosine from ``lr`` to ``MIN_LR_FACTOR * lr`` (lr/20)."""


def cosine_schedule(lr: float, total: int) -> Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]:
    """Training's schedule for ``run_adam``: torch's ``CosineAnnealingLR`` from ``lr`` to
    ``MIN_LR_FACTOR * lr`` over ``total`` steps. It computes the rates recursively; they equal the
    closed form ``cosine_factor`` to within 2e-13 relative (23,456 steps compared), and a seeded
    speech and digits training give the same weights, bit for bit, as with the closed form."""
    return lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total, 1), eta_min=MIN_LR_FACTOR * lr)


Batch = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]
Heldout = Callable[[], tuple[float, float | None]]


def fit(
    model: nn.Module,
    n_train: int,
    batch: Batch,
    heldout: Heldout,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    max_minutes: float | None = None,
    progress: Callable[[EpochStats], None] | None = None,
    t0: float | None = None,
    order: Callable[[np.random.Generator], np.ndarray] | None = None,
) -> tuple[list[EpochStats], bool]:
    """Training of speech and digit models on ``run_adam``; returns (history, stopped early).

    Each epoch draws a permutation of ``range(n_train)`` from ``default_rng(seed)`` and asks
    ``batch(positions, rng)`` for (x float32, y int64) numpy arrays of ``batch_size`` of them (the
    same ``rng`` serves augmentation, so one seed fixes the order and the augmentation). Adam at
    ``lr``, decayed by torch's ``CosineAnnealingLR`` to lr/20 over the planned steps
    (``cosine_schedule``), cross-entropy loss. After every epoch the model is put in eval mode and
    ``heldout()`` gives (accuracy, phone accuracy or None). ``max_minutes`` (counted from ``t0``,
    default now) is checked after every step; the epoch then ends early and is measured. The model
    ends in eval mode with requires_grad off.

    ``order(rng)`` replaces the epoch's permutation (any sliceable sequence of the positions
    0..n_train-1; ``core.data.shards`` gives a lazy shard-by-shard one).

    Across processes (``core.train.distributed``: a process group, e.g. under ``torchrun``) the
    model is wrapped in ``DistributedDataParallel`` (which broadcasts rank 0's initial weights and
    averages the gradients); every rank draws the same epoch order and computes its contiguous part
    of each global batch of ``batch_size`` (``rank_part``), with the loss summed over its part and
    scaled by ``world / len(global batch)``, so the averaged gradient is the global batch's mean
    gradient and the global batch, ``lr`` and schedule mean what they mean in one process. ``batch``
    then gets a per-rank generator (``default_rng([seed, rank])``) so that its draws (augmentation,
    shifts), whose count depends on the part's size, never put the shared order generator out of
    step. Losses, accuracies and the clock's stop are combined over ranks; ``progress`` is called on
    rank 0 only; ``heldout()`` runs on every rank (same weights, same answer).
    """
    t0 = time.monotonic() if t0 is None else t0
    ranks = D.current()
    rng = np.random.default_rng(seed)
    batch_rng = np.random.default_rng([seed, ranks.rank]) if ranks.active else rng
    net = DistributedDataParallel(model) if ranks.active else model
    total = math.ceil(n_train / batch_size) * epochs
    loss_fn = nn.CrossEntropyLoss()
    deadline = None if max_minutes is None else t0 + 60.0 * max_minutes
    history: list[EpochStats] = []
    sums = [0.0, 0, 0]  # the epoch's loss sum, frames right, frames seen

    def batches(epoch: int):
        net.train()
        sums[:] = [0.0, 0, 0]
        perm = rng.permutation(n_train) if order is None else order(rng)
        for i in range(0, n_train, batch_size):
            yield perm[i : i + batch_size]

    def loss_of(glob) -> torch.Tensor:
        xb, yb = batch(D.rank_part(glob, ranks), batch_rng)
        x = torch.from_numpy(np.ascontiguousarray(xb)).to(next(model.parameters()).dtype)
        y = torch.from_numpy(yb)
        logits = net(x)
        if ranks.active:  # summed over this part, scaled: DDP's mean over ranks = the global mean
            loss = F.cross_entropy(logits, y, reduction="sum") * (ranks.world / len(glob))
            sums[0] += loss.item() * len(glob) / ranks.world
        else:
            loss = loss_fn(logits, y)
            sums[0] += loss.item() * len(yb)
        sums[1] += int((logits.argmax(1) == y).sum())
        sums[2] += len(yb)
        return loss

    def out_of_time() -> bool:
        return deadline is not None and D.any_rank(time.monotonic() > deadline)

    def measure(epoch: int) -> None:
        net.eval()
        loss_sum, correct, seen = sums
        if ranks.active:
            loss_sum, correct, seen = D.all_reduce_sum(np.array([loss_sum, correct, seen])).tolist()
        acc, phone_acc = heldout()
        stats = EpochStats(epoch, epochs, loss_sum / seen, correct / seen, acc, time.monotonic() - t0, phone_acc)
        history.append(stats)
        if progress is not None and ranks.main:
            progress(stats)

    stopped = run_adam(model.parameters(), batches, loss_of, epochs=epochs, lr=lr, schedule=cosine_schedule(lr, total),
                       after_step=out_of_time, after_epoch=measure)
    model.eval()
    model.requires_grad_(False)
    return history, stopped
