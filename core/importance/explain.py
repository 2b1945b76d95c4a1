"""Why the pages' answers differ (issue 27): the figures of the "why these differ" block.

The pages answer different questions about the same phoneme, so they name different frequencies:

- the **importance map** of a phoneme p: sigma over the sample set's frames of dy_p/dx (every
  phoneme's frames by default). It is large where y_p changes from frame to frame, i.e. where p's
  frames and all the others differ: for /s/ that is mostly "voiced or not", below 400 Hz;
- the **pair** map of p and q: importance_p x importance_q x p_e, where both outputs depend on the
  input *and* the two phonemes' frames are distributed differently (what tells p from q);
- the **trust page**'s favoured method: the mean |attribution| of single frames (e.g. Integrated
  Gradients), what each frame's decision leans on, not how it varies;
- the **Fig 4 card**: the map of /s/'s middle state only, on the 3-state model.

This module computes, from what the pages already compute (importance vectors, the pair table,
the validation frames), where each answer lies and the class means that explain it. Maths only
(numpy in, frozen dataclasses out); the pages' block is ``app_state.explain``, its chart
``core.viz.explain``. Choices written down here:

- **Top cells**: the ``TOP_CELLS`` (10, the Findings cards' number) inputs with the largest value
  (importance; the pair's score; the method's map), ties in input order; their span in Hz.
- **Profile** of a map: its share per channel, summed over the time offsets (what the Fig 4
  card's chart draws). It is **flat** when its largest channel share is below ``FLAT_RATIO``
  (1.5) times its median channel share: no band carries half as much again as a typical channel.
- **Class means** are of the features the network sees before its global normalisation (log mel
  energies, minus each utterance's mean on a model with ``utt_norm="cmn"``), per channel, over the
  validation frames of a group; differences are in dB (10 / ln 10 per natural-log unit).
  "Other speech frames" of p: every frame whose label is neither silence nor p.
- **Low band**: channels whose centre is below ``LOW_HZ`` (400 Hz), where voicing (the
  fundamental and first harmonics) puts its energy; a flat map's share there is the share of
  channels there.
- **Release burst** of a stop (``STOPS``): the last ``BURST_FRAMES`` (2) frames (20 ms) of each of
  its segments (a run of frames with its label in one utterance). The synthetic voices' stop
  segments are closure then release: the segment's last frame is the loudest (the burst), its
  level falls by 5-10 dB per frame before it (measured on both shipped validation sets).
- **The paper's cue** for a pair with bands (b/d: 1 kHz and 1.5-1.6 kHz): the largest |mean
  difference| of the two phonemes (bursts, for stops) over the channels in the bands, against the
  largest over the other channels. The corpus *has* the cue when the first is at least
  ``CUE_SHARE`` (half) of the second; otherwise it lacks it (the two phonemes differ much more
  elsewhere, and that is where a network trained on it can tell them apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOP_CELLS = 10
FLAT_RATIO = 1.5
LOW_HZ = 400.0
BURST_FRAMES = 2
CUE_SHARE = 0.5
DB = 10.0 / np.log(10.0)
"""dB per natural-log unit of energy (``logfbank`` is the natural log)."""
STOPS = frozenset({"p", "b", "t", "d", "k", "g", "py", "by", "ky", "gy"})
"""Plosives of the English and Japanese phone sets (their frames are compared at the burst)."""


# ---------------------------------------------------------------------------------------------
# Pure pieces


def channel_profile(values: np.ndarray, n_channels: int) -> np.ndarray:
    """(C,) share of a map's total per channel, summed over the time offsets (|values|: a signed
    map counts by size). values: (input_dim,) time-major."""
    per = np.abs(np.asarray(values, np.float64)).reshape(-1, n_channels).sum(axis=0)
    total = per.sum()
    return per / total if total > 0 else np.full(n_channels, 1.0 / n_channels)


def peak_to_median(profile: np.ndarray) -> float:
    """Largest value of a profile over its median (1 = perfectly flat)."""
    p = np.asarray(profile, np.float64)
    med = float(np.median(p))
    return float(p.max() / med) if med > 0 else float("inf")


def is_flat(profile: np.ndarray, ratio: float = FLAT_RATIO) -> bool:
    """A profile is flat when its peak is below ``ratio`` times its median."""
    return peak_to_median(profile) < ratio


def top_inputs(values: np.ndarray, k: int = TOP_CELLS) -> np.ndarray:
    """Indices of the k largest values (ties: lower index first)."""
    return np.argsort(-np.asarray(values, np.float64), kind="stable")[:k]


@dataclass(frozen=True)
class Cells:
    """Where k top cells lie: their centre frequencies (Hz) and time offsets (frames)."""

    hz: tuple[float, ...]
    offsets: tuple[int, ...]

    @property
    def lo_hz(self) -> float:
        return min(self.hz)

    @property
    def hi_hz(self) -> float:
        return max(self.hz)

    def below(self, hz: float) -> int:
        """How many of the cells have a centre below ``hz``."""
        return sum(h < hz for h in self.hz)


def top_cells(values: np.ndarray, hz: np.ndarray, offsets: np.ndarray, k: int = TOP_CELLS) -> Cells:
    """The top k cells of a map; hz, offsets: (input_dim,) per input (``input_meaning``)."""
    idx = top_inputs(values, k)
    return Cells(tuple(float(hz[i]) for i in idx), tuple(int(offsets[i]) for i in idx))


def level_at(hz: np.ndarray, diff_db: np.ndarray, cells: Cells) -> float:
    """Mean of a per-channel level difference (C,) over the channels of some top cells (each cell
    counted once, so a channel with several cells counts several times)."""
    hz = np.asarray(hz, np.float64)
    return float(np.mean([diff_db[int(np.argmin(np.abs(hz - h)))] for h in cells.hz]))


def run_ends(labels: np.ndarray, frame_utt: np.ndarray) -> np.ndarray:
    """(N,) bool: the frame is the last of its run (the next frame has another label or utterance)."""
    labels, frame_utt = np.asarray(labels), np.asarray(frame_utt)
    end = np.ones(len(labels), bool)
    end[:-1] = (labels[1:] != labels[:-1]) | (frame_utt[1:] != frame_utt[:-1])
    return end


def burst_frames(labels: np.ndarray, frame_utt: np.ndarray, label: int, n: int = BURST_FRAMES) -> np.ndarray:
    """Indices of the last ``n`` frames of every run of ``label`` (fewer when a run is shorter)."""
    labels, frame_utt = np.asarray(labels), np.asarray(frame_utt)
    ends = np.flatnonzero(run_ends(labels, frame_utt) & (labels == label))
    out: list[int] = []
    for e in ends:
        for i in range(e, max(e - n, -1), -1):  # back from the run's end, inside the run
            if labels[i] != label or frame_utt[i] != frame_utt[e]:
                break
            out.append(int(i))
    return np.asarray(sorted(out), dtype=np.int64)


def class_mean(feats: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(C,) float64 mean of the frames ``idx`` of (N, C) features (NaN when there are none)."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return np.full(np.asarray(feats).shape[1], np.nan)
    return np.asarray(feats[idx], np.float64).mean(axis=0)


# ---------------------------------------------------------------------------------------------
# The stories


@dataclass(frozen=True, eq=False)
class MapStory:
    """Where a phoneme's map lies and the class means that explain it.

    hz: (C,) channel centres; profile: (C,) share of the importance per channel; diff_db: (C,)
    mean level of the phoneme's frames minus the other speech frames' (dB); cells: the map's top
    cells; ratio: the profile's peak / median; low_share: share of the importance below ``LOW_HZ``
    (flat_low_share: a flat map's); low_db: mean of diff_db over those channels; peak_hz / peak_db:
    the channel where the phoneme's frames are loudest against the others."""

    phone: str
    hz: np.ndarray
    profile: np.ndarray
    diff_db: np.ndarray
    cells: Cells
    ratio: float
    low_share: float
    flat_low_share: float
    low_db: float
    peak_hz: float
    peak_db: float
    n_frames: int
    n_other: int

    @property
    def flat(self) -> bool:
        return self.ratio < FLAT_RATIO


def map_story(phone: str, importance: np.ndarray, hz: np.ndarray, offsets: np.ndarray, n_channels: int,
              feats: np.ndarray, labels: np.ndarray, label: int, silence: int) -> MapStory:
    """The map of ``phone`` (importance (input_dim,), with ``hz`` and ``offsets`` per input) against
    the class means of its frames (``labels == label``) and of the other speech frames (neither
    ``label`` nor ``silence``) in ``feats`` (N, C) raw features."""
    labels = np.asarray(labels)
    own = np.flatnonzero(labels == label)
    other = np.flatnonzero((labels != label) & (labels != silence))
    ch_hz = np.asarray(hz, np.float64)[:n_channels]
    diff = DB * (class_mean(feats, own) - class_mean(feats, other))
    profile = channel_profile(importance, n_channels)
    low = ch_hz < LOW_HZ
    peak = int(np.nanargmax(diff)) if np.isfinite(diff).any() else 0
    return MapStory(
        phone, ch_hz, profile, diff, top_cells(importance, hz, offsets), peak_to_median(profile),
        float(profile[low].sum()), float(low.mean()), float(np.mean(diff[low])) if low.any() else float("nan"),
        float(ch_hz[peak]), float(diff[peak]), int(own.size), int(other.size),
    )


@dataclass(frozen=True, eq=False)
class PairStory:
    """Where a pair's top cells lie and how the two phonemes' frames differ per channel.

    diff_db: (C,) mean of b's frames minus a's (dB), over the release bursts when both are stops
    (``burst``); cells: the top cells by score; in_band: (C,) the channels in the paper's bands
    (all False when the pair has none); band_max / other_max: the largest |diff_db| in / outside
    them (NaN without bands), other_hz: where the latter lies; top_db: mean diff_db at the top
    cells' channels (> 0: b is louder there)."""

    a: str
    b: str
    hz: np.ndarray
    diff_db: np.ndarray
    cells: Cells
    burst: bool
    in_band: np.ndarray
    band_max: float
    other_max: float
    other_hz: float
    top_db: float
    n_a: int
    n_b: int

    @property
    def has_bands(self) -> bool:
        return bool(self.in_band.any())

    @property
    def cue(self) -> bool | None:
        """The corpus has the paper's cue (None: the pair has no bands)."""
        if not self.has_bands:
            return None
        return bool(self.band_max >= CUE_SHARE * self.other_max)


def pair_story(a: str, b: str, score: np.ndarray, hz: np.ndarray, offsets: np.ndarray, n_channels: int,
               feats: np.ndarray, labels: np.ndarray, frame_utt: np.ndarray, label_a: int, label_b: int,
               in_band: Sequence[bool] | None = None) -> PairStory:
    """The pair (a, b) from its score per input (the pair page's ``score`` column) and the two
    phonemes' frames; ``in_band``: (C,) the channels in the paper's bands (None: no bands)."""
    ch_hz = np.asarray(hz, np.float64)[:n_channels]
    burst = a in STOPS and b in STOPS
    if burst:
        ia, ib = burst_frames(labels, frame_utt, label_a), burst_frames(labels, frame_utt, label_b)
        n_a = int(np.sum(run_ends(labels, frame_utt) & (np.asarray(labels) == label_a)))
        n_b = int(np.sum(run_ends(labels, frame_utt) & (np.asarray(labels) == label_b)))
    else:
        ia, ib = np.flatnonzero(np.asarray(labels) == label_a), np.flatnonzero(np.asarray(labels) == label_b)
        n_a, n_b = int(ia.size), int(ib.size)
    diff = DB * (class_mean(feats, ib) - class_mean(feats, ia))
    band = np.zeros(n_channels, bool) if in_band is None else np.asarray(in_band, bool)
    mag = np.abs(diff)
    band_max = float(mag[band].max()) if band.any() else float("nan")
    out = ~band
    j = int(np.flatnonzero(out)[np.argmax(mag[out])]) if out.any() else 0
    cells = top_cells(score, hz, offsets)
    return PairStory(a, b, ch_hz, diff, cells, burst, band, band_max, float(mag[j]), float(ch_hz[j]),
                     level_at(ch_hz, diff, cells), n_a, n_b)
