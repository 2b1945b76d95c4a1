"""Vocal tract length normalisation at test time, without labels (VTLN).

A voice with a shorter vocal tract (most women's and children's) has its formants higher than the
voices a network was trained on; the network then hears the wrong vowels. VTLN warps the
frequency axis of the features of such a voice so that its formants fall where the network expects
them. The warp is chosen without a transcript: among ``WARPS`` (0.80-1.25), the one under which the
network is the most confident, i.e. whose **mean top posterior** over all the frames is the
highest (ties go to the warp nearest 1). ``bench/vtln.py`` measures it on voices the models never
heard (docs/MODELS.md: a female voice unheard by models trained on male ones goes from 0.31-0.35
to 0.59-0.63 frame accuracy).

Convention: a warp ``alpha`` means that every channel of the filterbank reads the recording's
energy at ``alpha`` times its centre frequency (alpha > 1 for a voice whose formants are higher:
its formants move down by that factor). It is made by the features' own warped filterbank
(``core.features.extract(..., warp=1/alpha)``: VTLP's piecewise-linear warp, fixed at 0 Hz and at
the Nyquist frequency), so it applies to MFBANK and MFCC models alike, before the per-utterance
normalisation. ``core.adapt``'s warp search uses the same ``alpha`` on normalised MFBANK channels
(``warp_matrix``) as the starting point of a learnt map; its choice uses labels.

What "the input" of an importance map is under VTLN: the model's usual normalised features,
computed with the warped filterbank: input (t, c) is then the recording's log energy around
``alpha`` times channel c's centre frequency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WARPS: tuple[float, ...] = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25)


@dataclass(frozen=True)
class WarpChoice:
    """The chosen warp and the network's mean top posterior under each warp tried."""

    warp: float
    warps: tuple[float, ...]
    confidence: tuple[float, ...]
    frames: int

    @property
    def confidence_at_one(self) -> float:
        """Mean top posterior without a warp (NaN when 1 was not tried)."""
        return self.confidence[self.warps.index(1.0)] if 1.0 in self.warps else float("nan")

    @property
    def best_confidence(self) -> float:
        return self.confidence[self.warps.index(self.warp)]


def filterbank_warp(alpha: float) -> float:
    """``core.features.extract``'s VTLP factor for a VTLN warp ``alpha`` (its inverse)."""
    return 1.0 / float(alpha)


def mean_top_posterior(posteriors: np.ndarray) -> float:
    """Mean over frames of the highest posterior (NaN for no frames)."""
    return float(np.max(posteriors, axis=1).mean()) if len(posteriors) else float("nan")


def choose_warp(net, info, signals: Sequence[np.ndarray], warps: Sequence[float] = WARPS) -> WarpChoice:
    """The warp of ``warps`` with the highest mean top posterior over the frames of all
    ``signals`` (16 kHz mono recordings of one voice; a state model's states summed per phone).
    One feature extraction and one forward pass per warp and recording."""
    from core.align import phone_posteriors

    warps = tuple(float(a) for a in warps)
    if not warps or not signals:
        raise ValueError("choose_warp needs at least one warp and one recording")
    conf = []
    n = 0
    for a in warps:
        tops = [np.max(phone_posteriors(net, info, s, warp=a), axis=1) for s in signals]
        n = sum(len(t) for t in tops)
        conf.append(float(np.concatenate(tops).mean()))
    return WarpChoice(pick(warps, conf), warps, tuple(conf), n)


def pick(warps: Sequence[float], confidence: Sequence[float]) -> float:
    """The warp with the highest confidence; of equal ones (to 1e-9), the nearest to 1."""
    best = max(range(len(warps)), key=lambda i: (round(float(confidence[i]), 9), -abs(math.log(warps[i]))))
    return float(warps[best])
