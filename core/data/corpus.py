"""A corpus folder: its manifest, its phone set, joining corpora, and loading it as labelled frames.

A corpus is ``<id>.wav`` (16 kHz mono 16-bit PCM) and ``<id>.lab`` (``core.phones`` format) per
utterance and ``manifest.csv`` (``id,voice,...``); ``core.data.synth`` synthesises one,
``core.data.importers`` imports one. A corpus names its phone set in ``corpus.json``
(``{"phone_set": "ja"}``, written by ``core.data.synth.openjtalk``), and a corpus without that file
is English.

Loading (``load_corpus``): every frame of every utterance with its phoneme and state labels, cached
in ``<corpus>/.frames_<kind>_<hash of the FeatureConfig>.npz`` (``CorpusFrames.save``'s format, the
one of the shipped validation sets, float32 and uncompressed, plus a fingerprint); the cache is rebuilt when it is
missing, unreadable or its fingerprint differs: SHA-256 of ``manifest.csv``'s bytes and of the size
and modification time (``os.stat``, ns) of every utterance's .wav and .lab, so a replaced, edited or
deleted file is read again (and a bad one raises CorpusError).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from core.data.frames import CorpusError, CorpusFrames, _first_line, npz_fingerprint
from core.features import FeatureConfig, extract, n_frames_for
from core.phones import ENGLISH, PhoneError, PhoneSet, frame_labels, frame_states, get_phone_set, read_lab

MANIFEST = "manifest.csv"

Progress = Callable[[int, int], None]


def read_manifest(corpus_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``manifest.csv`` as dicts (keys id, voice, text, seconds)."""
    path = Path(corpus_dir) / MANIFEST
    if not path.is_file():
        raise CorpusError(f"{corpus_dir} has no {MANIFEST}; make a corpus with `python -m core synth`.")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "id" not in rows[0]:
        raise CorpusError(f"{path} lists no utterances (it needs an 'id' column).")
    return rows


CORPUS_INFO = "corpus.json"


def corpus_phone_set(corpus_dir: str | Path) -> PhoneSet:
    """The phone set a corpus names in ``corpus.json`` (``phone_set``); English without that file."""
    path = Path(corpus_dir) / CORPUS_INFO
    if not path.is_file():
        return ENGLISH
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("phone_set")
        return get_phone_set(name)
    except (ValueError, AttributeError) as exc:  # bad JSON, not an object, unknown name
        raise CorpusError(f"{path} does not name a usable phone set ({_first_line(exc)}).") from None


def join_corpora(sources: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Make ``out_dir`` a corpus of every utterance of ``sources`` (in order), without copying audio.

    Each ``<id>.wav`` and ``<id>.lab`` becomes a relative symbolic link to its source file; the
    manifests are concatenated (their columns united, in order of first appearance; a column a source
    lacks is empty). The sources must share one phone set (``corpus.json`` is copied from the first
    that has one) and no utterance id. ``out_dir`` must be new or empty. Everything is checked before
    anything is written; the manifest is written last. Returns the manifest path.
    """
    out_dir = Path(out_dir)
    if len(sources) < 2:
        raise CorpusError("join-corpus needs at least two corpora.")
    named = [Path(src).resolve() for src in sources]
    twice = next((src for src, r in zip(sources, named, strict=True) if named.count(r) > 1), None)
    if twice is not None:
        raise CorpusError(f"{twice} is named twice; name each corpus once.")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CorpusError(f"{out_dir} exists and is not an empty folder; name a new one.")
    rows: list[dict[str, str]] = []
    files: list[tuple[Path, str]] = []
    columns: list[str] = []
    seen: dict[str, Path] = {}
    phone_set = None
    info_src = None
    for src in map(Path, sources):
        if src.resolve() == out_dir.resolve():
            raise CorpusError(f"{out_dir} is one of the corpora being joined.")
        these = read_manifest(src)
        ps = corpus_phone_set(src)
        if phone_set is None:
            phone_set = ps
        elif ps is not phone_set:
            raise CorpusError(f"{src} uses the {ps.name} phone set, {sources[0]} the {phone_set.name} one.")
        if info_src is None and (src / CORPUS_INFO).is_file():
            info_src = src / CORPUS_INFO
        for r in these:
            uid = r["id"]
            if uid in seen:
                raise CorpusError(f"Utterance {uid!r} is in both {seen[uid]} and {src}.")
            seen[uid] = src
            for name in (f"{uid}.wav", f"{uid}.lab"):
                if not (src / name).is_file():
                    raise CorpusError(f"{src / name} is missing: {src}'s manifest lists it.")
                files.append((src / name, name))
        columns += [c for c in these[0] if c not in columns]
        rows += these
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir.resolve()
    for path, name in files:
        os.symlink(os.path.relpath(path.resolve(), base), out_dir / name)
    if info_src is not None:
        shutil.copyfile(info_src, out_dir / CORPUS_INFO)
    manifest = out_dir / MANIFEST
    tmp = manifest.with_name(MANIFEST + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, manifest)
    return manifest


CACHE_VERSION = 2  # 2: CorpusFrames.save's format (the validation sets')
DEFAULT_FEATURES = FeatureConfig()  # MFBANK, 40 channels


def cache_path(corpus_dir: str | Path, cfg: FeatureConfig = DEFAULT_FEATURES) -> Path:
    """Where ``load_corpus`` keeps the frames of ``corpus_dir`` for ``cfg``."""
    d = cfg.to_dict()
    if d.get("utt_norm") == "none":  # the name caches had before per-utterance normalisation existed
        del d["utt_norm"]
    key = json.dumps({"v": CACHE_VERSION, **d}, sort_keys=True)
    return Path(corpus_dir) / f".frames_{cfg.kind}_{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"


def _fingerprint(corpus_dir: Path, ids: Sequence[str]) -> str:
    """SHA-256 of manifest.csv's bytes and of (size, mtime_ns) of every utterance's .wav and .lab."""
    h = hashlib.sha256((corpus_dir / MANIFEST).read_bytes())
    for uid in ids:
        for name in (f"{uid}.wav", f"{uid}.lab"):
            try:
                st = os.stat(corpus_dir / name)
                h.update(f"\n{name}\t{st.st_size}\t{st.st_mtime_ns}".encode())
            except OSError:
                h.update(f"\n{name}\tmissing".encode())
    return h.hexdigest()


def load_corpus(
    corpus_dir: str | Path, cfg: FeatureConfig = DEFAULT_FEATURES, progress: Progress | None = None
) -> CorpusFrames:
    """Frames, labels and states of every utterance in ``corpus_dir`` (cached; see module docstring).

    progress: called as ``progress(done_utterances, n_utterances)`` while extracting.
    """
    corpus_dir = Path(corpus_dir)
    rows = read_manifest(corpus_dir)
    ids = [r["id"] for r in rows]
    phone_set = corpus_phone_set(corpus_dir)
    fingerprint = _fingerprint(corpus_dir, ids)  # before reading: a file changed meanwhile is seen next time
    cache = cache_path(corpus_dir, cfg)
    if cache.is_file() and npz_fingerprint(cache) == fingerprint:
        try:
            hit = CorpusFrames.load(cache)
            if hit.cfg == cfg and hit.phone_set is phone_set:
                return hit
        except CorpusError:
            pass  # a damaged cache is rebuilt

    wavs = [corpus_dir / f"{uid}.wav" for uid in ids]
    sizes = []
    for wav in wavs:
        try:
            info = sf.info(str(wav))
        except (OSError, RuntimeError):  # soundfile raises LibsndfileError (a RuntimeError)
            raise CorpusError(f"The corpus audio {wav} is missing or unreadable.") from None
        if info.samplerate != cfg.samplerate or info.channels != 1:
            raise CorpusError(f"{wav.name} is not {cfg.samplerate} Hz mono; resynthesise the corpus.")
        sizes.append(n_frames_for(info.frames, cfg))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(starts[-1])
    feats = np.empty((n, cfg.n_channels), dtype=np.float32)
    labels = np.empty(n, dtype=np.int16)
    states = np.empty(n, dtype=np.int8)
    for u, (uid, wav) in enumerate(zip(ids, wavs, strict=True)):
        audio, _ = sf.read(str(wav), dtype="float32")
        f = extract(audio, cfg)
        if len(f) != sizes[u]:
            raise CorpusError(f"{wav.name} changed while the corpus was being read.")
        a, b = starts[u], starts[u + 1]
        feats[a:b] = f
        try:
            segs = read_lab(corpus_dir / f"{uid}.lab", phone_set=phone_set)
        except PhoneError as exc:
            raise CorpusError(f"Corpus labels: {exc}") from None
        labels[a:b] = frame_labels(segs, len(f), cfg.winlen, cfg.winstep, phone_set=phone_set)
        states[a:b] = frame_states(segs, len(f), cfg.winlen, cfg.winstep)
        if progress is not None and (u + 1 == len(ids) or (u + 1) % 50 == 0):
            progress(u + 1, len(ids))
    frames = CorpusFrames(
        feats=feats,
        labels=labels,
        states=states,
        utt_starts=starts[:-1],
        frame_utt=np.repeat(np.arange(len(ids), dtype=np.int32), sizes),
        utt_ids=tuple(ids), voices=tuple(r.get("voice", "") for r in rows), cfg=cfg, phone_set=phone_set,
    )
    _write_cache(cache, frames, fingerprint)
    return frames


def _write_cache(path: Path, frames: CorpusFrames, fingerprint: str) -> None:
    try:
        frames.save(path, compress=False, fingerprint=fingerprint)
    except OSError:  # a read-only corpus still loads, just without a cache
        pass
