"""A student's own recording against the corpus: their frames of two phonemes (from an alignment)
as a sample set, the values of one input over them, and the pair map recomputed on them.

The student's inputs are the network's inputs for the recording (``core.models.inference.network_inputs``:
features, 35-frame splicing, the model's normaliser), so a value is on the same normalised z axis
as the corpus densities of the pair page. A frame belongs to the phoneme an alignment puts at its
centre (``core.phones.frame_labels``).

The pair map on the student's frames is the corpus pair map's computation (METHOD.md section 4)
with another sample set: importance = the statistic of the gradient of each phoneme's output over
the student's frames of the two phonemes; p_e from histograms of the student's frames of each
phoneme (``core.importance.overlap.class_histograms``). With few frames both are noisy: the map is only drawn
when each phoneme has at least ``MIN_FRAMES`` frames (10 frames = 100 ms of speech).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.importance import gradient_stats
from core.importance.overlap import class_histograms
from core.importance.pairs import pair_table
from core.phones import ENGLISH, PhoneSet, Segment, frame_labels
from core.text import N_, UserError

MIN_FRAMES = 10
"""Frames each phoneme needs (in the student's recording) before its pair map is drawn."""


class CompareError(UserError):
    """A comparison that cannot be made (too few frames, a phoneme the model lacks); one sentence."""


@dataclass(frozen=True)
class StudentFrames:
    """The recording's network inputs (n_frames, D) and the aligned phoneme of each frame (index
    into the phone set's phones, the label space of the model's validation set)."""

    inputs: np.ndarray
    labels: np.ndarray
    phone_set: PhoneSet = ENGLISH

    def count(self, phone: str) -> int:
        return int(np.count_nonzero(self.labels == self.phone_set.phones.index(phone)))

    def counts(self) -> dict[str, int]:
        """Frames per aligned phoneme (those with at least one frame), most frames first."""
        ids, n = np.unique(self.labels, return_counts=True)
        out = {self.phone_set.phones[i]: int(c) for i, c in zip(ids, n, strict=True)}
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def values(self, phone: str, input_index: int) -> np.ndarray:
        """The input's normalised values over the phoneme's frames."""
        return self.inputs[self.labels == self.phone_set.phones.index(phone), int(input_index)].astype(np.float64)


def student_frames(inputs: np.ndarray, segments: Sequence[Segment], phone_set: PhoneSet = ENGLISH) -> StudentFrames:
    """The recording's network inputs labelled by an alignment's segments (phones of ``phone_set``)."""
    inputs = np.asarray(inputs)
    labels = frame_labels(segments, len(inputs), phone_set=phone_set)
    return StudentFrames(inputs, np.asarray(labels, dtype=np.int64), phone_set)


def student_pair_table(net, info, sf: StudentFrames, a: str, b: str, *, stat: str = "std",
                       output: str = "posterior", bins: int = 30) -> pd.DataFrame:
    """The pair table (``core.importance.pairs.pair_table``) of phonemes a and b over the student's frames of a
    and b: importances from the gradients there, p_e from the student's histograms.

    Raises CompareError when either phoneme has fewer than MIN_FRAMES frames or the model lacks it."""
    for p in (a, b):
        if p not in sf.phone_set.phones or p not in info.phones:
            raise CompareError(N_("The model has no output for /{p}/."), p=p)
        if sf.count(p) < MIN_FRAMES:
            raise CompareError(
                N_("/{p}/ has {n} frames in this recording; the pair map needs at least {min} of each phoneme "
                   "(say words with more of it, or a longer recording)."),
                p=p,
                n=sf.count(p),
                min=MIN_FRAMES,
            )
    phones = list(sf.phone_set.phones)
    la, lb = phones.index(a), phones.index(b)
    idx = np.flatnonzero((sf.labels == la) | (sf.labels == lb))
    x, labels = sf.inputs[idx], sf.labels[idx]
    stats = gradient_stats(net, x, labels, [info.outputs_of(a), info.outputs_of(b)], output=output,
                           n_labels=len(phones))
    imp = stats.stat(stat)
    hist = class_histograms(x, labels, n_labels=len(phones), bins=bins, names=phones)
    eps, p_e = hist.overlap(la, lb)
    return pair_table(info.features, imp[0], imp[1], p_e, eps)
