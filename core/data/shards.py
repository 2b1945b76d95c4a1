"""Corpora larger than memory: frames stored in shards of whole utterances, read memory-mapped.

``python -m core shard-corpus SRC OUT [--features mfbank|mfcc] [--shard-frames N]`` writes a
sharded copy of a corpus folder (wav + lab + manifest.csv, e.g. one ``import-corpus --format
textgrid`` made from LibriSpeech and MFA) or of a frames npz (a validation set, a corpus cache);
``train speech --corpus OUT`` and ``importance MODEL --corpus OUT`` read it, also under
``torchrun``.

The format (``OUT/``):

- ``shards.json``: ``{"format": "dnnlens-shards", "version": 1, "features": FeatureConfig,
  "phone_set": name, "frames": N, "utterances": U, "shards": [{"name": "00000", "frames": n,
  "utterances": u}, ...]}``, written last (a folder without it is not a corpus yet).
- ``utterances.npz``: ``utt_ids`` (U,) str, ``voices`` (U,) str, ``frames`` (U,) int64, ``shard``
  (U,) int32, the utterances shard by shard in stored order. No pickle.
- per shard ``NNNNN.feats.npy`` (n, C) float32 raw features, ``NNNNN.labels.npy`` (n,) int16,
  ``NNNNN.states.npy`` (n,) int8: plain ``.npy`` files, which ``numpy.load(mmap_mode="r")`` maps
  without reading them.

Choices written down here:

- **Shards of whole utterances** (``shard_frames`` frames each, 1,000,000 by default = 160 MB of
  MFBANK): splicing never crosses an utterance, so a shard is spliced on its own; an utterance is
  never split.
- **Mixed shards.** Utterances are assigned to shards in a seeded random order (``seed``), so each
  shard holds every voice and speaker in proportion; training visits the shards in a random order
  and the frames of a shard in a random order (``ShardOrder``): the usual shuffle of corpora that
  do not fit in memory (Kaldi's example archives, WebDataset), not a global permutation, which
  would touch every page of the corpus for every batch.
- **Memory.** A ``Shard`` maps its three files; a reader keeps at most ``ShardCache.keep`` shards
  open and drops the others' mappings, so the process's resident pages (which count mapped file
  pages) stay at a couple of shards whatever the corpus's size. What grows with the corpus is
  per utterance (ids, voices, lengths: U entries), not per frame.
- **Writing in parallel.** The shards are planned from the audio headers alone (``sf.info``: the
  frame count of every utterance), so ``shard-corpus`` under ``torchrun`` (on one or several
  machines) lets rank r extract shards r, r + W, ...; rank 0 writes ``utterances.npz`` and
  ``shards.json`` when every rank is done.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features import FeatureConfig, SplicedFrames, extract, n_frames_for
from core.phones import PhoneSet, frame_labels, frame_states, get_phone_set, read_lab
from core.text import N_, UserError

INDEX = "shards.json"
UTTERANCES = "utterances.npz"
FORMAT = "dnnlens-shards"
SHARD_FRAMES = 1_000_000


class ShardError(UserError):
    """A sharded corpus that cannot be written or read (bad folder, damaged index, wrong features)."""


def is_sharded(path: str | Path) -> bool:
    """True if ``path`` is a folder holding a sharded corpus's ``shards.json``."""
    return (Path(path) / INDEX).is_file()


def _name(k: int) -> str:
    return f"{k:05d}"


@dataclass(frozen=True, eq=False)
class Shard:
    """One shard, memory-mapped: feats (n, C) float32, labels (n,) int16, states (n,) int8 (read-only
    ``numpy.memmap`` arrays), utt_starts (u,) int64 local first frames, ``utts`` (u,) the
    utterances' global indices."""

    index: int
    feats: np.ndarray
    labels: np.ndarray
    states: np.ndarray
    utt_starts: np.ndarray
    utts: np.ndarray

    def spliced(self, context: int) -> SplicedFrames:
        """Lazy spliced view of the shard's frames (splicing inside each utterance)."""
        return SplicedFrames(self.feats, self.utt_starts, context)


class ShardedCorpus:
    """A sharded corpus's index; ``shard(k)`` maps shard k. Per-utterance tables are in memory
    (``utt_ids``, ``voices``, ``utt_frames``, ``utt_shard``), frames never are."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            index = json.loads((self.path / INDEX).read_text(encoding="utf-8"))
            with np.load(self.path / UTTERANCES, allow_pickle=False) as z:
                self.utt_ids = tuple(str(s) for s in z["utt_ids"])
                self.voices = tuple(str(s) for s in z["voices"])
                self.utt_frames = np.asarray(z["frames"], dtype=np.int64)
                self.utt_shard = np.asarray(z["shard"], dtype=np.int64)
            if index.get("format") != FORMAT or index.get("version") != 1:
                raise ValueError("not a dnnlens-shards version 1 index")
            self.cfg = FeatureConfig.from_dict(index["features"])
            self.phone_set: PhoneSet = get_phone_set(index["phone_set"])
            self.shard_frames = np.array([s["frames"] for s in index["shards"]], dtype=np.int64)
            self.names = [str(s["name"]) for s in index["shards"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ShardError(N_("{path} is not a readable sharded corpus ({detail})."), path=self.path,
                             detail=" ".join(str(exc).split()) or type(exc).__name__) from None
        per_shard = np.bincount(self.utt_shard, weights=self.utt_frames, minlength=len(self.names))
        if len(self.utt_ids) != len(self.utt_frames) or not np.array_equal(per_shard, self.shard_frames):
            raise ShardError(N_("{path} is not a readable sharded corpus ({detail})."), path=self.path,
                             detail="the utterance table does not add up to the shards")
        # first utterance of every shard (utterances are stored shard by shard)
        self.shard_first_utt = np.searchsorted(self.utt_shard, np.arange(len(self.names)))

    @property
    def n_shards(self) -> int:
        return len(self.names)

    @property
    def n_frames(self) -> int:
        return int(self.shard_frames.sum())

    def __len__(self) -> int:
        return self.n_frames

    def shard_utts(self, k: int) -> np.ndarray:
        """(u,) global indices of shard k's utterances."""
        lo = self.shard_first_utt[k]
        hi = self.shard_first_utt[k + 1] if k + 1 < self.n_shards else len(self.utt_ids)
        return np.arange(lo, hi, dtype=np.int64)

    def shard(self, k: int) -> Shard:
        """Shard k, its three arrays memory-mapped (``numpy.load(mmap_mode="r")``), checked for shape."""
        base = self.path / self.names[k]
        try:
            feats = np.load(f"{base}.feats.npy", mmap_mode="r", allow_pickle=False)
            labels = np.load(f"{base}.labels.npy", mmap_mode="r", allow_pickle=False)
            states = np.load(f"{base}.states.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ShardError(N_("Shard {name} of {path} is unreadable ({detail})."), name=self.names[k],
                             path=self.path, detail=" ".join(str(exc).split())) from None
        n = int(self.shard_frames[k])
        if feats.shape != (n, self.cfg.n_channels) or labels.shape != (n,) or states.shape != (n,):
            raise ShardError(N_("Shard {name} of {path} is unreadable ({detail})."), name=self.names[k],
                             path=self.path, detail="its arrays do not have the indexed shapes")
        utts = self.shard_utts(k)
        starts = np.concatenate([[0], np.cumsum(self.utt_frames[utts])[:-1]]).astype(np.int64)
        return Shard(k, feats, labels, states, starts, utts)


class ShardCache:
    """At most ``keep`` shards mapped at once, least recently used dropped first (its mappings are
    released when the last reference goes). ``get(k)`` -> (Shard, extra) where ``extra`` is what
    ``prepare(shard)`` made of it once (e.g. a spliced view and its training frames)."""

    def __init__(self, corpus: ShardedCorpus, prepare: Callable[[Shard], object] | None = None, keep: int = 2):
        self.corpus, self.prepare, self.keep = corpus, prepare, keep
        self._open: OrderedDict[int, tuple[Shard, object]] = OrderedDict()

    def get(self, k: int) -> tuple[Shard, object]:
        if k in self._open:
            self._open.move_to_end(k)
            return self._open[k]
        while len(self._open) >= self.keep:
            self._open.popitem(last=False)
        shard = self.corpus.shard(k)
        item = (shard, self.prepare(shard) if self.prepare is not None else None)
        self._open[k] = item
        return item

    def clear(self) -> None:
        self._open.clear()


class ShardOrder:
    """An epoch's order over items grouped in shards (``counts[k]`` items in shard k, global item
    ``offsets[k] + j``): the shards in a random order, the items of each shard in a random order.

    Built from the epoch's generator (one permutation of the shards and one seed per shard drawn
    from it), sliced lazily: ``order[a:b]`` computes only the permutations of the shards it
    touches (the last ``keep`` kept), so an epoch's order never holds one entry per frame.
    ``len(order)`` is the number of items."""

    def __init__(self, counts: np.ndarray, rng: np.random.Generator, keep: int = 2):
        self.counts = np.asarray(counts, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        self.shards = rng.permutation(len(self.counts))
        self.seeds = rng.integers(0, 2**63 - 1, size=len(self.counts))
        self.ends = np.cumsum(self.counts[self.shards])  # end of each visited shard in the epoch
        self.keep = keep
        self._perms: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def _perm(self, k: int) -> np.ndarray:
        if k not in self._perms:
            while len(self._perms) >= self.keep:
                self._perms.popitem(last=False)
            self._perms[k] = np.random.default_rng(int(self.seeds[k])).permutation(int(self.counts[k]))
        return self._perms[k]

    def __getitem__(self, sl: slice) -> np.ndarray:
        if not isinstance(sl, slice) or sl.step not in (None, 1):
            raise TypeError("ShardOrder takes contiguous slices only")
        a, b, _ = sl.indices(len(self))
        out = []
        pos = a
        while pos < b:
            v = int(np.searchsorted(self.ends, pos, side="right"))  # visited shard holding pos
            start = int(self.ends[v] - self.counts[self.shards[v]])
            k = int(self.shards[v])
            hi = min(b, int(self.ends[v]))
            out.append(self.offsets[k] + self._perm(k)[pos - start : hi - start])
            pos = hi
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


# ---- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Which utterances (global order) go to which shard: ``order`` (U,) source utterance indices in
    stored order, ``shard`` (U,) their shard, ``frames`` (U,) their frame counts."""

    order: np.ndarray
    shard: np.ndarray
    frames: np.ndarray


def plan_shards(frames: np.ndarray, shard_frames: int = SHARD_FRAMES, seed: int = 0) -> _Plan:
    """Assign utterances of ``frames`` (U,) lengths to shards: a ``default_rng(seed)`` permutation,
    then shards filled in that order until each holds at least ``shard_frames`` frames (the last
    may hold fewer); each shard's utterances are kept in source order."""
    if shard_frames < 1:
        raise ShardError("A shard must hold at least one frame.")
    frames = np.asarray(frames, dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(len(frames))
    shard = np.zeros(len(frames), dtype=np.int64)
    k, filled = 0, 0
    for i in perm:
        if filled >= shard_frames:
            k, filled = k + 1, 0
        shard[i] = k
        filled += int(frames[i])
    order = np.lexsort((np.arange(len(frames)), shard))
    return _Plan(order, shard[order], frames[order])


def _save_npy(path: Path, a: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.save(f, a, allow_pickle=False)
    os.replace(tmp, path)


def _write_shard(out: Path, k: int, pieces: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int,
                 n_channels: int) -> None:
    """Write shard k from its utterances' (feats, labels, states), never holding more than the shard."""
    feats = np.empty((n, n_channels), dtype=np.float32)
    labels = np.empty(n, dtype=np.int16)
    states = np.empty(n, dtype=np.int8)
    pos = 0
    for f, lab, st in pieces:
        feats[pos : pos + len(f)], labels[pos : pos + len(f)], states[pos : pos + len(f)] = f, lab, st
        pos += len(f)
    if pos != n:
        raise ShardError("An utterance changed length while the corpus was being sharded.")
    base = out / _name(k)
    _save_npy(Path(f"{base}.feats.npy"), feats)
    _save_npy(Path(f"{base}.labels.npy"), labels)
    _save_npy(Path(f"{base}.states.npy"), states)


def _write_index(out: Path, plan: _Plan, ids: Sequence[str], voices: Sequence[str], cfg: FeatureConfig,
                 phone_set: PhoneSet) -> Path:
    n_shards = int(plan.shard.max()) + 1 if len(plan.shard) else 0
    per = np.bincount(plan.shard, weights=plan.frames, minlength=n_shards).astype(np.int64)
    utts = np.bincount(plan.shard, minlength=n_shards)
    tmp = out / (UTTERANCES + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, utt_ids=np.asarray([ids[i] for i in plan.order], dtype=str),
                 voices=np.asarray([voices[i] for i in plan.order], dtype=str),
                 frames=plan.frames.astype(np.int64), shard=plan.shard.astype(np.int32))
    os.replace(tmp, out / UTTERANCES)
    index = {"format": FORMAT, "version": 1, "features": cfg.to_dict(), "phone_set": phone_set.name,
             "frames": int(per.sum()), "utterances": len(ids),
             "shards": [{"name": _name(k), "frames": int(per[k]), "utterances": int(utts[k])}
                        for k in range(n_shards)]}
    (out / (INDEX + ".tmp")).write_text(json.dumps(index, indent=1), encoding="utf-8")
    os.replace(out / (INDEX + ".tmp"), out / INDEX)
    return out / INDEX


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(p.name != ".lock" for p in out.iterdir())):
        raise ShardError(N_("{out} exists and is not an empty folder; name a new one."), out=out)


def shard_frames_file(frames, out: str | Path, *, shard_frames: int = SHARD_FRAMES, seed: int = 0) -> Path:
    """Write a sharded copy of in-memory frames (``core.data.frames.CorpusFrames``, e.g. a loaded
    validation npz). Returns the index path."""
    out = Path(out)
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    starts = np.asarray(frames.utt_starts, dtype=np.int64)
    ends = np.append(starts[1:], len(frames.labels))
    plan = plan_shards(ends - starts, shard_frames, seed)
    for k in range(int(plan.shard.max()) + 1):
        utts = plan.order[plan.shard == k]
        pieces = ((frames.feats[starts[u]:ends[u]], frames.labels[starts[u]:ends[u]],
                   frames.states[starts[u]:ends[u]]) for u in utts)
        _write_shard(out, k, pieces, int((ends - starts)[utts].sum()), frames.feats.shape[1])
    return _write_index(out, plan, frames.utt_ids, frames.voices, frames.cfg, frames.phone_set)


def shard_corpus_dir(corpus_dir: str | Path, out: str | Path, cfg: FeatureConfig, *,
                     shard_frames: int = SHARD_FRAMES, seed: int = 0, rank: int = 0, world: int = 1,
                     barrier: Callable[[], None] | None = None) -> Path | None:
    """Write a sharded copy of a corpus folder (wav + lab + manifest.csv), one utterance at a time.

    Every rank plans the same shards from the audio headers; rank ``rank`` of ``world`` extracts
    shards ``rank, rank + world, ...``; after ``barrier()`` rank 0 writes the index (returns its
    path; other ranks None)."""
    import soundfile as sf

    from core.data.corpus import corpus_phone_set, read_manifest

    corpus_dir, out = Path(corpus_dir), Path(out)
    rows = read_manifest(corpus_dir)
    ids = [r["id"] for r in rows]
    phone_set = corpus_phone_set(corpus_dir)
    if rank == 0:
        _check_out(out)
        out.mkdir(parents=True, exist_ok=True)
    lengths = []
    for uid in ids:
        try:
            info = sf.info(str(corpus_dir / f"{uid}.wav"))
        except (OSError, RuntimeError):
            raise ShardError(N_("The corpus audio {path} is missing or unreadable."),
                             path=corpus_dir / f"{uid}.wav") from None
        if info.samplerate != cfg.samplerate or info.channels != 1:
            raise ShardError(N_("{name} is not {rate} Hz mono; re-import the corpus."), name=f"{uid}.wav",
                             rate=cfg.samplerate)
        lengths.append(n_frames_for(info.frames, cfg))
    plan = plan_shards(np.asarray(lengths), shard_frames, seed)
    if barrier is not None:
        barrier()  # rank 0 has made the folder

    def pieces(utts: np.ndarray):
        for u in utts:
            uid = ids[u]
            audio, _ = sf.read(str(corpus_dir / f"{uid}.wav"), dtype="float32")
            f = extract(audio, cfg)
            segs = read_lab(corpus_dir / f"{uid}.lab", phone_set=phone_set)
            yield (f, frame_labels(segs, len(f), cfg.winlen, cfg.winstep, phone_set=phone_set),
                   frame_states(segs, len(f), cfg.winlen, cfg.winstep))

    for k in range(rank, int(plan.shard.max()) + 1 if len(plan.shard) else 0, world):
        utts = plan.order[plan.shard == k]
        _write_shard(out, k, pieces(utts), int(plan.frames[plan.shard == k].sum()), cfg.n_channels)
    if barrier is not None:
        barrier()
    if rank != 0:
        return None
    return _write_index(out, plan, ids, [r.get("voice", "") for r in rows], cfg, phone_set)


__all__ = ["SHARD_FRAMES", "Shard", "ShardCache", "ShardError", "ShardOrder", "ShardedCorpus",
           "is_sharded", "plan_shards", "shard_corpus_dir", "shard_frames_file"]
