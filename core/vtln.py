"""Vocal tract length normalisation at test time, without labels (VTLN).

A voice with a shorter vocal tract (most women's and children's) has its formants higher than the
voices a network was trained on; the network then hears the wrong vowels. VTLN warps the
frequency axis of the features of such a voice so that its formants fall where the network expects
them. The warp is chosen without a transcript: among ``WARPS`` (0.80-1.25), the one under which the
network is the most confident, i.e. whose **mean top posterior** over all the frames is the
highest (ties go to the warp nearest 1). ``bench/vtln.py`` measures it on voices the models never
heard (docs/MODELS.md: the female speaker, unheard by models trained on four male ones, goes from
0.31-0.35 to 0.61-0.62 frame accuracy with a warp per voice, 0.57-0.59 with one per recording).

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
CHOICE_STRIDE = 3
"""The choice reads every third frame of each recording (frames 0, 3, 6, ...): neighbouring 10 ms
frames share 34 of their 35 input frames, and the forward passes are most of the cost (ten warps:
about 7 times the posteriors' time with every frame)."""


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
    ``signals`` (16 kHz mono recordings of one voice; every ``CHOICE_STRIDE``-th frame; a state
    model's states summed per phone). One feature extraction and one forward pass per warp and
    recording; ``frames`` in the result counts the frames read."""
    from core.activations import predict_proba
    from core.align import network_inputs

    warps = tuple(float(a) for a in warps)
    if not warps or not signals:
        raise ValueError("choose_warp needs at least one warp and one recording")
    conf = []
    n = 0
    for a in warps:
        tops = []
        for s in signals:
            post = predict_proba(net, network_inputs(info, s, warp=a)[::CHOICE_STRIDE])
            if info.targets == "state":
                post = post.reshape(len(post), -1, 3).sum(axis=2)
            tops.append(post.max(axis=1))
        n = sum(len(t) for t in tops)
        conf.append(float(np.concatenate(tops).mean()))
    return WarpChoice(pick(warps, conf), warps, tuple(conf), n)


def pick(warps: Sequence[float], confidence: Sequence[float]) -> float:
    """The warp with the highest confidence; of equal ones (to 1e-9), the nearest to 1."""
    best = max(range(len(warps)), key=lambda i: (round(float(confidence[i]), 9), -abs(math.log(warps[i]))))
    return float(warps[best])


@dataclass(frozen=True)
class VoiceWarps:
    """One voice's frames of a labelled corpus classified under every warp: ``hits`` (T, W) whether
    the top phone is the label, ``tops`` (T, W) the top posterior, ``frame_utt`` (T,) the utterance
    of each frame (0..n-1 in corpus order)."""

    voice: str
    warps: tuple[float, ...]
    hits: np.ndarray
    tops: np.ndarray
    frame_utt: np.ndarray

    def accuracy(self, warp: float = 1.0) -> float:
        return float(self.hits[:, self.warps.index(warp)].mean())

    def _read(self) -> np.ndarray:
        """(T,) bool: the frames the choice reads (every CHOICE_STRIDE-th of each utterance)."""
        starts = np.flatnonzero(np.diff(self.frame_utt, prepend=-1))
        index = np.arange(len(self.frame_utt)) - np.repeat(starts, np.diff(np.append(starts, len(self.frame_utt))))
        return index % CHOICE_STRIDE == 0

    @property
    def chosen(self) -> float:
        """The warp chosen without labels over all of the voice's utterances (``choose_warp`` given
        all of them)."""
        return pick(self.warps, self.tops[self._read()].mean(0))

    @property
    def best(self) -> float:
        """The most accurate warp (uses the labels: for comparison only)."""
        return self.warps[int(np.argmax(self.hits.mean(0)))]

    def per_utterance(self) -> tuple[float, dict[float, int]]:
        """Accuracy when each utterance gets its own label-free warp (what the Your voice page does
        with one recording), and how many utterances got each warp."""
        right, counts, read = 0, {}, self._read()
        for u in np.unique(self.frame_utt):
            m = self.frame_utt == u
            a = pick(self.warps, self.tops[m & read].mean(0))
            right += int(self.hits[m, self.warps.index(a)].sum())
            counts[a] = counts.get(a, 0) + 1
        return right / len(self.hits), dict(sorted(counts.items()))


def voice_warps(net, info, corpus_dir, voice: str, warps: Sequence[float] = WARPS) -> VoiceWarps:
    """``VoiceWarps`` of ``voice`` in a corpus folder (``core.corpus``): every utterance's audio is
    read from its WAV file, as a user's recording is, and classified under each warp
    (``core.align.phone_posteriors``); the labels come from the corpus."""
    from pathlib import Path

    from core.align import phone_posteriors
    from core.audio import load_audio
    from core.corpus import load_corpus
    from core.train import voice_utterances

    warps = tuple(float(a) for a in warps)
    frames = load_corpus(corpus_dir, info.features)
    ends = np.append(np.asarray(frames.utt_starts)[1:], len(frames.labels))
    hits, tops, utt = [], [], []
    for i, u in enumerate(voice_utterances(frames, [voice])):
        y = np.asarray(frames.labels[frames.utt_starts[u] : ends[u]], dtype=np.int64)
        x = load_audio(Path(corpus_dir) / f"{frames.utt_ids[u]}.wav", max_seconds=float("inf"))
        post = np.stack([phone_posteriors(net, info, x, warp=a) for a in warps], 1)  # (T, W, P)
        if len(post) != len(y):
            raise ValueError(f"{frames.utt_ids[u]}: {len(post)} frames from its audio, {len(y)} labels")
        hits.append(post.argmax(2) == y[:, None])
        tops.append(post.max(2))
        utt.append(np.full(len(y), i, dtype=np.int32))
    return VoiceWarps(voice, warps, np.concatenate(hits), np.concatenate(tops), np.concatenate(utt))
