"""Training-time augmentation of speech: new versions of the training utterances every epoch.

Each epoch, every training utterance's waveform goes through these steps, each applied with
probability ``AugmentConfig.p`` (independently) if its name is in ``AugmentConfig.kinds``:

1. ``speed``: speed perturbation by a factor s in ``speed`` (0.9-1.1; resampling by
   ``scipy.signal.resample_poly`` with s rounded to 1 %, as Kaldi's speed perturbation: pitch,
   formants and tempo all change). The label times are divided by s, so they stay exact.
2. ``reverb``: convolution with a synthetic room impulse response: a unit direct path at lag 0
   followed by Gaussian noise decaying as exp(-6.9 t / RT60), RT60 in ``rt60`` (0.15-0.6 s),
   scaled to a direct-to-reverberant ratio in ``drr_db`` (0-15 dB), truncated at the utterance's
   end, the result rescaled to the input's RMS. The direct path at lag 0 keeps the labels aligned.
3. ``tilt``: spectral tilt, the spectrum multiplied by (f / 1 kHz)^(t/6.02) (t dB per octave,
   t in ``tilt_db`` = -3..3; frequencies below 62.5 Hz treated as 62.5 Hz).
4. ``gain``: a gain in ``gain_db`` (-10..10 dB). Global normalisation sees it as a shift of
   every log energy; per-utterance CMN removes it.
5. ``noise``: additive noise at an SNR in ``snr_db`` (10-30 dB, power over the whole
   utterance): white, pink (1/f power) or babble (the sum of ``babble_talkers`` other training
   utterances at random offsets, looped), the kind drawn uniformly from ``noises``.
6. ``vtlp``: vocal-tract-length perturbation: the mel filterbank's frequency axis warped by a
   factor in ``vtlp`` (0.9-1.1) (``core.features.extract(..., warp=)``; a tone at f moves to the
   channel designed at factor x f).
7. ``specaug``: SpecAugment masks on the features: ``time_masks`` masks of up to ``time_width``
   frames and ``freq_masks`` masks of up to ``freq_width`` channels (``freq_width_mfcc`` for MFCC),
   set to the utterance's channel means (what "no information" looks like after normalisation).

Labels: frame labels are recomputed from the (scaled) segments for the new number of frames.
Random numbers: one ``numpy.random.Generator`` passed in (training passes its own seeded one), so
the same seed gives identical epochs; each utterance draws from a child generator seeded by the
parent's next integer, so the result does not depend on which steps are switched on elsewhere.
Global normalisation statistics are fitted on the clean training frames (not the augmented ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.fft import next_fast_len

from core.features import FeatureConfig, extract
from core.phones import PhoneError, PhoneSet, Segment, frame_labels, frame_states, read_lab
from core.text import UserError

KINDS: tuple[str, ...] = ("speed", "reverb", "tilt", "gain", "noise", "vtlp", "specaug")
NOISES: tuple[str, ...] = ("white", "pink", "babble")


class AugmentError(UserError):
    """An augmentation request a user can get wrong (unknown kind, bad range, unreadable file)."""


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations run and their ranges (see the module docstring). ``kinds=()`` = off."""

    kinds: tuple[str, ...] = KINDS
    p: float = 0.3
    speed: tuple[float, float] = (0.9, 1.1)
    vtlp: tuple[float, float] = (0.9, 1.1)
    snr_db: tuple[float, float] = (10.0, 30.0)
    noises: tuple[str, ...] = NOISES
    babble_talkers: int = 4
    rt60: tuple[float, float] = (0.15, 0.6)
    drr_db: tuple[float, float] = (0.0, 15.0)
    gain_db: tuple[float, float] = (-10.0, 10.0)
    tilt_db: tuple[float, float] = (-3.0, 3.0)
    time_masks: int = 2
    time_width: int = 8
    freq_masks: int = 2
    freq_width: int = 6
    freq_width_mfcc: int = 2

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in KINDS]
        if bad:
            raise AugmentError(f"Unknown augmentation {bad[0]!r}; choose from {', '.join(KINDS)}.")
        bad = [k for k in self.noises if k not in NOISES]
        if bad or not self.noises:
            raise AugmentError(f"Unknown noise {(bad or ['none'])[0]!r}; choose from {', '.join(NOISES)}.")
        if not 0.0 <= self.p <= 1.0:
            raise AugmentError("The probability of each augmentation must lie in 0-1.")
        for name in ("speed", "vtlp"):
            lo, hi = getattr(self, name)
            if not 0.5 <= lo <= hi <= 2.0:
                raise AugmentError(f"The {name} range must satisfy 0.5 <= low <= high <= 2.")

    @classmethod
    def parse(cls, spec: str, **kw) -> AugmentConfig:
        """From a command-line list: 'all', 'none' or comma-separated kinds ('speed,noise')."""
        spec = spec.strip().lower()
        if spec == "all":
            return cls(**kw)
        if spec in ("", "none"):
            return cls(kinds=(), **kw)
        return cls(kinds=tuple(dict.fromkeys(k.strip() for k in spec.split(",") if k.strip())), **kw)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


# ---------------------------------------------------------------------------------------------
# The single steps (pure functions; waveforms are float64 at the feature config's rate)


def speed_perturb(
    audio: np.ndarray, segments: Sequence[Segment], factor: float
) -> tuple[np.ndarray, list[Segment]]:
    """Play ``audio`` ``factor`` times faster (factor rounded to 1 %): (new audio, segments with
    times divided by the rounded factor). Returns the inputs unchanged for factor 1."""
    pct = int(round(100 * factor))
    if pct == 100:
        return audio, list(segments)
    k = pct / 100.0
    from scipy.signal import resample_poly  # imported on use: ~1 s of the dashboard's start-up

    return resample_poly(audio, 100, pct), [Segment(s.start / k, s.end / k, s.phone) for s in segments]


def room_impulse(rng: np.random.Generator, rt60: float, drr_db: float, samplerate: int) -> np.ndarray:
    """(n,) synthetic room impulse response: 1 at lag 0, then exponentially decaying Gaussian
    noise (60 dB down after ``rt60`` s) whose energy is ``drr_db`` below the direct path's."""
    n = max(2, int(rt60 * samplerate))
    t = np.arange(1, n) / samplerate
    tail = rng.standard_normal(n - 1) * np.exp(-6.9 * t / rt60)
    tail *= np.sqrt(10 ** (-drr_db / 10) / max(float(np.sum(tail**2)), 1e-12))
    return np.concatenate([[1.0], tail])


def reverberate(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``audio`` convolved with ``rir``, cut to the input's length and rescaled to its RMS."""
    from scipy.signal import fftconvolve

    y = fftconvolve(audio, rir)[: len(audio)]
    return y * _rms(audio) / max(_rms(y), 1e-12)


def spectral_tilt(audio: np.ndarray, db_per_octave: float, samplerate: int) -> np.ndarray:
    """``audio`` with its spectrum multiplied by (f / 1 kHz)^(db_per_octave / 6.02)."""
    m = next_fast_len(len(audio), real=True)  # zero-padded to a fast FFT length, then cut
    spec = np.fft.rfft(audio, n=m)
    f = np.maximum(np.fft.rfftfreq(m, 1.0 / samplerate), 62.5)
    return np.fft.irfft(spec * 10 ** (db_per_octave * np.log2(f / 1000.0) / 20.0), n=m)[: len(audio)]


def coloured_noise(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """(n,) white or pink (power ~ 1/f, flat below 20 Hz at 16 kHz) Gaussian noise, unit RMS."""
    m = next_fast_len(n, real=True)
    x = rng.standard_normal(m)
    if kind == "pink":
        spec = np.fft.rfft(x)
        f = np.maximum(np.arange(len(spec)), max(1, len(spec) // 400))
        x = np.fft.irfft(spec / np.sqrt(f), n=m)
    x = x[:n]
    return x / max(_rms(x), 1e-12)


def add_noise(audio: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``audio + c * noise`` with c chosen so that power(audio) / power(c * noise) = snr_db."""
    c = _rms(audio) / max(_rms(noise), 1e-12) * 10 ** (-snr_db / 20)
    return audio + c * noise


def spec_masks(
    feats: np.ndarray, rng: np.random.Generator, n_time: int, time_width: int, n_freq: int, freq_width: int
) -> np.ndarray:
    """Copy of (n_frames, C) ``feats`` with SpecAugment time and channel masks set to the
    utterance's channel means."""
    out = feats.copy()
    mean = feats.mean(axis=0)
    n, c = feats.shape
    for _ in range(n_time):
        w = int(rng.integers(0, time_width + 1))
        t0 = int(rng.integers(0, max(1, n - w + 1)))
        out[t0 : t0 + w] = mean
    for _ in range(n_freq):
        w = int(rng.integers(0, min(freq_width, c) + 1))
        c0 = int(rng.integers(0, max(1, c - w + 1)))
        out[:, c0 : c0 + w] = mean[c0 : c0 + w]
    return out


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


# ---------------------------------------------------------------------------------------------
# Whole utterances and epochs


@dataclass(frozen=True)
class AugmentedUtterance:
    """One augmented utterance: (n_frames, C) float32 features and their labels; ``applied``
    names each step that ran with its drawn value (for tests and logs)."""

    feats: np.ndarray
    labels: np.ndarray
    states: np.ndarray
    segments: tuple[Segment, ...]
    applied: dict = field(default_factory=dict)


def augment_utterance(
    audio: np.ndarray,
    segments: Sequence[Segment],
    cfg: AugmentConfig,
    features: FeatureConfig,
    rng: np.random.Generator,
    babble_pool: Sequence[np.ndarray] = (),
    phone_set: PhoneSet | None = None,
) -> AugmentedUtterance:
    """Augment one utterance (audio (n,) float at ``features.samplerate``, its segments; labels are
    class indices of ``phone_set``, English by default).

    Every random value comes from ``rng``: the same generator state gives the same result. All
    decisions are drawn in a fixed order whether or not a step is enabled, so switching one step
    off leaves the others' draws unchanged.
    """
    sr = features.samplerate
    x = np.asarray(audio, dtype=np.float64)
    segs = list(segments)
    on = {k: (k in cfg.kinds) and bool(u < cfg.p) for k, u in zip(KINDS, rng.random(len(KINDS)), strict=True)}
    seeds = rng.integers(0, 2**63 - 1, size=len(KINDS))
    sub = {k: np.random.default_rng(int(s)) for k, s in zip(KINDS, seeds, strict=True)}
    applied: dict = {}
    if on["speed"]:
        f = float(sub["speed"].uniform(*cfg.speed))
        x, segs = speed_perturb(x, segs, f)
        applied["speed"] = round(f, 2)
    if on["reverb"]:
        r = sub["reverb"]
        rt, drr = float(r.uniform(*cfg.rt60)), float(r.uniform(*cfg.drr_db))
        x = reverberate(x, room_impulse(r, rt, drr, sr))
        applied["reverb"] = (rt, drr)
    if on["tilt"]:
        t = float(sub["tilt"].uniform(*cfg.tilt_db))
        x = spectral_tilt(x, t, sr)
        applied["tilt"] = t
    if on["gain"]:
        g = float(sub["gain"].uniform(*cfg.gain_db))
        x = x * 10 ** (g / 20)
        applied["gain"] = g
    if on["noise"]:
        r = sub["noise"]
        kind = cfg.noises[int(r.integers(len(cfg.noises)))]
        snr = float(r.uniform(*cfg.snr_db))
        if kind == "babble" and len(babble_pool) > 0:
            noise = np.zeros(len(x))
            for _ in range(cfg.babble_talkers):
                other = np.asarray(babble_pool[int(r.integers(len(babble_pool)))], dtype=np.float64)
                other = np.roll(np.resize(other, len(x)), int(r.integers(max(1, len(other)))))
                noise += other / max(_rms(other), 1e-12)
        else:
            kind = "white" if kind == "babble" else kind
            noise = coloured_noise(r, len(x), kind)
        x = add_noise(x, noise, snr)
        applied["noise"] = (kind, snr)
    warp = 1.0
    if on["vtlp"]:
        warp = round(float(sub["vtlp"].uniform(*cfg.vtlp)), 3)
        applied["vtlp"] = warp
    if len(x) < features.win_samples:
        x = np.pad(x, (0, features.win_samples - len(x)))
    feats = extract(x, features, warp=warp, fast=True)
    if on["specaug"]:
        fw = cfg.freq_width if features.kind == "mfbank" else cfg.freq_width_mfcc
        feats = spec_masks(feats, sub["specaug"], cfg.time_masks, cfg.time_width, cfg.freq_masks, fw)
        applied["specaug"] = True
    n = len(feats)
    labels = frame_labels(segs, n, features.winlen, features.winstep, phone_set=phone_set)
    states = frame_states(segs, n, features.winlen, features.winstep)
    return AugmentedUtterance(feats.astype(np.float32), labels, states, tuple(segs), applied)


@dataclass(frozen=True, eq=False)
class EpochFrames:
    """One epoch's augmented training frames (the ``FramesLike`` fields training uses)."""

    feats: np.ndarray
    labels: np.ndarray
    states: np.ndarray
    utt_starts: np.ndarray


class Augmenter:
    """Training utterances held as 16-bit audio + segments; ``epoch(rng)`` renders new frames.

    corpus_dir: a corpus folder (``<id>.wav`` 16 kHz mono + ``<id>.lab``); utt_ids: the training
    utterances, in the order training uses. Labels are read and indexed in the phone set the
    corpus names (``core.data.corpus.corpus_phone_set``: ``corpus.json``, English without it), the
    same as ``load_corpus``. Memory: 2 bytes per sample (32 kB per second of speech).
    """

    def __init__(
        self, corpus_dir: str | Path, utt_ids: Sequence[str], cfg: AugmentConfig, features: FeatureConfig
    ):
        from core.data.corpus import corpus_phone_set

        self.cfg = cfg
        self.features = features
        corpus_dir = Path(corpus_dir)
        self.phone_set = corpus_phone_set(corpus_dir)
        self.audio: list[np.ndarray] = []
        self.segments: list[list[Segment]] = []
        for uid in utt_ids:
            wav = corpus_dir / f"{uid}.wav"
            try:
                data, sr = sf.read(str(wav), dtype="int16")
            except (OSError, RuntimeError):
                raise AugmentError(f"The corpus audio {wav} is missing or unreadable.") from None
            if sr != features.samplerate or data.ndim != 1:
                raise AugmentError(f"{wav.name} is not {features.samplerate} Hz mono.")
            try:
                self.segments.append(read_lab(corpus_dir / f"{uid}.lab", phone_set=self.phone_set))
            except PhoneError as exc:
                raise AugmentError(f"Corpus labels: {exc}") from None
            self.audio.append(data)

    def __len__(self) -> int:
        return len(self.audio)

    def utterance(self, u: int, rng: np.random.Generator) -> AugmentedUtterance:
        pool = [self.audio[int(j)] for j in rng.integers(0, len(self.audio), size=8)]
        return augment_utterance(
            self.audio[u] / 32768.0, self.segments[u], self.cfg, self.features, rng, pool, self.phone_set
        )

    def epoch(self, rng: np.random.Generator) -> EpochFrames:
        """Every utterance augmented once, concatenated; deterministic given ``rng``'s state."""
        seeds = rng.integers(0, 2**63 - 1, size=len(self.audio))
        parts = [self.utterance(u, np.random.default_rng(int(s))) for u, s in enumerate(seeds)]
        sizes = np.array([len(p.labels) for p in parts], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        return EpochFrames(
            feats=np.concatenate([p.feats for p in parts]),
            labels=np.concatenate([p.labels for p in parts]).astype(np.int16),
            states=np.concatenate([p.states for p in parts]).astype(np.int8),
            utt_starts=starts,
        )


def without(cfg: AugmentConfig, kind: str) -> AugmentConfig:
    """``cfg`` with one kind switched off (for ablations)."""
    return replace(cfg, kinds=tuple(k for k in cfg.kinds if k != kind))


__all__ = [
    "KINDS",
    "NOISES",
    "AugmentConfig",
    "AugmentError",
    "AugmentedUtterance",
    "Augmenter",
    "EpochFrames",
    "add_noise",
    "augment_utterance",
    "coloured_noise",
    "reverberate",
    "room_impulse",
    "spec_masks",
    "spectral_tilt",
    "speed_perturb",
    "without",
]
