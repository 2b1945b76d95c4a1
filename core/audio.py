"""Reading any audio a user gives: path, bytes or file-like -> float32 mono 16 kHz in [-1, 1].

Decoding is soundfile (libsndfile): WAV in PCM 8/16/24/32-bit and float 32/64, FLAC, OGG and the
other formats libsndfile reads. Resampling is scipy.signal.resample_poly (polyphase, Kaiser
window). Every refusal is an ``AudioError`` with one sentence a student understands.

Choices written down here:

- the header is checked (channels, rate, length) before any sample is read, and at most
  ``max_seconds`` of audio is ever read into memory;
- a WAV whose header promises more data than the file holds (libsndfile reports "should be") is
  refused as truncated rather than silently shortened;
- channels are mixed to mono by their mean;
- float files may exceed [-1, 1]; such a signal is scaled down by its peak (the features are
  log energies, so a scale changes nothing but an offset), and the resampled result is clipped
  to [-1, 1] to remove filter overshoot.
"""

from __future__ import annotations

import io
import os
from math import gcd
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from core.text import N_, UserError

SAMPLE_RATE = 16000
MIN_RATE = 8000
MAX_RATE = 96000
MIN_SECONDS = 0.1
MAX_SECONDS = 30.0
UPLOAD_TYPES = ("wav", "flac", "ogg", "oga", "mp3", "aiff", "aif", "m4a")
"""File name endings the upload page offers (libsndfile reads all but m4a, which gets the message
that it cannot be read; what is read is decided by the content, not the name)."""

AudioSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


class AudioError(UserError):
    """Audio a user gave that cannot be used; the message is one sentence for the user."""


def _open(src: AudioSource) -> sf.SoundFile:
    if isinstance(src, (bytes, bytearray, memoryview)):
        if len(src) == 0:
            raise AudioError(N_("The file is empty."))
        fh: object = io.BytesIO(bytes(src))
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise AudioError(N_("There is no audio file at {path}."), path=path)
        if path.stat().st_size == 0:
            raise AudioError(N_("The file is empty."))
        fh = str(path)
    elif hasattr(src, "read"):
        fh = src
        try:
            pos = src.tell()
            src.seek(0, io.SEEK_END)
            empty = src.tell() == pos
            src.seek(pos)
        except (OSError, AttributeError, ValueError):
            empty = False
        if empty:
            raise AudioError(N_("The file is empty."))
    else:
        raise AudioError(N_("Give a file path, bytes or an open binary file."))
    try:
        return sf.SoundFile(fh)
    except sf.LibsndfileError as exc:
        msg = str(exc).lower()
        if "channel count is zero" in msg:
            raise AudioError(N_("The file's header says it has zero channels.")) from None
        if "format not recognised" in msg or "unknown format" in msg:
            raise AudioError(N_("This is not an audio file that can be read (use WAV, FLAC, OGG, MP3 or AIFF).")) from None
        raise AudioError(
            N_("The audio file is damaged or its header is inconsistent ({detail})."),
            detail=str(exc).split(": ", 1)[-1].rstrip("."),
        ) from None
    except (RuntimeError, TypeError, OSError) as exc:
        raise AudioError(N_("The audio file could not be opened ({detail})."), detail=exc) from None


def resample(x: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE, dtype=np.float32) -> np.ndarray:
    """Polyphase resampling (scipy's resample_poly, up/down reduced by their gcd) of (n,) or
    (n, channels) samples from rate_in to rate_out Hz, returned as ``dtype`` (float32 by default;
    the corpus passes float64 so that its int16 rounding is unchanged)."""
    if rate_in == rate_out:
        return x.astype(dtype, copy=False)
    from scipy.signal import (
        resample_poly,  # here: importing scipy.signal takes ~1 s of every server's start-up
    )

    g = gcd(int(rate_in), int(rate_out))
    return resample_poly(x, rate_out // g, rate_in // g, axis=0).astype(dtype, copy=False)


def load_audio(
    src: AudioSource,
    max_seconds: float = MAX_SECONDS,
    min_seconds: float = MIN_SECONDS,
) -> np.ndarray:
    """Samples of ``src`` as (n,) float32, mono, 16 kHz, in [-1, 1].

    src: a path, the file's bytes, or a binary file-like object (e.g. a Streamlit upload).
    Raises AudioError for anything that is not usable audio, shorter than ``min_seconds`` or
    longer than ``max_seconds``.
    """
    with _open(src) as f:
        rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
        if channels < 1:
            raise AudioError(N_("The file's header says it has zero channels."))
        if not MIN_RATE <= rate <= MAX_RATE:
            raise AudioError(N_("The sample rate is {rate} Hz; use a recording between {lo:g} and {hi:g} kHz."),
                             rate=rate, lo=MIN_RATE / 1000, hi=MAX_RATE / 1000)
        if any(line.startswith("data") and "should be" in line for line in (f.extra_info or "").splitlines()):
            # the data chunk promises more than the file holds (a RIFF size that lies alone is harmless:
            # recorders that stream write 0 or 0xFFFFFFFF there)
            raise AudioError(N_("The file is truncated: its header promises more audio than the file holds."))
        seconds = frames / rate
        if frames <= 0 or seconds < min_seconds:
            raise AudioError(
                N_("The recording is {s:.2f} s long; it must last at least {min:g} s."), s=seconds, min=min_seconds
            )
        if seconds > max_seconds:
            raise AudioError(
                N_("The recording is {s:.1f} s long; the limit is {max:g} s. Cut it shorter and try again."),
                s=seconds,
                max=max_seconds,
            )
        try:
            data = f.read(frames=frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(N_("The audio data could not be decoded ({detail})."), detail=exc) from None
    if len(data) < max(1, int(0.9 * frames)):
        raise AudioError(N_("The file is truncated: it holds less audio than its header says."))
    if not np.all(np.isfinite(data)):
        raise AudioError(N_("The file contains invalid samples (NaN or infinity)."))
    mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak > 1.0:
        mono = mono / peak
    out = resample(mono, rate, SAMPLE_RATE)
    return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)


def native_rate(src: AudioSource) -> int:
    """The sample rate ``src`` was recorded at (its header's), before ``load_audio`` brings it to
    16 kHz: below 16 kHz the recording holds nothing above half that rate."""
    with _open(src) as f:
        return int(f.samplerate)


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write (n,) float samples in [-1, 1] as 16-bit PCM mono WAV."""
    sf.write(str(path), np.clip(np.asarray(samples, dtype=np.float32), -1, 1), rate, subtype="PCM_16")


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """The bytes of a 16-bit PCM mono WAV of (n,) float samples in [-1, 1]."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(samples, dtype=np.float32), -1, 1), rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def trim_digital_silence(samples: np.ndarray, min_seconds: float = MIN_SECONDS) -> np.ndarray:
    """``samples`` without the runs of exact zeros at either end (digital silence, as sound editors
    and some recorders leave; real silence is never exactly zero). They carry no sound, but they
    move every figure computed over the whole recording: the per-utterance mean of the features
    (log(eps) in every channel), pocketsphinx's alignment (5.5 % of the frames of a real word
    relabelled by 100 ms of appended zeros, docs/MODELS.md "Digital silence") and the VTLN choice.
    An all-zero recording is returned as it is (``check_audible`` refuses it); AudioError when less
    than ``min_seconds`` of sound is left."""
    x = np.asarray(samples)
    nz = np.flatnonzero(x)
    if nz.size == 0 or (nz[0] == 0 and nz[-1] == x.size - 1):
        return x
    out = x[nz[0] : nz[-1] + 1]
    if out.size < min_seconds * SAMPLE_RATE:
        raise AudioError(N_("The recording holds {s:.2f} s of sound between stretches of digital silence; it must "
                            "last at least {min:g} s."), s=out.size / SAMPLE_RATE, min=min_seconds)
    return out


SILENT_DBFS = -50.0
"""A recording whose loudest 25 ms window is below this level (dB relative to full scale) is silent."""


LEVEL_WINDOW, LEVEL_STEP = 0.025, 0.010
"""Seconds of the windows in which the level checks measure a recording's loudness
(``check_audible``, ``core.voice.align.quality``): the features' default frames."""


def frame_signal(x: np.ndarray, win: int, step: int, n: int | None = None) -> np.ndarray:
    """(n, win) windows of ``win`` samples of (n_samples,) ``x`` every ``step`` samples: the one
    framing of the package (a read-only strided view when no padding is needed). ``n`` (default:
    the whole windows, at least one) frames; the signal is zero-padded at its end to fill them, as
    python_speech_features pads (``core.features.n_frames_for`` gives its count)."""
    x = np.asarray(x)
    if n is None:
        n = max(1, (x.size - win) // step + 1)
    need = (n - 1) * step + win
    if x.size < need:
        x = np.concatenate([x, np.zeros(need - x.size, dtype=x.dtype)])
    return np.lib.stride_tricks.sliding_window_view(x, win)[::step][:n]


def check_audible(samples: np.ndarray, min_dbfs: float = SILENT_DBFS) -> None:
    """AudioError if (n,) samples in [-1, 1] hold no sound: the RMS of every ``LEVEL_WINDOW`` window
    (``LEVEL_STEP`` steps; a shorter recording is one zero-padded window) stays below ``min_dbfs`` (-50 dBFS; a quiet room recorded by a laptop is around -60 to
    -45, speech -30 to -10)."""
    x = np.asarray(samples, dtype=np.float64)
    if not np.any(x):  # digital silence: no level to quote (the log of 0 is only a floor)
        raise AudioError(N_("The recording is silent: every sample is zero. Check the microphone and record again."))
    frames = frame_signal(x, int(LEVEL_WINDOW * SAMPLE_RATE), int(LEVEL_STEP * SAMPLE_RATE))
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loudest = 20 * np.log10(max(float(rms.max()), 1e-12))
    if loudest < min_dbfs:
        raise AudioError(
            N_(
                "The recording is silent (its loudest moment is {db:.0f} dB below full scale); "
                "check the microphone and record again."
            ),
            db=-loudest,
        )
