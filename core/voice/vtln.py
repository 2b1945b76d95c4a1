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
(``core.features.extract(..., warp=1/alpha)``, ``filterbank_warp``: defined with the posteriors in
``core.models.inference``, re-exported here; VTLP's piecewise-linear warp, fixed at 0 Hz and at
the Nyquist frequency), so it applies to MFBANK and MFCC models alike, before the per-utterance
normalisation. ``core.voice.adapt``'s warp search uses the same ``alpha`` on normalised MFBANK channels
(``warp_matrix``) as the starting point of a learnt map; its choice uses labels.

Posteriors under VTLN are **averaged over the warps**, each weighted by ``softmax(WEIGHT_SHARPNESS
x confidence)`` (``warp_weights``; warps under ``MIN_WEIGHT`` of the total are left out and the rest
renormalised; ``vtln_posteriors``): a recording whose confidence curve is flat gets nearly a plain average, one with a
clear peak nearly that warp alone. The sharpness (20) was chosen on the ten eSpeak NG voices, which
no leave-one-voice-out table tests (docs/MODELS.md, "Averaging over warps"). The input and the
gradients the page shows are those under the chosen warp (the most confident one).

What "the input" of an importance map is under VTLN: the model's usual normalised features,
computed with the warped filterbank: input (t, c) is then the recording's log energy around
``alpha`` times channel c's centre frequency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.models.inference import WARPS as WARPS
from core.models.inference import filterbank_warp as filterbank_warp
from core.models.inference import network_inputs, phone_posteriors

CHOICE_STRIDE = 3
"""The choice reads every third frame of each recording (frames 0, 3, 6, ...): neighbouring 10 ms
frames share 34 of their 35 input frames, and the forward passes are most of the cost (ten warps:
about 7 times the posteriors' time with every frame)."""


WEIGHT_SHARPNESS = 20.0
"""beta of ``warp_weights``: a warp 0.05 less confident than the best weighs e^-1 of it."""
MIN_WEIGHT = 0.01
"""Warps under this share of the weight are left out of the average (their share goes to the others)."""
CLEAR_GAIN = 0.01
"""Below this gain in mean top posterior (the chosen warp's over warp 1) the Your voice page says
the gain is small and that such warps more often lowered than raised the share of frames read
right. Chosen on synthetic voices (noise and voices like the training ones gain 0.00-0.01, a voice
with formants 20 % higher about 0.06; docs/MODELS.md, "VTLN"); looked at on the real-speech
sources by ``bench/vtln_clear_gain.py`` (docs/MODELS.md, "Is a small gain an uncertain warp?"):
under it the warp alone lowered the speech frames' accuracy in 3 of the 3 sources with several
such recordings, and one recording's warp seldom matched its source's at any gain. It only decides a
sentence of the page, not a figure."""


def warp_weights(confidence: Sequence[float], sharpness: float = WEIGHT_SHARPNESS,
                 min_weight: float = MIN_WEIGHT) -> np.ndarray:
    """(W,) weights summing to 1: ``softmax(sharpness * confidence)``, then those under
    ``min_weight`` set to 0 and the rest renormalised. ``sharpness`` 0 is a plain average; a large
    one keeps only the most confident warp."""
    from scipy.special import softmax

    w = softmax(sharpness * np.asarray(confidence, dtype=np.float64))
    w[w < min_weight] = 0.0
    return w / w.sum()


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

    @property
    def weights(self) -> np.ndarray:
        """(W,) each warp's weight in the averaged posteriors (``warp_weights``)."""
        return warp_weights(self.confidence)


def vtln_posteriors(net, info, signal: np.ndarray, warps: Sequence[float] = WARPS) -> tuple[WarpChoice, np.ndarray]:
    """(the warp choice, (T, P) posteriors averaged over the warps) of one recording: what the Your
    voice page does. Every frame is classified under each warp once; the choice reads every
    ``CHOICE_STRIDE``-th frame of those posteriors (the same figures as ``choose_warp``), and the
    average weighs each warp's posteriors by ``warp_weights`` of the choice's confidences."""
    warps = tuple(float(a) for a in warps)
    if not warps:
        raise ValueError("vtln_posteriors needs at least one warp")
    posts = [phone_posteriors(net, info, signal, warp=a) for a in warps]
    conf = tuple(mean_top_posterior(p[::CHOICE_STRIDE]) for p in posts)
    choice = WarpChoice(pick(warps, conf), warps, conf, len(posts[0][::CHOICE_STRIDE]))
    avg = sum(w * p for w, p in zip(choice.weights, posts, strict=True) if w > 0)
    return choice, np.asarray(avg, dtype=np.float32)


def mean_top_posterior(posteriors: np.ndarray) -> float:
    """Mean over frames of the highest posterior (NaN for no frames)."""
    return float(np.max(posteriors, axis=1).mean()) if len(posteriors) else float("nan")


def choose_warp(net, info, signals: Sequence[np.ndarray], warps: Sequence[float] = WARPS) -> WarpChoice:
    """The warp of ``warps`` with the highest mean top posterior over the frames of all
    ``signals`` (16 kHz mono recordings of one voice; every ``CHOICE_STRIDE``-th frame; a state
    model's states summed per phone). One feature extraction and one forward pass per warp and
    recording; ``frames`` in the result counts the frames read."""
    from core.activations import predict_proba

    warps = tuple(float(a) for a in warps)
    if not warps or not signals:
        raise ValueError("choose_warp needs at least one warp and one recording")
    conf = []
    n = 0
    for a in warps:
        tops = []
        for s in signals:
            post = info.phone_probs(predict_proba(net, network_inputs(info, s, warp=a)[::CHOICE_STRIDE]))
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
    sharpness: tuple[float, ...] = ()
    avg_hits: np.ndarray | None = None  # (T, len(sharpness)): averaged posteriors, weights per utterance
    labels: np.ndarray | None = None  # (T,) the corpus's label of each frame

    def accuracy(self, warp: float = 1.0) -> float:
        return float(self.hits[:, self.warps.index(warp)].mean())

    def averaged(self, sharpness: float = WEIGHT_SHARPNESS) -> float:
        """Accuracy of the posteriors averaged over the warps with each utterance's own weights
        (``vtln_posteriors``: what the Your voice page does with one recording)."""
        return float(self.avg_hits[:, self.sharpness.index(float(sharpness))].mean())

    def choice_frames(self) -> np.ndarray:
        """(T,) bool: the frames the choice reads (every CHOICE_STRIDE-th of each utterance)."""
        starts = np.flatnonzero(np.diff(self.frame_utt, prepend=-1))
        index = np.arange(len(self.frame_utt)) - np.repeat(starts, np.diff(np.append(starts, len(self.frame_utt))))
        return index % CHOICE_STRIDE == 0

    @property
    def chosen(self) -> float:
        """The warp chosen without labels over all of the voice's utterances (``choose_warp`` given
        all of them)."""
        return pick(self.warps, self.tops[self.choice_frames()].mean(0))

    @property
    def best(self) -> float:
        """The most accurate warp (uses the labels: for comparison only)."""
        return self.warps[int(np.argmax(self.hits.mean(0)))]

    def per_utterance(self) -> tuple[float, dict[float, int]]:
        """Accuracy when each utterance gets its own label-free warp (what the Your voice page does
        with one recording), and how many utterances got each warp."""
        right, counts, read = 0, {}, self.choice_frames()
        for u in np.unique(self.frame_utt):
            m = self.frame_utt == u
            a = pick(self.warps, self.tops[m & read].mean(0))
            right += int(self.hits[m, self.warps.index(a)].sum())
            counts[a] = counts.get(a, 0) + 1
        return right / len(self.hits), dict(sorted(counts.items()))


def voice_warps(net, info, corpus_dir, voice: str, warps: Sequence[float] = WARPS,
                sharpness: Sequence[float] = (WEIGHT_SHARPNESS,)) -> VoiceWarps:
    """``VoiceWarps`` of ``voice`` in a corpus folder (``core.data.corpus``): every utterance's audio is
    read from its WAV file, as a user's recording is, and classified under each warp
    (``core.models.inference.phone_posteriors``) and with the posteriors averaged over the warps for each
    ``sharpness`` (weights from the utterance's own confidence on every ``CHOICE_STRIDE``-th
    frame, as ``choose_warp``); the labels come from the corpus."""
    from pathlib import Path

    from core.audio import load_audio
    from core.data.corpus import load_corpus
    from core.train import voice_utterances

    warps = tuple(float(a) for a in warps)
    frames = load_corpus(corpus_dir, info.features)
    ends = np.append(np.asarray(frames.utt_starts)[1:], len(frames.labels))
    sharpness = tuple(float(b) for b in sharpness)
    hits, tops, utt, avg, labels = [], [], [], [], []
    for i, u in enumerate(voice_utterances(frames, [voice])):
        y = np.asarray(frames.labels[frames.utt_starts[u] : ends[u]], dtype=np.int64)
        x = load_audio(Path(corpus_dir) / f"{frames.utt_ids[u]}.wav", max_seconds=float("inf"))
        post = np.stack([phone_posteriors(net, info, x, warp=a) for a in warps], 1)  # (T, W, P)
        if len(post) != len(y):
            raise ValueError(f"{frames.utt_ids[u]}: {len(post)} frames from its audio, {len(y)} labels")
        hits.append(post.argmax(2) == y[:, None])
        labels.append(y)
        tops.append(post.max(2))
        utt.append(np.full(len(y), i, dtype=np.int32))
        conf = post[::CHOICE_STRIDE].max(2).mean(0)
        avg.append(np.stack([np.einsum("twp,w->tp", post, warp_weights(conf, b)).argmax(1) == y
                             for b in sharpness], 1))
    return VoiceWarps(voice, warps, np.concatenate(hits), np.concatenate(tops), np.concatenate(utt),
                      sharpness, np.concatenate(avg), np.concatenate(labels))
