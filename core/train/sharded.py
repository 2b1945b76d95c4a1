"""Training the speech DNN on a sharded, memory-mapped corpus (``core.data.shards``), in one process
or across processes: memory bounded by two shards, whatever the corpus's size.

The same network, initialisation, loop (``core.train.loop.fit``), optimiser, schedule, held-out rule
and metadata as ``core.train.speech.train_speech``, with these differences, written down here:

- **Order.** Each epoch visits the shards in a random order and the training frames of a shard in
  a random order (``core.data.shards.ShardOrder`` drawn from the loop's generator), not one global
  permutation; a batch may straddle two shards (``ShardCache`` keeps two mapped).
- **Held-out frames.** The same rule: ``heldout_split`` over the corpus's utterances (10 %, fixed by
  ``default_rng(0)``); measured shard by shard after each epoch, the shards shared among ranks and
  the counts summed (``all_reduce_sum``).
- **Normaliser.** Per channel mean and std of the training frames from float64 sums of x and x^2
  over the shards (shared among ranks, summed), floored at 1e-5 as ``Normalizer.fit``.
- **Not here (yet):** voice selection, ``max_frames``, augmentation, real-speech mixing, dropout,
  a separate held-out corpus: ``TrainError`` names them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import torch

from core.data.shards import Shard, ShardCache, ShardedCorpus, ShardOrder
from core.features import Normalizer
from core.models import ModelError, SpeechDNN
from core.models.info import phone_of_output, state_target
from core.torch_utils import eval_mode
from core.train import distributed as D
from core.train.loop import EpochStats, TrainError, TrainResult, _init_weights, fit
from core.train.speech import SpeechTrainConfig, _speech_decisions, heldout_split, speech_labels


def _frame_targets(shard: Shard, targets: str) -> np.ndarray:
    y = np.asarray(shard.labels, dtype=np.int64)
    return state_target(y, np.asarray(shard.states, dtype=np.int64), targets)


def _split_frames(corpus: ShardedCorpus, k: int, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) local frame indices of shard k (``held``: (U,) bool per utterance)."""
    utts = corpus.shard_utts(k)
    lengths = corpus.utt_frames[utts]
    mask = np.repeat(held[utts], lengths)
    local = np.arange(int(lengths.sum()), dtype=np.int64)
    return local[~mask], local[mask]


def fit_normalizer(corpus: ShardedCorpus, held: np.ndarray, floor: float = 1e-5) -> Normalizer:
    """Per-channel mean / std (population) of the training frames, from float64 sums shard by shard;
    across processes each rank sums shards rank, rank + world, ... and the sums are all-reduced."""
    ranks = D.current()
    c = corpus.cfg.n_channels
    sums = np.zeros(2 * c + 1)
    for k in range(ranks.rank, corpus.n_shards, ranks.world):
        shard = corpus.shard(k)
        train, _ = _split_frames(corpus, k, held)
        for i in range(0, len(train), 65536):
            x = np.asarray(shard.feats[train[i : i + 65536]], dtype=np.float64)
            sums[:c] += x.sum(axis=0)
            sums[c : 2 * c] += np.einsum("ij,ij->j", x, x)
            sums[-1] += len(x)
        del shard
    sums = D.all_reduce_sum(sums)
    n = sums[-1]
    mean = sums[:c] / n
    std = np.maximum(np.sqrt(np.maximum(sums[c : 2 * c] / n - mean * mean, 0.0)), floor)
    return Normalizer(tuple(float(v) for v in mean), tuple(float(v) for v in std))


def train_speech_sharded(
    corpus: ShardedCorpus,
    cfg: SpeechTrainConfig | None = None,
    *,
    progress: Callable[[EpochStats], None] | None = None,
    data: dict | None = None,
    validation: str | None = None,
) -> TrainResult:
    """Train a SpeechDNN on a sharded corpus (see the module docstring); returns the model (eval
    mode) and the metadata for ``save_model``, as ``train_speech``."""
    t0 = time.monotonic()
    cfg = SpeechTrainConfig() if cfg is None else cfg
    feats_cfg = corpus.cfg
    if cfg.features != feats_cfg.kind:
        raise TrainError(f"The sharded corpus holds {feats_cfg.kind} features, not {cfg.features}.")
    if cfg.targets not in ("phone", "state"):
        raise TrainError(f"Unknown targets {cfg.targets!r}; use 'phone' or 'state'.")
    if min(cfg.epochs, cfg.batch_size) < 1 or not cfg.lr > 0:
        raise TrainError("Epochs and batch size must be at least 1 and the learning rate positive.")
    if cfg.max_frames is not None or cfg.dropout > 0:
        raise TrainError("A sharded corpus is trained on whole, without --max-frames or --dropout.")
    ranks = D.current()
    labels = speech_labels(cfg.targets, corpus.phone_set)
    tr_u, ho_u = heldout_split(len(corpus.utt_ids))
    held = np.zeros(len(corpus.utt_ids), dtype=bool)
    held[ho_u] = True
    train_counts = np.array([np.sum(corpus.utt_frames[u][~held[u]]) for u in map(corpus.shard_utts,
                                                                                  range(corpus.n_shards))],
                            dtype=np.int64)
    n_train = int(train_counts.sum())
    offsets = np.concatenate([[0], np.cumsum(train_counts)[:-1]]).astype(np.int64)
    if n_train == 0 or not held.any():
        raise TrainError("There are no training or no held-out frames (check the corpus).")
    normalizer = fit_normalizer(corpus, held)
    context = feats_cfg.context

    def prepare(shard: Shard):
        train, ho = _split_frames(corpus, shard.index, held)
        return shard.spliced(context), _frame_targets(shard, cfg.targets), train, ho

    cache = ShardCache(corpus, prepare, keep=2)

    def batch(pos: np.ndarray, _rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        shard_of = np.searchsorted(offsets, pos, side="right") - 1
        xs, ys = [], []
        for k in np.unique(shard_of):  # a batch touches one or two shards
            _, (view, y, train, _) = cache.get(int(k))
            local = train[pos[shard_of == k] - offsets[k]]
            xs.append(view[local])
            ys.append(y[local])
        order = np.argsort(np.argsort(shard_of, kind="stable"), kind="stable")  # back to pos order
        x = np.concatenate(xs) if xs else np.zeros((0, feats_cfg.input_dim), np.float32)
        y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
        return normalizer.apply(x[order]).astype(np.float32), y[order]

    try:
        model = SpeechDNN(feats_cfg.input_dim, len(labels), cfg.width, cfg.layers, cfg.activation)
    except ModelError as exc:
        raise TrainError(str(exc)) from None
    _init_weights(model, torch.Generator().manual_seed(cfg.seed), cfg.activation)

    def heldout() -> tuple[float, float | None]:
        counts = np.zeros(3)  # correct, phone-correct, frames
        with eval_mode(model), torch.no_grad():
            for k in range(ranks.rank, corpus.n_shards, ranks.world):
                _, (view, y, _, ho) = cache.get(k)
                for i in range(0, len(ho), 2048):
                    b = ho[i : i + 2048]
                    x = torch.from_numpy(normalizer.apply(view[b]).astype(np.float32))
                    pred, phone_pred = _speech_decisions(model(x).numpy(), cfg.targets)
                    counts[0] += np.sum(pred == y[b])
                    counts[1] += 0 if phone_pred is None else np.sum(phone_pred == phone_of_output(y[b], "state"))
                    counts[2] += len(b)
        counts = D.all_reduce_sum(counts)
        return counts[0] / counts[2], None if cfg.targets != "state" else counts[1] / counts[2]

    history, stopped = fit(model, n_train, batch, heldout, epochs=cfg.epochs, batch_size=cfg.batch_size,
                           lr=cfg.lr, seed=cfg.seed, max_minutes=cfg.max_minutes, progress=progress, t0=t0,
                           order=lambda rng: ShardOrder(train_counts, rng))
    cache.clear()
    last = history[-1]
    n_held = int(corpus.utt_frames[held].sum())
    metrics = {"heldout_accuracy": round(last.heldout_acc, 6), "heldout_frames": n_held,
               "train_accuracy_last_epoch": round(last.train_acc, 6),
               "train_loss_last_epoch": round(last.loss, 6), "epochs_completed": len(history)}
    if last.heldout_phone_acc is not None:
        metrics["heldout_phone_accuracy"] = round(last.heldout_phone_acc, 6)
    meta = {
        "description": (f"{corpus.phone_set.language} {cfg.targets} classifier on {feats_cfg.kind.upper()} "
                        f"features, {cfg.layers} x {cfg.width} {cfg.activation}"),
        "features": feats_cfg,
        "labels": labels,
        "targets": cfg.targets,
        "phone_set": corpus.phone_set.name,
        "normalizer": normalizer,
        "validation": validation,
        "data": {**(data or {}), "train_utterances": int(len(tr_u)), "train_frames": n_train,
                 "voices": sorted(set(np.asarray(corpus.voices)[tr_u].tolist())),
                 "heldout": "10% of the training utterances (default_rng(0))", "heldout_utterances": len(ho_u),
                 "shards": corpus.n_shards},
        "training": {**asdict(cfg), "augment": None, "optimizer": "Adam, cosine decay to lr/20",
                     "init": "glorot gain 4 (sigmoid) / kaiming (relu), zero bias", "stopped_early": stopped,
                     "order": "shards in random order, frames of a shard in random order",
                     **D.run_meta(cfg.batch_size)},
        "metrics": metrics,
    }
    return TrainResult(model, meta, history, time.monotonic() - t0)
