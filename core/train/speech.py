"""Training the speech DNN on a corpus's frames: targets, held-out split, batched logits.

Training-time augmentation (``augment=``, ``core.train.augment``): every epoch renders new versions of
the training utterances from their audio (``Augmenter.epoch`` with the loop's seeded generator, so
one seed fixes the order and the augmentation). The loop's positions 0..N-1 (N = clean training
frames) are mapped onto the epoch's M augmented frames as ``floor(pos * M / N)``, so each epoch
still visits every augmented frame about once while speed perturbation changes M. The global
normaliser is fitted on the clean training frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.special import softmax
from torch import nn

from core.features import FeatureConfig, Normalizer, SplicedFrames
from core.models import STATE_SUFFIXES, ModelError, ModelInfo, SpeechDNN, sum_states
from core.models.info import phone_of_output, state_target
from core.phones import ENGLISH, PhoneSet, get_phone_set
from core.torch_utils import eval_mode
from core.train.augment import AugmentConfig, Augmenter, AugmentError
from core.train.distributed import current as current_ranks
from core.train.distributed import run_meta
from core.train.loop import (
    EpochStats,
    FramesLike,
    Targets,
    TrainError,
    TrainResult,
    _init_weights,
    _logits,
    fit,
)

HOLDOUT_FRACTION = 0.1


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
    max_frames: int | None = (
        None  # train on whole utterances, drawn in a seeded order, up to this many frames
    )
    dropout: float = 0.0  # hidden units dropped during training (each with this probability)


def speech_labels(targets: Targets, phone_set: PhoneSet | str | None = None) -> tuple[str, ...]:
    """Output class names: the phone set's phones (English by default), or each phone's three
    states ``p_S1, p_S2, p_S3``."""
    ps = get_phone_set(phone_set)
    if targets == "phone":
        return ps.phones
    if targets == "state":
        return tuple(p + s for p in ps.phones for s in STATE_SUFFIXES)
    raise TrainError(f"Unknown targets {targets!r}; use 'phone' or 'state'.")


def frame_targets(frames: FramesLike, targets: str) -> np.ndarray:
    """(N,) int64 class of every frame: the phone index, or ``3*phone + state``."""
    y = np.asarray(frames.labels, dtype=np.int64)
    if targets == "state":
        y = state_target(y, np.asarray(frames.states, dtype=np.int64), "state")
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


def speech_logits(
    model: nn.Module,
    info: ModelInfo,
    frames: FramesLike,
    idx: np.ndarray | None = None,
    batch_size: int = 2048,
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
    with eval_mode(model):
        return _logits(model, (view[idx[i : i + batch_size]] for i in range(0, len(idx), batch_size)))


def _speech_decisions(logits: np.ndarray, targets: str) -> tuple[np.ndarray, np.ndarray | None]:
    """argmax class, and for state targets the phone of the largest summed state posterior."""
    pred = logits.argmax(axis=1)
    if targets != "state":
        return pred, None
    return pred, sum_states(softmax(logits, axis=1), targets).argmax(axis=1)


def _real_part(real: FramesLike, sources: Sequence[str] | None, phone_set: PhoneSet, normalizer: Normalizer,
               feats_cfg: FeatureConfig, targets: str, weight: float, n_syn: int):
    """(frame indices, targets, normalised view, metadata) of the real-speech frames mixed in."""
    if not 0.0 < weight < 1.0:
        raise TrainError("The weight of real speech must be at least 0 and below 1.")
    if getattr(real, "phone_set", ENGLISH) is not phone_set:
        raise TrainError("The real-speech corpus uses another phone set (language) than the training corpus.")
    if np.asarray(real.feats).shape[1] != feats_cfg.n_channels:
        raise TrainError("The real-speech corpus has other features than the training corpus.")
    have = sorted(set(np.asarray(real.voices).tolist()))
    unknown = [s for s in (sources or ()) if s not in have]
    if unknown:
        raise TrainError(f"The real-speech corpus has no source {unknown[0]!r}; it has {', '.join(have)}.")
    utts = voice_utterances(real, list(sources) if sources else None)
    idx = utterance_frames(real, utts)
    if len(idx) == 0:
        raise TrainError("The real-speech corpus has no frames of those sources.")
    draws = max(1, round(weight / (1.0 - weight) * n_syn))
    desc = {"real": {"weight": weight, "frames": int(len(idx)), "utterances": int(len(utts)),
                     "draws_per_epoch": int(draws)},
            "real_sources": sorted(set(np.asarray(real.voices)[utts].tolist()))}
    return idx, frame_targets(real, targets), _normalised_view(real, normalizer, feats_cfg.context), desc


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
    augment: AugmentConfig | None = None,
    corpus_dir: str | Path | None = None,
    real: FramesLike | None = None,
    real_weight: float = 0.0,
    real_sources: Sequence[str] | None = None,
) -> TrainResult:
    """Train a SpeechDNN on the frames of ``train`` (only utterances of ``voices`` if given).

    train.feats: (N, C) raw features matching ``features`` (default ``FeatureConfig(kind=
    cfg.features)``). valid: held-out corpus (only ``valid_voices`` if given); None holds out a
    fixed 10 % of the training utterances (``heldout_split``). ``progress`` gets one EpochStats per
    epoch. ``data`` (description of the corpora) and ``validation`` (npz path) go into the metadata.
    ``cfg.max_frames``: whole training utterances in the order of ``default_rng(seed)`` until
    that many frames. ``augment`` (with any kinds on) needs ``corpus_dir``, the folder ``train``
    was loaded from (its audio is re-read and augmented every epoch; see the module docstring).

    ``real``: a real-speech corpus (``core.data.real``; its voices are its sources, only
    ``real_sources`` if given) mixed into training: ``real_weight`` (0 <= w < 1) is the share of each
    epoch's training samples drawn from its frames (they are few, so they repeat: w / (1 - w) times
    the synthetic frames are drawn from them, cycling through them in the epoch's shuffled order).
    The global normaliser is fitted on the synthetic frames alone, and w = 0 (or no ``real``) is the
    synthetic-only recipe bit for bit (the same permutations and batches). Not combined with
    ``augment`` yet (the shipped recipe uses none).
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
    phone_set = getattr(train, "phone_set", ENGLISH)
    if valid is not None and getattr(valid, "phone_set", ENGLISH) is not phone_set:
        raise TrainError("The training and held-out corpora use different phone sets (languages).")
    labels = speech_labels(cfg.targets, phone_set)
    utts = voice_utterances(train, voices)
    if valid is None:
        tr_u, ho_u = heldout_split(len(utts))
        tr_u, ho_u = utts[tr_u], utts[ho_u]
        ho_frames, ho_idx = train, utterance_frames(train, ho_u)
        heldout_desc = {
            "heldout": "10% of the training utterances (default_rng(0))",
            "heldout_utterances": len(ho_u),
        }
    else:
        tr_u = utts
        ho_frames = valid
        ho_idx = utterance_frames(valid, voice_utterances(valid, valid_voices))
        heldout_desc = {"heldout_utterances": len(voice_utterances(valid, valid_voices))}
    if cfg.max_frames is not None:
        starts = np.asarray(train.utt_starts, dtype=np.int64)
        sizes = np.diff(np.append(starts, len(train.labels)))[tr_u]
        order = np.random.default_rng(cfg.seed).permutation(len(tr_u))
        keep = order[: max(1, int(np.searchsorted(np.cumsum(sizes[order]), cfg.max_frames)) + 1)]
        tr_u = np.sort(tr_u[keep])
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

    def heldout() -> tuple[float, float | None]:
        logits = _logits(model, (ho_view[ho_idx[i : i + 2048]] for i in range(0, len(ho_idx), 2048)))
        pred, phone_pred = _speech_decisions(logits, cfg.targets)
        acc = float((pred == ho_y).mean())
        return acc, None if phone_pred is None else float((phone_pred == phone_of_output(ho_y, "state")).mean())

    def batch(pos: np.ndarray, _rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        b = tr_idx[pos]
        return view[b], y_all[b]

    n_syn, real_desc = len(tr_idx), {}
    if real is not None and real_weight > 0:
        real_idx, real_y, real_view, real_desc = _real_part(real, real_sources, phone_set, normalizer, feats_cfg,
                                                            cfg.targets, real_weight, n_syn)
        n_draws = real_desc["real"]["draws_per_epoch"]
        if augment is not None and augment.kinds:
            raise TrainError("Real speech cannot be combined with augmentation yet; leave out --augment.")

        def batch(pos: np.ndarray, _rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # noqa: F811
            syn = tr_idx[pos[pos < n_syn]]
            r = real_idx[(pos[pos >= n_syn] - n_syn) % len(real_idx)]
            return np.concatenate([view[syn], real_view[r]]), np.concatenate([y_all[syn], real_y[r]])
    elif not 0.0 <= real_weight < 1.0:
        raise TrainError("The weight of real speech must be at least 0 and below 1.")
    else:
        n_draws = 0

    if augment is not None and augment.kinds:
        if corpus_dir is None:
            raise TrainError("Augmentation needs the corpus folder (its audio is augmented every epoch).")
        try:
            augmenter = Augmenter(corpus_dir, [train.utt_ids[u] for u in tr_u], augment, feats_cfg)
        except AugmentError as exc:
            raise TrainError(str(exc)) from None
        steps = -(-len(tr_idx) // cfg.batch_size)
        state: dict = {"calls": 0}

        def batch(pos: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # noqa: F811
            if state["calls"] % steps == 0:
                ep = augmenter.epoch(rng)
                state["view"] = _normalised_view(ep, normalizer, feats_cfg.context)
                state["y"] = frame_targets(ep, cfg.targets)
            state["calls"] += 1
            m = len(state["y"])
            b = (pos.astype(np.int64) * m) // len(tr_idx)
            return state["view"][b], state["y"][b]

    if not 0.0 <= cfg.dropout < 1.0:
        raise TrainError("Dropout must be at least 0 and below 1.")
    hooks = []
    if cfg.dropout > 0:  # on the inputs of the layers after the first: every hidden unit's output
        # one stream per rank across processes (rank 0's is the single-process one)
        gen_drop = torch.Generator().manual_seed(cfg.seed + 1 + 1_000_003 * current_ranks().rank)

        def drop(mod: nn.Module, inp: tuple[torch.Tensor]) -> tuple[torch.Tensor] | None:
            if not mod.training:
                return None
            keep = torch.rand(inp[0].shape, generator=gen_drop) >= cfg.dropout
            return (inp[0] * keep / (1.0 - cfg.dropout),)

        hooks = [lin.register_forward_pre_hook(drop) for lin in model.linears[1:]]
    try:
        history, stopped = fit(
            model,
            n_syn + n_draws,
            batch,
            heldout,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=cfg.seed,
            max_minutes=cfg.max_minutes,
            progress=progress,
            t0=t0,
        )
    finally:
        for h in hooks:
            h.remove()
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
            f"{phone_set.language} {cfg.targets} classifier on {feats_cfg.kind.upper()} features, "
            f"{cfg.layers} x {cfg.width} {cfg.activation}"
        ),
        "features": feats_cfg,
        "labels": labels,
        "targets": cfg.targets,
        "phone_set": phone_set.name,
        "normalizer": normalizer,
        "validation": validation,
        "data": {
            **(data or {}),
            "train_utterances": int(len(tr_u)),
            "train_frames": int(len(tr_idx)),
            "voices": voices_used,
            **heldout_desc,
            **real_desc,
        },
        "training": {
            **asdict(cfg),
            "augment": None if augment is None or not augment.kinds else augment.to_dict(),
            "optimizer": "Adam, cosine decay to lr/20",
            "init": "glorot gain 4 (sigmoid) / kaiming (relu), zero bias",
            "stopped_early": stopped,
            **run_meta(cfg.batch_size),
        },
        "metrics": metrics,
    }
    return TrainResult(model, meta, history, time.monotonic() - t0)

