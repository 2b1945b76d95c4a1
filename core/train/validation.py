"""Speech validation sets: choosing whole utterances, writing and reading the npz."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.features import FeatureConfig
from core.models import ModelInfo
from core.text import N_
from core.train.loop import FramesLike, TrainError
from core.train.speech import utterance_frames

if TYPE_CHECKING:
    from core.data.frames import CorpusFrames


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
    named ``utterances``) as ``CorpusFrames.save`` does, with float16 feats (raw, unspliced),
    compressed. Returns the path.
    """
    from core.data.corpus import load_corpus
    from core.data.frames import CorpusFrames

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
    chosen = CorpusFrames(
        feats=np.asarray(frames.feats)[idx], labels=np.asarray(frames.labels)[idx],
        states=np.asarray(frames.states)[idx],
        utt_starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        frame_utt=np.repeat(np.arange(len(utts), dtype=np.int32), lengths),
        utt_ids=tuple(frames.utt_ids[u] for u in utts), voices=tuple(frames.voices[u] for u in utts), cfg=cfg,
        phone_set=frames.phone_set,
    )
    return chosen.save(out, feats_dtype=np.float16)


def load_validation(src: str | Path | ModelInfo) -> CorpusFrames:
    """A validation npz (path, or a model's ``info.validation_path``) -> ``core.data.frames.CorpusFrames``
    with float32 feats (N, C); ``.spliced()`` gives the lazy 35-frame view. Every array is checked
    (``CorpusFrames.load``: CorpusError naming the file)."""
    from core.data.frames import CorpusFrames

    if isinstance(src, ModelInfo):
        path = src.validation_path
        if path is None:
            raise TrainError(N_("The model {model} names no validation set."), model=src.name)
    else:
        path = Path(src)
    if not path.is_file():
        raise TrainError(N_("No validation set at {path}."), path=path)
    return CorpusFrames.load(path)
