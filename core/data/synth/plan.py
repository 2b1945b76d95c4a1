"""The plan of an English synthetic corpus: the voices and, per utterance, its text, voice, rate,
pitch and speaker warp (``_plan``), and the warp itself (``_to_16k``); ``core.data.synth`` tells
the ranges and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio import SAMPLE_RATE, resample
from core.data.synth.sentences_en import make_sentences

APT_PACKAGES = "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite"

# Voice per short name: (Festival Scheme command or flite voice name, Debian package, kind of
# variation). Kinds "diphone" and "hts" are Festival voices, "flite" the flite program's.
VOICES: dict[str, tuple[str, str, str]] = {
    "kal": ("(voice_kal_diphone)", "festvox-kallpc16k", "diphone"),
    "ked": ("(voice_ked_diphone)", "festvox-kdlpc16k", "diphone"),
    "slt": ("(voice_cmu_us_slt_arctic_hts)", "festvox-us-slt-hts", "hts"),
    "flite_awb": ("awb", "flite", "flite"),
    "flite_rms": ("rms", "flite", "flite"),
    "flite_slt": ("slt", "flite", "flite"),
    "flite_kal16": ("kal16", "flite", "flite"),
    # eSpeak NG (core.data.synth.espeak): a formant synthesiser, no recorded speaker; voice variants of both
    # sexes, the Klatt engine and three accents (US, Scottish, southern British)
    "espeak_m1": ("en-us+m1", "espeak-ng", "espeak"),
    "espeak_m3": ("en-us+m3", "espeak-ng", "espeak"),
    "espeak_m7": ("en-us+m7", "espeak-ng", "espeak"),
    "espeak_klatt": ("en-us+klatt", "espeak-ng", "espeak"),
    "espeak_f1": ("en-us+f1", "espeak-ng", "espeak"),
    "espeak_f2": ("en-us+f2", "espeak-ng", "espeak"),
    "espeak_annie": ("en-us+Annie", "espeak-ng", "espeak"),
    "espeak_nyc_f3": ("en-us-nyc+f3", "espeak-ng", "espeak"),
    "espeak_sc_m2": ("en-gb-scotland+m2", "espeak-ng", "espeak"),
    "espeak_gb_f4": ("en+f4", "espeak-ng", "espeak"),
}
# The voices of the shipped English corpus (`synth` without --voices): the seven with a recorded speaker.
DEFAULT_VOICES: tuple[str, ...] = ("kal", "ked", "slt", "flite_awb", "flite_rms", "flite_slt", "flite_kal16")
ESPEAK_VOICES: tuple[str, ...] = tuple(v for v in VOICES if VOICES[v][2] == "espeak")
ENGINES = {"diphone": "festival", "hts": "festival", "flite": "flite", "espeak": "espeak"}
# The recorded speaker behind each voice: Festival's kal diphones and flite's kal16 come from the same
# diphone recordings, Festival's slt (HTS) and flite's slt (clustergen) from the same CMU ARCTIC
# speaker. Leave-one-voice-out (bench/voices.py) leaves the whole speaker out.
SPEAKERS: dict[str, str] = {
    "kal": "kal",
    "ked": "ked",
    "slt": "slt",
    "flite_awb": "awb",
    "flite_rms": "rms",
    "flite_slt": "slt",
    "flite_kal16": "kal",
    **{v: "espeak" for v in ("espeak_m1", "espeak_m3", "espeak_m7", "espeak_klatt", "espeak_f1", "espeak_f2",
                             "espeak_annie", "espeak_nyc_f3", "espeak_sc_m2", "espeak_gb_f4")},
}
# The speaker warp of an utterance, per kind of voice: warp_pct drawn uniformly from lo..hi (both
# included), k = 1 + warp_pct / 100 (the HTS voice's own pitch is high: it goes further down).
WARP_PCT: dict[str, tuple[int, int]] = {"diphone": (-5, 5), "flite": (-6, 5), "espeak": (-6, 5), "hts": (-8, 4)}
# Voices of a female speaker (the slt speaker behind Festival's and flite's slt; eSpeak NG's female variants).
FEMALE_VOICES = frozenset({"slt", "flite_slt", "espeak_f1", "espeak_f2", "espeak_annie", "espeak_nyc_f3",
                           "espeak_gb_f4"})
# flite voices: f0 target mean range in Hz (their own mean is about 100-110 Hz male, 170 Hz female)
FLITE_F0 = {"flite_slt": (150.0, 210.0)}
FLITE_F0_MALE = (85.0, 135.0)
ESPEAK_PITCH = (30.0, 70.0)  # eSpeak's base pitch (0-100, default 50; the variant sets the Hz it means)
ESPEAK_RANGE = (30.0, 80.0)  # eSpeak's pitch range (0-100, default 50)
ESPEAK_WPM = 175  # eSpeak's default rate; an utterance's rate is ESPEAK_WPM / stretch words per minute
BATCH_SIZE = {"diphone": 50, "hts": 25, "flite": 50, "espeak": 100}  # utterances per batch (~0.05-4 s each here)


@dataclass(frozen=True)
class _Utt:
    uid: str
    voice: str
    text: str
    stretch: float  # duration factor (> 1 = slower)
    f0_mean: float  # diphone, flite voices: target f0 mean and std in Hz (the HTS voice keeps its own;
    # espeak voices: eSpeak's pitch and range, 0-100)
    f0_std: float
    warp_pct: int  # speaker warp k = 1 + warp_pct/100: pitch and formants x k, durations / k


def _plan(n_utts: int, seed: int, voices: Sequence[str]) -> list[_Utt]:
    texts = make_sentences(n_utts, seed)
    rng = np.random.default_rng([seed, 1])
    utts = []
    for n, text in enumerate(texts):
        voice = voices[n % len(voices)]
        u = rng.random(3)
        kind = VOICES[voice][2]
        f0_lo, f0_hi = FLITE_F0.get(voice, FLITE_F0_MALE)
        lo, hi = WARP_PCT[kind]
        if kind == "diphone":
            stretch, warp = 0.9 + 0.45 * u[0], int(rng.integers(lo, hi + 1))
        elif kind == "flite":
            stretch, warp = 0.85 + 0.4 * u[0], int(rng.integers(lo, hi + 1))
        elif kind == "espeak":  # f0_mean, f0_std: eSpeak's pitch and range, 0-100 scales
            stretch, warp = 0.85 + 0.4 * u[0], int(rng.integers(lo, hi + 1))
            f0_lo, f0_hi = ESPEAK_PITCH
        else:
            stretch, warp = 0.85 + 0.35 * u[0], int(rng.integers(lo, hi + 1))
        utts.append(
            _Utt(
                f"en_s{seed}_{n:05d}",
                voice,
                text,
                round(stretch, 3),
                round(f0_lo + (f0_hi - f0_lo) * u[1], 1),
                round(ESPEAK_RANGE[0] + (ESPEAK_RANGE[1] - ESPEAK_RANGE[0]) * u[2], 1)
                if kind == "espeak"
                else round(10.0 + 14.0 * u[2], 1),
                warp,
            )
        )
    return utts



def _to_16k(path: Path, warp_pct: int = 0) -> np.ndarray:
    """(n,) int16 samples at 16 kHz of a Festival WAV, played ``1 + warp_pct/100`` times faster.

    Reading a signal recorded at ``sr`` as if it were at ``sr * k`` multiplies pitch and formant
    frequencies by k and divides durations by k (a shorter or longer vocal tract, a different
    speaker); the labels are divided by k too, so the alignment stays exact. The warped rate is
    ``sr * (100 + warp_pct) / 100``, so both rates go to ``core.audio.resample`` times 100 (integers).
    """
    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    return _warp_to_16k(data[:, 0], sr, warp_pct)


def write_utterance(out_dir: Path, u: _Utt, audio: np.ndarray, segments, *, clip: bool = True) -> float:
    """Write one synthesised utterance: ``<uid>.wav`` (the warped 16 kHz int16 ``audio``) and
    ``<uid>.lab`` (the synthesiser's ``segments`` with their times divided by the warp k, so the
    alignment stays exact); ``clip``: cut the labels at the audio's end (flite and eSpeak NG can end
    a little past it; Festival's never do). Returns the duration in seconds."""
    from core.phones import Segment, write_lab

    sf.write(str(out_dir / (u.uid + ".wav")), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    k = 1.0 + u.warp_pct / 100.0
    dur = len(audio) / SAMPLE_RATE
    if clip:
        segs = [Segment(s.start / k, min(s.end / k, dur), s.phone) for s in segments if s.start / k < dur]
    else:
        segs = [Segment(s.start / k, s.end / k, s.phone) for s in segments]
    write_lab(out_dir / (u.uid + ".lab"), segs)
    return dur


def _warp_to_16k(data: np.ndarray, sr: int, warp_pct: int) -> np.ndarray:
    """``_to_16k`` of int16 samples ``data`` at ``sr`` Hz."""
    if SAMPLE_RATE * 100 == sr * (100 + warp_pct):
        return data
    y = resample(data.astype(np.float64), sr * (100 + warp_pct), SAMPLE_RATE * 100, dtype=np.float64)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class VoiceSummary:
    """What a list of voice names (a model's metadata ``data.voices``) says about who spoke its
    training data: the voices of this module's catalogue (``VOICES``) by program, the recorded
    speakers behind the Festival and flite ones (``SPEAKERS``: kal and flite_kal16 are one speaker)
    and how many are female, the eSpeak NG (formant) voices, the speaker warps' range of k, and
    the names the catalogue does not know (e.g. an imported corpus's speakers)."""

    by_program: dict[str, tuple[str, ...]]
    recorded_speakers: int
    female_speakers: int
    formant_voices: int
    formant_female: int
    warp: tuple[float, float] | None
    other: tuple[str, ...]

    @property
    def synthetic(self) -> bool:
        """True when every voice is one of the catalogue's synthetic voices."""
        return bool(self.by_program) and not self.other


def summarize_voices(voices: Sequence[str]) -> VoiceSummary:
    """``VoiceSummary`` of ``voices`` (each name once; order kept within a program)."""
    names = list(dict.fromkeys(voices))
    known = [v for v in names if v in VOICES]
    by_program: dict[str, tuple[str, ...]] = {}
    for program in ("festival", "flite", "espeak"):
        got = tuple(v for v in known if ENGINES[VOICES[v][2]] == program)
        if got:
            by_program[program] = got
    recorded = {SPEAKERS[v] for v in known if VOICES[v][2] != "espeak"}
    female = {SPEAKERS[v] for v in known if VOICES[v][2] != "espeak" and v in FEMALE_VOICES}
    formant = [v for v in known if VOICES[v][2] == "espeak"]
    pcts = [WARP_PCT[VOICES[v][2]] for v in known]
    warp = (1 + min(p[0] for p in pcts) / 100, 1 + max(p[1] for p in pcts) / 100) if pcts else None
    return VoiceSummary(by_program, len(recorded), len(female), len(formant),
                        sum(v in FEMALE_VOICES for v in formant), warp, tuple(v for v in names if v not in VOICES))
