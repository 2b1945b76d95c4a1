"""What an aligner returns and how frames map to times: ``Alignment`` (phone and word segments),
the 10 ms frame step and the boundaries between frames (``frame_edges``), the minimum duration of
a phone and the "too long a transcript" check (``core.voice.align``'s docstring gives the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.models.inference import AlignError
from core.phones import Segment
from core.text import N_

FRAME_STEP = 0.010  # s, network and pocketsphinx
_FIRST_BOUNDARY = 0.0075  # s: half way between the centres of frames 0 and 1 (25 ms windows)
MIN_FRAMES = 3


@dataclass(frozen=True)
class Alignment:
    """Phone and word segments of one recording, from one aligner. Word segments carry the word in
    ``Segment.phone``; silences between words are not word segments."""

    phones: tuple[Segment, ...]
    words: tuple[Segment, ...]
    aligner: str
    duration: float
    seconds: float = field(default=0.0, compare=False)  # time the aligner took

    def to_json(self) -> list[dict]:
        """``[{phone, start, end}, ...]`` with times in seconds rounded to 0.1 ms."""
        return segments_json(self.phones)


def segments_json(segments: Sequence[Segment]) -> list[dict]:
    return [{"phone": s.phone, "start": round(s.start, 4), "end": round(s.end, 4)} for s in segments]


def _check_length(n_phones: int, n_frames: int, min_frames: int) -> None:
    need = n_phones * min_frames
    if need > n_frames:
        raise AlignError(
            N_(
                "The transcript has {n} phonemes, which need at least {need:.2f} s of speech, but the "
                "recording lasts {s:.2f} s: the transcript is too long for this recording."
            ),
            n=n_phones,
            need=need * FRAME_STEP,
            s=n_frames * FRAME_STEP,
        )


def frame_edges(n_frames: int, duration: float) -> np.ndarray:
    """(n_frames + 1,) boundary times in s: 0, then half way between frame centres, then ``duration``."""
    edges = _FIRST_BOUNDARY + FRAME_STEP * np.arange(n_frames + 1, dtype=np.float64)
    edges[0] = 0.0
    edges[-1] = max(duration, edges[-2] if n_frames > 1 else 0.0)
    return edges


def label_runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """(first frame, frame after the last) of each run of equal values in (n_frames,) ``labels``."""
    labels = np.asarray(labels)
    cuts = np.flatnonzero(np.diff(labels)) + 1
    return list(zip(np.concatenate([[0], cuts]).tolist(), np.concatenate([cuts, [len(labels)]]).tolist(), strict=True))


def runs_to_segments(labels: np.ndarray, names: Sequence[str], duration: float) -> list[Segment]:
    """Frame labels (n_frames,) int -> one Segment per run of equal labels (frame_edges times)."""
    labels = np.asarray(labels)
    edges = frame_edges(len(labels), duration)
    return [Segment(float(edges[a]), float(edges[b]), names[int(labels[a])]) for a, b in label_runs(labels)]
