"""How good an alignment is: agreement with the network's posteriors, boundary errors against a
reference, and the share of the speech a forced alignment calls silence (a wrong transcript)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

from core.audio import LEVEL_STEP, LEVEL_WINDOW, SAMPLE_RATE, frame_signal
from core.phones import ENGLISH, JAPANESE, PHONES, SILENCE, Segment, frame_labels
from core.voice.align.segments import Alignment


def agreement(posteriors: np.ndarray, segments: Sequence[Segment], phone_names: Sequence[str] = PHONES
              ) -> tuple[float, float]:
    """(share of frames whose argmax is the aligned phone, mean posterior of the aligned phone)."""
    post = np.asarray(posteriors)
    index = {p: i for i, p in enumerate(phone_names)}
    # The segments' phones are classes of one phone set: English, or Japanese when they are not English.
    ps = ENGLISH if all(s.phone in ENGLISH for s in segments) else JAPANESE
    lab = frame_labels(segments, len(post), phone_set=ps)
    aligned = np.array([index.get(ps.phones[i], -1) for i in lab])
    ok = aligned >= 0
    if not ok.any():
        return 0.0, 0.0
    hit = post.argmax(axis=1) == aligned
    mean_p = post[np.flatnonzero(ok), aligned[ok]]
    return float(hit[ok].mean()), float(mean_p.mean())


def _boundaries(segs: Sequence[Segment]) -> list[tuple[str, str, float]]:
    return [(a.phone, b.phone, b.start) for a, b in zip(segs, segs[1:], strict=False)]


def boundary_errors(reference: Sequence[Segment], hypothesis: Sequence[Segment]) -> np.ndarray:
    """Errors in s of the reference boundaries that can be matched in the hypothesis (``core.voice.align``'s docstring)."""
    ref = [s for s in reference if s.end > s.start]
    hyp = [s for s in hypothesis if s.end > s.start]
    sm = difflib.SequenceMatcher(None, [s.phone for s in ref], [s.phone for s in hyp], autojunk=False)
    match = {}
    for a, b, n in sm.get_matching_blocks():
        for k in range(n):
            match[a + k] = b + k
    errs = []
    for i in range(1, len(ref)):
        if ref[i - 1].phone == SILENCE == ref[i].phone:
            continue
        j0, j1 = match.get(i - 1), match.get(i)
        if j0 is not None and j1 == j0 + 1:
            errs.append(abs(ref[i].start - hyp[j1].start))
    return np.asarray(errs, dtype=np.float64)


LOUD_DB = 30.0
"""Frames within this many dB of a recording's loudest frame count as speech in ``silent_speech_share``."""
MISMATCH_SHARE = 0.2
"""A forced alignment that puts at least this share of the speech in silence suggests a wrong
transcript (the Your voice page asks). Above the largest share with right transcripts in
``bench/mismatch.py`` (0.15, a formant-synthesised voice; docs/BENCHMARKS.md). Out of sample: no
false alarm on 85 synthetic sentences not used for the choice, 8.9 % on 146 real one-word
recordings (docs/BENCHMARKS.md, "A transcript that does not match")."""


def silent_speech_share(signal: np.ndarray, alignment: Alignment) -> float:
    """The share of the recording's loud frames (``core.audio.LEVEL_WINDOW`` windows every
    ``LEVEL_STEP``, whose energy is within
    ``LOUD_DB`` of the loudest one) that ``alignment`` labels silence. Near 0 when the transcript
    says what was recorded; a forced alignment to the wrong words squeezes them into part of the
    speech and calls the rest silence (she_sells.wav: 0.00 with its words, 0.33 with "the cat";
    tests/test_pages_voice.py)."""
    x = np.asarray(signal, dtype=np.float64)
    hop, win = int(SAMPLE_RATE * LEVEL_STEP), int(SAMPLE_RATE * LEVEL_WINDOW)
    if len(x) < win:
        return 0.0
    frames = frame_signal(x, win, hop)
    n = len(frames)
    energy = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = energy > energy.max() - LOUD_DB
    centre = (np.arange(n) * hop + win / 2) / SAMPLE_RATE
    silent = np.zeros(n, bool)
    for seg in alignment.phones:
        if seg.phone == "sil":
            silent |= (centre >= seg.start) & (centre < seg.end)
    return float((silent & loud).sum() / max(1, loud.sum()))
