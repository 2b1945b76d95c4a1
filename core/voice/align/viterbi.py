"""Reading phones off the network's posteriors: forced alignment of a transcript by Viterbi with a
minimum duration per phone (``align_network``), and decoding without a transcript (``decode``);
``core.voice.align``'s docstring gives the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.models.inference import AlignError
from core.phones import PHONES, SILENCE, PhoneSet, Segment
from core.text import N_
from core.voice.align.pronunciation import Word, pronounce
from core.voice.align.segments import (
    MIN_FRAMES,
    Alignment,
    _check_length,
    frame_edges,
    label_runs,
    runs_to_segments,
)


@dataclass(frozen=True)
class _Unit:
    phone: int
    optional: bool
    word: int  # index of the word, -1 for a silence


def _units(words: Sequence[Word], phone_names: Sequence[str], silences: bool) -> list[_Unit]:
    index = {p: i for i, p in enumerate(phone_names)}
    if SILENCE not in index:
        raise AlignError(N_("The model has no silence output, so it cannot align."))
    sil = index[SILENCE]
    units: list[_Unit] = []
    for w, word in enumerate(words):
        if silences or w == 0:
            units.append(_Unit(sil, True, -1))
        for p in word.phones:
            if p not in index:
                raise AlignError(N_("The model has no output for the phoneme /{p}/ of “{word}”."), p=p, word=word.text)
            units.append(_Unit(index[p], False, w))
    units.append(_Unit(sil, True, -1))
    return units


def viterbi_units(logp: np.ndarray, units: Sequence[_Unit], min_frames: int) -> np.ndarray:
    """Unit index (into ``units``) of every frame of the best left-to-right path.

    logp: (T, n_classes) log posteriors. Each unit is a chain of ``min_frames`` states (the last one
    loops); an optional unit may be skipped. Raises AlignError when no path fits in T frames.
    """
    T = len(logp)
    m = int(min_frames)
    U = len(units)
    S = U * m
    emit_cls = np.repeat([u.phone for u in units], m)
    first = np.arange(U) * m
    last = first + m - 1
    # Predecessors of each state: a = itself (last states only), b = previous state, c = skip.
    self_ok = np.zeros(S, bool)
    self_ok[last] = True
    prev = np.arange(S) - 1  # previous state; for a first state that is the previous unit's last
    skip = np.full(S, -1)
    for j in range(2, U):
        if units[j - 1].optional:
            skip[first[j]] = last[j - 2]
    neg = -np.inf
    init = np.full(S, neg)
    init[0] = 0.0
    if units[0].optional and U > 1:
        init[first[1]] = 0.0
    delta = init + logp[0, emit_cls]
    back = np.zeros((T, S), np.int8)
    prev_c = np.clip(prev, 0, None)
    skip_c = np.clip(skip, 0, None)
    has_prev = prev >= 0
    has_skip = skip >= 0
    for t in range(1, T):
        a = np.where(self_ok, delta, neg)
        b = np.where(has_prev, delta[prev_c], neg)
        c = np.where(has_skip, delta[skip_c], neg)
        stack = np.stack([a, b, c])
        choice = np.argmax(stack, axis=0)
        back[t] = choice
        delta = stack[choice, np.arange(S)] + logp[t, emit_cls]
    ends = [last[U - 1]] + ([last[U - 2]] if units[U - 1].optional and U > 1 else [])
    end = max(ends, key=lambda s: delta[s])
    if not np.isfinite(delta[end]):
        raise AlignError(N_("The transcript does not fit in this recording: it is too long for the audio."))
    path = np.empty(T, np.int64)
    s = end
    for t in range(T - 1, -1, -1):
        path[t] = s
        ch = back[t, s]
        s = s if ch == 0 else (prev[s] if ch == 1 else skip[s])
    return path // m


def align_network(
    posteriors: np.ndarray,
    text: str,
    duration: float,
    phone_names: Sequence[str] = PHONES,
    *,
    min_frames: int = MIN_FRAMES,
    silences: bool = True,
    phone_set: PhoneSet | str | None = None,
) -> Alignment:
    """Forced alignment of ``text`` by Viterbi on the network's log posteriors (``core.voice.align``'s docstring).

    posteriors: (n_frames, len(phone_names)) phone posteriors (``phone_posteriors``);
    duration: the recording's length in s (the last segment ends there). phone_set: the language
    of the transcript's pronunciations (English by default; ``info.phone_set`` of the model).
    """
    import time

    t0 = time.perf_counter()
    if min_frames < 1:
        raise AlignError("The minimum duration must be at least one frame.")
    words = pronounce(text, phone_set)
    units = _units(words, phone_names, silences)
    n_frames = len(posteriors)
    _check_length(sum(len(w.phones) for w in words), n_frames, min_frames)
    logp = np.log(np.maximum(np.asarray(posteriors, dtype=np.float64), 1e-30))
    unit_of_frame = viterbi_units(logp, units, min_frames)
    edges = frame_edges(n_frames, duration)
    phones, word_spans = [], {}
    for a, b in label_runs(unit_of_frame):
        u = units[int(unit_of_frame[a])]
        seg = Segment(float(edges[a]), float(edges[b]), phone_names[u.phone])
        phones.append(seg)
        if u.word >= 0:
            lo, hi = word_spans.get(u.word, (seg.start, seg.end))
            word_spans[u.word] = (min(lo, seg.start), max(hi, seg.end))
    word_segs = tuple(Segment(lo, hi, words[w].text) for w, (lo, hi) in sorted(word_spans.items()))
    return Alignment(tuple(phones), word_segs, "network", duration, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Decoding without a transcript


@dataclass(frozen=True)
class Decoded:
    """A decoded phone: ``segment`` and the mean posterior of its phone over its frames."""

    segment: Segment
    mean_posterior: float


def decode(
    posteriors: np.ndarray, duration: float, phone_names: Sequence[str] = PHONES, *, min_frames: int = MIN_FRAMES
) -> tuple[Decoded, ...]:
    """The network's phone sequence without a transcript: frame argmax, repeats merged, runs shorter
    than ``min_frames`` given to a neighbour (``core.voice.align``'s docstring)."""
    post = np.asarray(posteriors, dtype=np.float64)
    if post.ndim != 2 or len(post) == 0:
        raise AlignError("There are no frames to decode.")
    labels = post.argmax(axis=1)
    runs = [[int(labels[0]), 0, 1]]
    for t in range(1, len(labels)):
        if labels[t] == runs[-1][0]:
            runs[-1][2] = t + 1
        else:
            runs.append([int(labels[t]), t, t + 1])
    while len(runs) > 1:
        lengths = [r[2] - r[1] for r in runs]
        k = int(np.argmin(lengths))
        if lengths[k] >= min_frames:
            break
        a, b = runs[k][1], runs[k][2]
        cands = [j for j in (k - 1, k + 1) if 0 <= j < len(runs)]
        j = max(cands, key=lambda j: post[a:b, runs[j][0]].sum())
        if j < k:
            runs[j][2] = b
        else:
            runs[j][1] = a
        del runs[k]
        merged = [runs[0]]
        for r in runs[1:]:
            if r[0] == merged[-1][0]:
                merged[-1][2] = r[2]
            else:
                merged.append(r)
        runs = merged
    labels = np.empty(len(post), dtype=np.int64)
    for c, a, b in runs:
        labels[a:b] = c
    segments = runs_to_segments(labels, phone_names, duration)  # one per run: neighbouring runs differ
    return tuple(Decoded(seg, float(post[a:b, c].mean())) for seg, (c, a, b) in zip(segments, runs, strict=True))
