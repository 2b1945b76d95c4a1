"""Frame labels: the phone class and the state (third of its segment) of every feature frame.

Frame labels follow docs/ARCHITECTURE.md: frame ``t`` covers ``[t*winstep, t*winstep + winlen)``
and takes the phone whose segment contains its centre ``t*winstep + winlen/2``. A segment owns
``[start, end)``: a centre exactly on a boundary belongs to the later segment. Times are compared
after rounding to 100 ns (HTK's unit), so a boundary written as ``0.0225`` holds the centre of
frame 1 exactly. A centre in a gap between segments (or before the first) takes the following
segment; centres after the last end take the last segment.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.phones.labels import _TICKS, Segment, _checked
from core.phones.sets import PhoneError, PhoneSet, get_phone_set


def _frame_segments(
    segs: list[Segment], n_frames: int, winlen: float, winstep: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(segment index per frame, centre, start, end of that segment); times in 100-ns ticks."""
    if n_frames < 0:
        raise PhoneError("The number of frames must be 0 or more.")
    if winstep <= 0 or winlen <= 0:
        raise PhoneError("Window length and step must be positive.")
    starts = np.array([round(s.start * _TICKS) for s in segs], dtype=np.int64)
    ends = np.array([round(s.end * _TICKS) for s in segs], dtype=np.int64)
    centres = np.round((np.arange(n_frames) * winstep + winlen / 2) * _TICKS).astype(np.int64)
    idx = np.minimum(np.searchsorted(ends, centres, side="right"), len(segs) - 1)
    return idx, centres, starts[idx], ends[idx]


def frame_labels(
    segments: Iterable[Segment],
    n_frames: int,
    winlen: float = 0.025,
    winstep: float = 0.01,
    phone_set: PhoneSet | None = None,
) -> np.ndarray:
    """(n_frames,) int16 class indices into ``phone_set.phones`` (English by default): the phone
    whose segment holds each frame centre.

    Centre of frame t: ``t*winstep + winlen/2`` s. Boundaries belong to the later segment; centres
    past the last end take the last segment; every frame gets a label. Phones must be classes of
    the phone set.
    """
    ps = get_phone_set(phone_set)
    segs = _checked(segments)
    classes = np.array([ps.index(s.phone) for s in segs], dtype=np.int16)
    idx, _, _, _ = _frame_segments(segs, n_frames, winlen, winstep)
    return classes[idx]


def frame_states(
    segments: Iterable[Segment], n_frames: int, winlen: float = 0.025, winstep: float = 0.01
) -> np.ndarray:
    """(n_frames,) int8 state 0/1/2: the third of its segment in which each frame centre falls.

    A centre at exactly 1/3 (2/3) of the segment is in state 1 (2). Centres before their segment's
    start (gaps) are state 0; centres past the last end, and zero-length segments, are state 2.
    """
    _, centres, start, end = _frame_segments(_checked(segments), n_frames, winlen, winstep)
    length = end - start
    third = np.where(length > 0, (3 * (centres - start)) // np.maximum(length, 1), 2)
    return np.clip(third, 0, 2).astype(np.int8)


def run_states(labels: np.ndarray) -> np.ndarray:
    """(n_frames,) int8 state 0/1/2 of frame labels (one label per frame): the third of its run of
    equal labels in which each frame falls (``frame_states`` for frames instead of segments)."""
    lab = np.asarray(labels)
    run_start = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]]) if lab.size else np.zeros(0, np.int64)
    run_len = np.diff(np.r_[run_start, len(lab)])
    pos = np.arange(len(lab)) - np.repeat(run_start, run_len)
    return np.minimum((3 * pos) // np.repeat(run_len, run_len), 2).astype(np.int8)
