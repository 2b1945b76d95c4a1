"""Acoustic features: MFBANK / MFCC, splicing to 35 frames, normalisation, meaning of inputs.

Extraction is python_speech_features' maths (``logfbank`` and ``mfcc``) with the settings of
``FeatureConfig``, in one front end for every VTLP warp (``_front_end``: its pre-emphasis, lifter
and mel scale, our warped filterbank and ``core.audio.frame_signal``'s framing, in float64); at
warp 1 python_speech_features is the tests' oracle (the filterbank element for element, the
features to 1e-4).

Choices written down here (METHOD.md is silent on them):

- pre-emphasis 0.97 (python_speech_features' default) for both kinds;
- MFBANK uses 40 filters from 0 to 8000 Hz; MFCC uses 26 filters over the same range, 13 values
  with the first replaced by log frame energy (``appendEnergy=True``), cepstral lifter 22;
- a "mel centre frequency" is the design centre of the triangular filter (equally spaced on the
  mel scale between lowfreq and highfreq); python_speech_features rounds it to the nearest lower
  FFT bin (31.25 Hz steps at 16 kHz / 512 points) when it builds the filter;
- silence gives ``log(eps)`` in python_speech_features, a finite value, so no NaN ever appears.

Per-utterance normalisation (``FeatureConfig.utt_norm``): ``"none"`` (the default, and every
model trained before it existed), ``"cmn"`` (each channel minus its mean over the utterance, the
classic cepstral mean normalisation, applied to log mel energies as well) or ``"cmvn"`` (also
divided by the channel's standard deviation over the utterance, floored at 1e-3) or
``"cmn_speech"`` (CMN whose mean is taken over the *speech* frames only: those within
``SPEECH_RANGE_DB`` = 40 dB of the utterance's loudest frame, in total filterbank energy (MFBANK) or
log frame energy (MFCC); and a 16-bit step of seeded Gaussian dither added to the signal first).
Why ``cmn_speech``: with plain CMN, silence at a recording's ends moves every channel's mean, and
*digital* silence (exact zeros, as many real recordings and sound editors leave) gives
``log(eps)`` = -36 in every channel, far below any real silence: 100 ms of zeros appended to a real
word moved the shipped model's agreement by 5.5 points on average and up to 29 points
(bench/silence.py, docs/MODELS.md "Digital silence"). The dither turns exact zeros into the
quietest sound a 16-bit recording can hold, and the speech-only mean ignores how much silence
surrounds the speech. It is part of
``extract``, so the corpus cache, the validation sets, alignment and the pages all see the same
numbers; the model's global ``Normalizer`` is fitted on (and applied to) these features. What "the
input" of an importance map then is: the spliced, globally standardised *utterance-normalised*
features. A unit's value says how far a channel lies above or below that channel's average over
the whole recording (in the utterance's own standard deviations for CMVN), not its absolute
level; gradients dy/dx_i and the class means mu_c are in those units, and the time x channel
meaning of every input (offset, mel band) is unchanged. A recording's features therefore depend
on the whole recording (a different cut of the same speech gives slightly different numbers).

VTLP (``extract(..., warp=a)``): the mel filterbank's frequency axis is warped as in Jaitly &
Hinton (2013): a filter designed at frequency ``e`` (Hz) reads the input at ``w^-1(e)``, with
``w(f) = a*f`` up to ``f_b = 0.85 * (samplerate/2) * min(a, 1) / a`` and a straight line from there
to ``w(samplerate/2) = samplerate/2``. A tone at ``f`` lands in the channel designed at ``a * f``.
Filter edges are rounded to FFT bins as python_speech_features does; at ``warp=1`` the filterbank
is python_speech_features' own, element for element.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import python_speech_features as psf

from core.audio import SAMPLE_RATE
from core.text import N_, UserError

FeatureKind = Literal["mfbank", "mfcc"]
UttNorm = Literal["none", "cmn", "cmvn", "cmn_speech"]
UTT_NORMS: tuple[str, ...] = ("none", "cmn", "cmvn", "cmn_speech")
CMVN_FLOOR = 1e-3
SPEECH_RANGE_DB = 40.0
"""``cmn_speech``: the frames whose energy is within this many dB of the utterance's loudest frame
are the ones its mean is taken over."""
DITHER = 1.0 / 32768
"""``cmn_speech``: the standard deviation of the Gaussian dither added to the signal (one step of
16-bit audio, in a signal scaled to [-1, 1]; seeded, so the features are reproducible)."""


class FeatureError(UserError):
    """A feature request a user can cause that cannot be met (bad config, too short audio)."""


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of a front end. Times in seconds, frequencies in Hz.

    ``kind="mfbank"``: ``nfilt`` log mel filterbank energies (40 by default).
    ``kind="mfcc"``: ``numcep`` values = log energy + cepstra 1..numcep-1 (13 by default).
    """

    kind: FeatureKind = "mfbank"
    nfilt: int = 40
    numcep: int = 13
    mfcc_nfilt: int = 26
    winlen: float = 0.025
    winstep: float = 0.010
    nfft: int = 512
    lowfreq: float = 0.0
    highfreq: float = 8000.0
    preemph: float = 0.97
    ceplifter: int = 22
    context: int = 17
    samplerate: int = SAMPLE_RATE
    utt_norm: UttNorm = "none"

    def __post_init__(self) -> None:
        if self.kind not in ("mfbank", "mfcc"):
            raise FeatureError(f"Unknown feature kind {self.kind!r}; use 'mfbank' or 'mfcc'.")
        if self.utt_norm not in UTT_NORMS:
            raise FeatureError(
                f"Unknown per-utterance normalisation {self.utt_norm!r}; use one of {', '.join(UTT_NORMS)}."
            )
        if self.context < 0:
            raise FeatureError("The context must be 0 or more frames on each side.")
        if not 0 <= self.lowfreq < self.highfreq <= self.samplerate / 2:
            raise FeatureError("Filterbank range must satisfy 0 <= low < high <= samplerate/2.")

    @property
    def n_channels(self) -> int:
        """Values per frame: 40 for MFBANK, 13 for MFCC by default."""
        return self.nfilt if self.kind == "mfbank" else self.numcep

    @property
    def n_context_frames(self) -> int:
        """Frames in one spliced input: 2 * context + 1 (35)."""
        return 2 * self.context + 1

    @property
    def input_dim(self) -> int:
        """Length of one spliced input vector (1400 for MFBANK, 455 for MFCC)."""
        return self.n_context_frames * self.n_channels

    def frame_time(self, i: float) -> float:
        """Centre of frame ``i`` in seconds: ``i * winstep + winlen / 2`` (0.0125 s for frame 0)."""
        return i * self.winstep + self.winlen / 2

    def frame_at(self, t: float) -> int:
        """The frame whose centre is nearest ``t`` seconds (not clipped to a recording's frames)."""
        return int(round((t - self.winlen / 2) / self.winstep))

    @property
    def window_seconds(self) -> float:
        """The time one spliced input spans in frame steps: ``n_context_frames * winstep`` (0.35 s)."""
        return self.n_context_frames * self.winstep

    @property
    def win_samples(self) -> int:
        return int(round(self.winlen * self.samplerate))

    @property
    def step_samples(self) -> int:
        return int(round(self.winstep * self.samplerate))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def n_frames_for(n_samples: int, cfg: FeatureConfig = FeatureConfig()) -> int:
    """Number of frames python_speech_features produces for ``n_samples`` samples."""
    if n_samples <= cfg.win_samples:
        return 1
    return 1 + int(np.ceil((n_samples - cfg.win_samples) / cfg.step_samples))


def vtlp_inverse(hz: np.ndarray, warp: float, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Input frequency ``w^-1(hz)`` read by a filter designed at ``hz`` under VTLP factor ``warp``
    (see the module docstring); identity for ``warp == 1``."""
    hz = np.asarray(hz, dtype=np.float64)
    nyq = cfg.samplerate / 2
    fb = 0.85 * nyq * min(warp, 1.0) / warp
    lin = hz / warp
    upper = fb + (hz - warp * fb) * (nyq - fb) / (nyq - warp * fb)
    return np.where(hz <= warp * fb, lin, upper)


@lru_cache(maxsize=512)
def warped_filterbank(nfilt: int, warp: float, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """(nfilt, nfft//2+1) triangular mel filters with VTLP factor ``warp``; for ``warp == 1`` the
    same array as ``python_speech_features.get_filterbanks``. Cached: do not modify the result."""
    mel = np.linspace(psf.base.hz2mel(cfg.lowfreq), psf.base.hz2mel(cfg.highfreq), nfilt + 2)
    edges = vtlp_inverse(psf.base.mel2hz(mel), warp, cfg)
    b = np.floor((cfg.nfft + 1) * edges / cfg.samplerate)
    fbank = np.zeros((nfilt, cfg.nfft // 2 + 1))
    i = np.arange(cfg.nfft // 2 + 1)
    for j in range(nfilt):
        up = (i >= b[j]) & (i < b[j + 1])
        down = (i >= b[j + 1]) & (i < b[j + 2])
        fbank[j, up] = (i[up] - b[j]) / (b[j + 1] - b[j])
        fbank[j, down] = (b[j + 2] - i[down]) / (b[j + 2] - b[j + 1])
    return fbank


def _front_end(signal: np.ndarray, cfg: FeatureConfig, warp: float) -> np.ndarray:
    """The package's one front end, at every warp: python_speech_features' logfbank / mfcc maths
    (its pre-emphasis, its zero-padded framing, its power spectrum, its DCT and lifter) in float64
    with ``warped_filterbank`` for its filters and ``core.audio.frame_signal`` for its framing.
    python_speech_features itself is the tests' oracle at warp 1 (tests/test_features.py)."""
    from core.audio import frame_signal

    sig = psf.sigproc.preemphasis(signal, cfg.preemph)
    frames = frame_signal(sig, cfg.win_samples, cfg.step_samples, n_frames_for(len(sig), cfg))
    pspec = np.square(np.abs(np.fft.rfft(frames, cfg.nfft))) / cfg.nfft
    eps = np.finfo(float).eps
    nfilt = cfg.nfilt if cfg.kind == "mfbank" else cfg.mfcc_nfilt
    feat = pspec @ warped_filterbank(nfilt, warp, cfg).T
    feat = np.log(np.where(feat == 0, eps, feat))
    if cfg.kind == "mfbank":
        return feat
    from scipy.fftpack import dct

    cep = psf.base.lifter(dct(feat, type=2, axis=1, norm="ortho")[:, : cfg.numcep], cfg.ceplifter)
    energy = pspec.sum(axis=1)
    cep[:, 0] = np.log(np.where(energy == 0, eps, energy))
    return cep


def dither(signal: np.ndarray) -> np.ndarray:
    """``signal`` (float64) plus Gaussian noise of standard deviation ``DITHER``, always the same
    noise for the same length (seed 0; a longer signal's noise starts with a shorter one's), so
    features stay reproducible."""
    x = np.asarray(signal, dtype=np.float64)
    return x + np.random.default_rng(0).standard_normal(x.shape) * DITHER


def speech_frames(feats: np.ndarray, kind: str) -> np.ndarray:
    """(n_frames,) bool: the frames within ``SPEECH_RANGE_DB`` of the loudest one, by the total
    filterbank energy of each frame (log-sum-exp of the MFBANK channels) or, for MFCC, its log frame
    energy (coefficient 0)."""
    from scipy.special import logsumexp

    energy = feats[:, 0] if kind == "mfcc" else logsumexp(feats, axis=1)
    return energy >= energy.max() - SPEECH_RANGE_DB * np.log(10) / 10


def utterance_normalise(feats: np.ndarray, mode: str, kind: str = "mfbank") -> np.ndarray:
    """Per-utterance normalisation of (n_frames, C) features of ``kind``: ``"cmn"`` subtracts each
    channel's mean over the frames, ``"cmvn"`` also divides by its std (floored at ``CMVN_FLOOR``),
    ``"cmn_speech"`` subtracts the mean over ``speech_frames``."""
    if mode == "none":
        return feats
    if mode == "cmn_speech":
        return feats - feats[speech_frames(feats, kind)].mean(axis=0, keepdims=True)
    out = feats - feats.mean(axis=0, keepdims=True)
    if mode == "cmvn":
        out = out / np.maximum(feats.std(axis=0, keepdims=True), CMVN_FLOOR)
    return out


def extract(
    signal: np.ndarray, cfg: FeatureConfig = FeatureConfig(), *, warp: float = 1.0, fast: bool = False
) -> np.ndarray:
    """Features of a mono signal at ``cfg.samplerate``.

    signal: (n_samples,) float, any scale (python_speech_features is scale-covariant in log).
    warp: VTLP factor of the filterbank's frequency axis (1 = none; training-time augmentation,
    VTLN).
    fast: kept for callers of earlier versions; every call now runs the one front end
    (``_front_end``, float64, strided framing), which equals python_speech_features' logfbank /
    mfcc to 4e-5 on real recordings (tests/test_features.py holds it to the oracle).
    Returns (n_frames, cfg.n_channels) float32, per-utterance normalised as ``cfg.utt_norm`` says.
    """
    signal = np.asarray(signal)
    if signal.ndim != 1:
        raise FeatureError(N_("Features need a mono signal (one dimension)."))
    if signal.size < cfg.win_samples:
        raise FeatureError(N_("The audio is too short for one {ms:.0f} ms frame."), ms=cfg.winlen * 1000)
    if not 0.5 <= warp <= 2.0:
        raise FeatureError(f"A VTLP factor of {warp} is outside 0.5-2.")
    signal = np.asarray(signal, dtype=np.float64)
    if cfg.utt_norm == "cmn_speech":  # the last frame's padding is dithered too, as appended zeros would be
        n = n_frames_for(signal.size, cfg)
        signal = dither(np.concatenate([signal, np.zeros((n - 1) * cfg.step_samples + cfg.win_samples - signal.size)]))
    feats = _front_end(signal, cfg, warp)
    return np.asarray(
        utterance_normalise(np.asarray(feats, dtype=np.float64), cfg.utt_norm, cfg.kind), dtype=np.float32
    )


def context_indices(n_frames: int, context: int) -> np.ndarray:
    """(n_frames, 2*context+1) int64 row indices for splicing; edges repeat the first/last frame."""
    offsets = np.arange(-context, context + 1)
    return np.clip(np.arange(n_frames)[:, None] + offsets[None, :], 0, n_frames - 1)


def splice(feats: np.ndarray, context: int = 17) -> np.ndarray:
    """Eager splicing of one utterance.

    feats: (n_frames, C). Returns (n_frames, (2*context+1) * C), time-major: columns
    ``[k*C:(k+1)*C]`` are the frame at offset ``k - context``.
    """
    feats = np.asarray(feats)
    n, c = feats.shape
    return feats[context_indices(n, context)].reshape(n, (2 * context + 1) * c)


class SplicedFrames:
    """Lazy spliced view over many utterances' frames, concatenated.

    feats: (N, C) all frames of all utterances, one after the other.
    utt_starts: (U,) index of each utterance's first frame (sorted, first is 0); an utterance
    ends where the next begins. Splicing never crosses an utterance boundary.

    ``view[idx]`` returns (len(idx), (2*context+1)*C) for an int array or slice, built on demand, so
    a 500,000-frame corpus never holds a 35-times copy. ``len(view)`` is N.
    """

    def __init__(self, feats: np.ndarray, utt_starts: np.ndarray, context: int = 17):
        self.feats = feats
        self.context = int(context)
        n = len(feats)
        starts = np.asarray(utt_starts, dtype=np.int64)
        if starts.size == 0 or starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= max(n, 1):
            raise FeatureError("Utterance starts must be increasing, begin at 0 and lie inside the frames.")
        ends = np.append(starts[1:], n)
        utt_of_frame = np.repeat(np.arange(len(starts)), ends - starts)
        self._lo = starts[utt_of_frame]
        self._hi = ends[utt_of_frame] - 1
        self._offsets = np.arange(-self.context, self.context + 1)

    def __len__(self) -> int:
        return len(self.feats)

    @property
    def dim(self) -> int:
        return (2 * self.context + 1) * self.feats.shape[1]

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """(len(idx), 2*context+1) frame indices used for the given centre frames."""
        idx = np.asarray(idx, dtype=np.int64)
        r = idx[:, None] + self._offsets[None, :]
        return np.clip(r, self._lo[idx][:, None], self._hi[idx][:, None])

    def __getitem__(self, idx) -> np.ndarray:
        if isinstance(idx, slice):
            idx = np.arange(len(self))[idx]
        idx = np.asarray(idx, dtype=np.int64)
        out = self.feats[self.rows(idx)]
        return out.reshape(len(idx), self.dim)


@dataclass(frozen=True)
class Normalizer:
    """Per-channel mean / std of unspliced features, applied to every time offset.

    mean, std: (C,) float32. ``apply`` works on unspliced (n, C) or spliced (n, K*C) arrays.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, feats: np.ndarray, floor: float = 1e-5) -> Normalizer:
        feats = np.asarray(feats, dtype=np.float64)
        if feats.ndim != 2 or len(feats) == 0:
            raise FeatureError("Normalisation needs a non-empty (frames, channels) array.")
        mean = feats.mean(axis=0)
        std = np.maximum(feats.std(axis=0), floor)
        return cls(tuple(float(v) for v in mean), tuple(float(v) for v in std))

    @property
    def mean_array(self) -> np.ndarray:
        return np.asarray(self.mean, dtype=np.float32)

    @property
    def std_array(self) -> np.ndarray:
        return np.asarray(self.std, dtype=np.float32)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Normalised copy of x, (n, C) or (n, K*C) float32."""
        x = np.asarray(x, dtype=np.float32)
        c = len(self.mean)
        if x.shape[-1] % c:
            raise FeatureError(f"Feature width {x.shape[-1]} is not a multiple of {c} channels.")
        k = x.shape[-1] // c
        return (x - np.tile(self.mean_array, k)) / np.tile(self.std_array, k)

    def invert(self, x: np.ndarray) -> np.ndarray:
        """Back from normalised to raw feature values, same shapes as ``apply``."""
        x = np.asarray(x, dtype=np.float32)
        k = x.shape[-1] // len(self.mean)
        return x * np.tile(self.std_array, k) + np.tile(self.mean_array, k)


def hz_to_mel(hz):
    """The mel scale of the filterbank (python_speech_features' ``hz2mel``: 2595 log10(1 + f/700))."""
    return psf.base.hz2mel(hz)


def mel_centres_hz(cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """(nfilt,) centre (peak) frequency in Hz of each MFBANK filter, increasing."""
    lo, hi = psf.base.hz2mel(cfg.lowfreq), psf.base.hz2mel(cfg.highfreq)
    return psf.base.mel2hz(np.linspace(lo, hi, cfg.nfilt + 2)[1:-1])


def channel_names(cfg: FeatureConfig = FeatureConfig()) -> list[str]:
    """Human names of the channels: '250 Hz' for MFBANK, 'log E', 'c1', ... for MFCC."""
    if cfg.kind == "mfbank":
        return [f"{hz:.0f} Hz" for hz in mel_centres_hz(cfg)]
    return ["log E"] + [f"c{i}" for i in range(1, cfg.numcep)]


def input_meaning(cfg: FeatureConfig = FeatureConfig()) -> dict[str, np.ndarray]:
    """Meaning of every input unit of a spliced vector, each an (input_dim,) array.

    Keys: ``offset_frames`` (-context..context), ``offset_ms``, ``channel`` (0..C-1), ``hz``
    (mel centre frequency for MFBANK; NaN for MFCC, whose channels are cepstral indices).
    """
    c = cfg.n_channels
    offsets = np.repeat(np.arange(-cfg.context, cfg.context + 1), c)
    channels = np.tile(np.arange(c), cfg.n_context_frames)
    if cfg.kind == "mfbank":
        hz = mel_centres_hz(cfg)[channels]
    else:
        hz = np.full(channels.shape, np.nan)
    return {
        "offset_frames": offsets,
        "offset_ms": offsets * cfg.winstep * 1000.0,
        "channel": channels,
        "hz": hz,
    }
