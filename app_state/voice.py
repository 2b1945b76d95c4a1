"""Your voice: one recording's posteriors, alignments and gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_state.shared import _model, models_root
from core.importance import (
    attributions,
)

# ---------------------------------------------------------------------------------------------
# Your voice (issue 11): one recording's posteriors, alignments and gradients.
# Recordings are keyed by the SHA-256 of their 16 kHz samples; st.cache_data keeps a few per
# server (copies per call, so no session can change another's arrays).

VOICE_MAX_UPLOAD_MB = 20
"""Uploads larger than this are refused before they are read (30 s of 48 kHz stereo float32 is 11.5 MB)."""


@dataclass(frozen=True)
class VoiceAnalysis:
    """What the network hears in one recording: (T, 40) log-mel energies, (T, P) phone posteriors,
    the phone names, the decoded phones (core.align.Decoded) and the recording's duration in s."""

    logmel: np.ndarray
    posteriors: np.ndarray
    phones: tuple[str, ...]
    decoded: tuple
    duration: float


def voice_samples(lang: str | None = None) -> dict[str, str]:
    """Shipped sample recordings: file name -> transcript; with ``lang`` ("en", "ja": a model's
    ``phone_set.name``) only that language's (Japanese samples are named ``ja_*.wav``)."""
    from core.align import sample_texts
    from core.models import ASSETS_DIR

    samples = sample_texts(ASSETS_DIR / "samples")
    if lang is None:
        return samples
    return {f: t for f, t in samples.items() if f.startswith("ja_") == (lang == "ja")}


def voice_sample_path(name: str) -> str:
    from core.models import ASSETS_DIR

    return str(ASSETS_DIR / "samples" / name)


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_load(data: bytes) -> np.ndarray:
    from core.audio import check_audible, load_audio

    x = load_audio(data)
    check_audible(x)
    return x


def voice_audio(src) -> tuple[np.ndarray, str]:
    """(16 kHz float32 samples, key) of a file's bytes or of an upload / recording (its size is
    checked before its bytes are read).

    Raises core.audio.AudioError (one sentence) for anything that cannot be used, silence included.
    """
    import hashlib

    from core.audio import AudioError

    size = getattr(src, "size", None)
    size = len(src) if size is None else size
    if size > VOICE_MAX_UPLOAD_MB * 2**20:
        raise AudioError(f"The file is {size / 2**20:.0f} MB; the limit is {VOICE_MAX_UPLOAD_MB} MB.")
    x = _voice_load(src if isinstance(src, bytes) else src.getvalue())
    return x, hashlib.sha256(x.tobytes()).hexdigest()[:16]


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_analysis(root: str, name: str, key: str, _x: np.ndarray) -> VoiceAnalysis:
    from core.align import decode, phone_posteriors
    from core.audio import SAMPLE_RATE
    from core.features import FeatureConfig, extract

    net, info = _model(root, name)
    post = phone_posteriors(net, info, _x)
    logmel = extract(_x, FeatureConfig(kind="mfbank"))
    duration = len(_x) / SAMPLE_RATE
    return VoiceAnalysis(logmel, post, tuple(info.phones), decode(post, duration, info.phones), duration)


def voice_analysis(name: str, key: str, x: np.ndarray) -> VoiceAnalysis:
    """Spectrogram, posteriors and decoded phones of the recording ``key`` (samples ``x``) under model ``name``."""
    return _voice_analysis(models_root(), name, key, x)


@st.cache_data(show_spinner=False, max_entries=32)
def _voice_alignment(root: str, name: str, key: str, text: str, aligner: str, _x: np.ndarray):
    from core.align import align

    posteriors = _voice_analysis(root, name, key, _x).posteriors if aligner == "network" else None
    return align(_x, text, aligner, info=_model(root, name)[1], posteriors=posteriors)


def voice_alignment(name: str, key: str, x: np.ndarray, text: str, aligner: str):
    """core.align.Alignment of ``text`` in the recording (AlignError for a transcript that cannot be used)."""
    return _voice_alignment(models_root(), name, key, " ".join(text.split()), aligner, x)


@st.cache_data(show_spinner=False, max_entries=64)
def _voice_window(root: str, name: str, key: str, frame: int, phone: str, _x: np.ndarray):
    from core.align import network_inputs

    net, info = _model(root, name)
    inputs = network_inputs(info, _x)
    x = inputs[frame : frame + 1]
    grad = attributions(net, x, [info.outputs_of(phone)], method="gradient", output="posterior")[0, 0]
    k = info.features.n_context_frames
    return x[0].reshape(k, -1), grad.reshape(k, -1)


def voice_window(name: str, key: str, x: np.ndarray, frame: int, phone: str) -> tuple[np.ndarray, np.ndarray]:
    """((35, C) normalised input window of ``frame``, (35, C) gradient of ``phone``'s posterior there)."""
    return _voice_window(models_root(), name, key, int(frame), phone, x)


def voice_labels(segments: tuple, fmt: str) -> bytes:
    """A .lab (``fmt="lab"``) or TextGrid (``"textgrid"``) file of the segments, as bytes."""
    from core.align import label_file_bytes

    return label_file_bytes(segments, fmt)
