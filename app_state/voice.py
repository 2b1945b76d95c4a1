"""Your voice: one recording's posteriors, alignments and gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app_state.resources import DEFAULT_BINS, PAPER_PAIRS, Settings, _model, models_root, pair_detail
from core.importance import (
    attributions,
)
from i18n import N_, tr

# ---------------------------------------------------------------------------------------------
# Your voice (issue 11): one recording's posteriors, alignments and gradients.
# Recordings are keyed by the SHA-256 of their 16 kHz samples; st.cache_data keeps a few per
# server (copies per call, so no session can change another's arrays).

VOICE_MAX_UPLOAD_MB = 20
"""Uploads larger than this are refused before they are read (30 s of 48 kHz stereo float32 is 11.5 MB)."""


@dataclass(frozen=True)
class VoiceAnalysis:
    """What the network hears in one recording: (T, 40) log-mel energies, (T, P) phone posteriors,
    the phone names, the decoded phones (core.voice.align.Decoded), the recording's duration in s, the
    most confident VTLN warp (1 = none; the inputs and gradients use it) and, with VTLN, the choice
    (core.voice.vtln.WarpChoice: the network's confidence under every warp tried; the posteriors are then
    averaged over the warps, core.voice.vtln.vtln_posteriors)."""

    logmel: np.ndarray
    posteriors: np.ndarray
    phones: tuple[str, ...]
    decoded: tuple
    duration: float
    warp: float = 1.0
    warp_choice: object = None


def points_delta(d: float, with_vtln: bool = False) -> str:
    """A change in percentage points for st.metric's delta: the sign first (it sets the arrow and
    colour), "point" for one."""
    one = abs(round(d)) == 1
    if with_vtln:
        text = tr("{d} point with VTLN") if one else tr("{d} points with VTLN")
    else:
        text = tr("{d} point") if one else tr("{d} points")
    return text.format(d=f"{d:+.0f}")


def voice_samples(lang: str | None = None) -> dict[str, str]:
    """Shipped sample recordings: file name -> transcript; with ``lang`` ("en", "ja": a model's
    ``phone_set.name``) only that language's (Japanese samples are named ``ja_*.wav``)."""
    from core.models import ASSETS_DIR
    from core.voice.align import sample_texts

    samples = sample_texts(ASSETS_DIR / "samples")
    if lang is None:
        return samples
    return {f: t for f, t in samples.items() if f.startswith("ja_") == (lang == "ja")}


def voice_sample_path(name: str) -> str:
    from core.models import ASSETS_DIR

    return str(ASSETS_DIR / "samples" / name)


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_load(data: bytes) -> tuple[np.ndarray, float]:
    from core.audio import SAMPLE_RATE, check_audible, load_audio, trim_digital_silence

    x = load_audio(data)
    check_audible(x)
    trimmed = trim_digital_silence(x)
    return trimmed, (len(x) - len(trimmed)) / SAMPLE_RATE


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_rate(data: bytes) -> int:
    from core.audio import native_rate

    return native_rate(data)


def voice_native_rate(src) -> int:
    """The sample rate a recording (bytes or an upload) was made at; call after ``voice_audio``
    accepted it."""
    return _voice_rate(src if isinstance(src, bytes) else src.getvalue())


def voice_audio(src) -> tuple[np.ndarray, str, float]:
    """(16 kHz float32 samples, key, seconds of digital silence cut off) of a file's bytes or of an
    upload / recording (its size is checked before its bytes are read; exact zeros at either end are
    cut off, ``core.audio.trim_digital_silence``).

    Raises core.audio.AudioError (one sentence) for anything that cannot be used, silence included.
    """
    import hashlib

    from core.audio import AudioError

    size = getattr(src, "size", None)
    size = len(src) if size is None else size
    if size > VOICE_MAX_UPLOAD_MB * 2**20:
        raise AudioError(N_("The file is {mb:.0f} MB; the limit is {limit} MB."), mb=size / 2**20,
                         limit=VOICE_MAX_UPLOAD_MB)
    x, cut = _voice_load(src if isinstance(src, bytes) else src.getvalue())
    return x, hashlib.sha256(x.tobytes()).hexdigest()[:16], cut


# Each computation below is one function of (net, info, ...); the shared model's results are kept per
# server (st.cache_data), those of a session's adapted copy with that copy in the session (``_mine``).


def _analysis_of(net, info, vtln: bool, x: np.ndarray) -> VoiceAnalysis:
    from core.audio import SAMPLE_RATE
    from core.features import extract
    from core.models.inference import phone_posteriors
    from core.viz.voice import SPECTROGRAM
    from core.voice.align import decode
    from core.voice.vtln import vtln_posteriors

    choice, post = vtln_posteriors(net, info, x) if vtln else (None, phone_posteriors(net, info, x))
    warp = choice.warp if choice is not None else 1.0
    logmel = extract(x, SPECTROGRAM)
    duration = len(x) / SAMPLE_RATE
    return VoiceAnalysis(logmel, post, tuple(info.phones), decode(post, duration, info.phones), duration, warp, choice)


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_analysis(root: str, name: str, key: str, vtln: bool, _x: np.ndarray) -> VoiceAnalysis:
    return _analysis_of(*_model(root, name), vtln, _x)


MINE_MAX = 64
"""Results of a session's adapted copy kept with it (the oldest dropped first)."""


def _mine(what: tuple, compute):
    """``compute()`` for this session's adapted copy, kept with that copy under ``what`` (a fresh
    adaptation starts empty)."""
    memo = st.session_state["voice_adapted"].setdefault("memo", {})
    if what not in memo:
        if len(memo) >= MINE_MAX:
            memo.pop(next(iter(memo)))
        memo[what] = compute()
    return memo[what]


def _adapted_net(name: str):
    got = voice_adapted(name)
    if got is None:
        raise KeyError(f"no adapted copy of {name} in this session")
    return got[0], got[1]


def voice_analysis(name: str, key: str, x: np.ndarray, vtln: bool = False, adapted: bool = False) -> VoiceAnalysis:
    """Spectrogram, posteriors and decoded phones of the recording ``key`` (samples ``x``) under model
    ``name`` (``adapted``: this session's adapted copy of it); with ``vtln``, the posteriors averaged
    over the warps, weighted by the network's confidence under each (core.voice.vtln.vtln_posteriors; no
    transcript needed)."""
    if adapted:
        return _mine(("analysis", key, bool(vtln)), lambda: _analysis_of(*_adapted_net(name), bool(vtln), x))
    return _voice_analysis(models_root(), name, key, bool(vtln), x)


@st.cache_data(show_spinner=False, max_entries=32)
def _voice_alignment(root: str, name: str, key: str, text: str, aligner: str, vtln: bool, _x: np.ndarray):
    from core.voice.align import align

    posteriors = _voice_analysis(root, name, key, vtln, _x).posteriors if aligner == "network" else None
    return align(_x, text, aligner, info=_model(root, name)[1], posteriors=posteriors)


def voice_alignment(name: str, key: str, x: np.ndarray, text: str, aligner: str, vtln: bool = False,
                    adapted: bool = False):
    """core.voice.align.Alignment of ``text`` in the recording (AlignError for a transcript that cannot be
    used); the network's own alignment uses the posteriors of ``voice_analysis(..., vtln, adapted)``
    (pocketsphinx's is the same whatever the network)."""
    text, vtln = " ".join(text.split()), bool(vtln) and aligner == "network"
    if adapted and aligner == "network":
        from core.voice.align import align

        def compute():
            posteriors = voice_analysis(name, key, x, vtln, adapted=True).posteriors
            return align(x, text, aligner, info=_adapted_net(name)[1], posteriors=posteriors)

        return _mine(("alignment", key, text, vtln), compute)
    return _voice_alignment(models_root(), name, key, text, aligner, vtln, x)


def _window_of(net, info, frame: int, phone: str, warp: float, x: np.ndarray):
    from core.models.inference import network_inputs

    inputs = network_inputs(info, x, warp=warp)
    one = inputs[frame : frame + 1]
    grad = attributions(net, one, [info.outputs_of(phone)], method="gradient", output="posterior")[0, 0]
    k = info.features.n_context_frames
    return one[0].reshape(k, -1), grad.reshape(k, -1)


@st.cache_data(show_spinner=False, max_entries=64)
def _voice_window(root: str, name: str, key: str, frame: int, phone: str, warp: float, _x: np.ndarray):
    return _window_of(*_model(root, name), frame, phone, warp, _x)


def voice_window(name: str, key: str, x: np.ndarray, frame: int, phone: str, warp: float = 1.0,
                 adapted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """((35, C) normalised input window of ``frame``, (35, C) gradient of ``phone``'s posterior there),
    the features computed under the VTLN ``warp`` (1 = none); ``adapted``: this session's copy."""
    if adapted:
        return _mine(("window", key, int(frame), phone, float(warp)),
                     lambda: _window_of(*_adapted_net(name), int(frame), phone, float(warp), x))
    return _voice_window(models_root(), name, key, int(frame), phone, float(warp), x)


def voice_time_from_chart(chart_key: str, slider_key: str, duration: float) -> None:
    """on_select callback of the voice chart: a click on the spectrogram moves the time cursor (the
    slider ``slider_key``) to the middle of the clicked column."""
    from core.viz.voice import TIME_SELECTION

    picked = st.session_state[chart_key].selection.get(TIME_SELECTION) or []
    if picked and "t0" in picked[0]:
        t = 0.5 * (float(picked[0]["t0"]) + float(picked[0].get("t1", picked[0]["t0"])))
        st.session_state[slider_key] = float(round(min(max(t, 0.0), duration), 2))


def voice_labels(segments: tuple, fmt: str) -> bytes:
    """A .lab (``fmt="lab"``) or TextGrid (``"textgrid"``) file of the segments, as bytes."""
    from core.voice.align import label_file_bytes

    return label_file_bytes(segments, fmt)


# --- the student's frames against the corpus (core.voice.compare) -----------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_inputs(root: str, name: str, key: str, warp: float, _x: np.ndarray) -> np.ndarray:
    from core.models.inference import network_inputs

    return network_inputs(_model(root, name)[1], _x, warp=warp)


def voice_frames(name: str, key: str, x: np.ndarray, alignment, warp: float = 1.0):
    """core.voice.compare.StudentFrames: the recording's network inputs (under the VTLN ``warp``)
    labelled by ``alignment``. An adapted copy has the model's features and normaliser (its input
    map is folded into its first layer), so its inputs are the same."""
    from core.voice.compare import student_frames

    return student_frames(_voice_inputs(models_root(), name, key, float(warp), x), alignment.phones,
                          _model(models_root(), name)[1].phone_set)


def voice_default_pair(counts: dict[str, int]) -> tuple[str, str]:
    """The pair to compare first: /s/-/sh/ or /b/-/d/ when the recording has both (the paper's
    pairs), else its two phonemes with the most frames (silence left out)."""
    for a, b in PAPER_PAIRS:
        if counts.get(a) and counts.get(b):
            return a, b
    speech = [p for p in counts if p != "sil"] + ["s", "sh"]
    return speech[0], next(p for p in speech[1:] if p != speech[0])


def voice_corpus_detail(cfg: Settings, a: str, b: str, input_index: int):
    """The corpus densities of one input for a and b (the pair page's, DEFAULT_BINS)."""
    return pair_detail(cfg.model, a, b, int(input_index), DEFAULT_BINS)


@st.cache_data(show_spinner=False, max_entries=32)
def _voice_pair(
    root: str, name: str, key: str, align_key: tuple, a: str, b: str, stat: str, output: str, _sf
) -> pd.DataFrame:
    from core.voice.compare import student_pair_table

    net, info = _model(root, name)
    return student_pair_table(net, info, _sf, a, b, stat=stat, output=output, bins=DEFAULT_BINS)


def voice_pair(cfg: Settings, key: str, align_key: tuple, sf, a: str, b: str, adapted: bool = False) -> pd.DataFrame:
    """The pair table of a and b over the student's frames (core.voice.compare.student_pair_table;
    CompareError with the frame counts when there are too few); ``adapted``: the importance of this
    session's adapted copy."""
    if adapted:
        from core.voice.compare import student_pair_table

        net, info = _adapted_net(cfg.model)
        return _mine(("pair", key, align_key, a, b, cfg.stat, cfg.output),
                     lambda: student_pair_table(net, info, sf, a, b, stat=cfg.stat, output=cfg.output,
                                                bins=DEFAULT_BINS))
    return _voice_pair(models_root(), cfg.model, key, align_key, a, b, cfg.stat, cfg.output, sf)


# --- adapting the network to the student's voice (core.voice.adapt), kept in the session only ---


def voice_adaptation_set() -> dict:
    """This session's recordings chosen for adaptation: key -> (samples, segments, name). Never
    shared with other sessions."""
    return st.session_state.setdefault("voice_adapt_set", {})


def voice_add_for_adaptation(key: str, x: np.ndarray, segments: tuple, name: str) -> None:
    voice_adaptation_set()[key] = (x, tuple(segments), name)


def voice_clear_adaptation() -> None:
    st.session_state["voice_adapt_set"] = {}
    st.session_state.pop("voice_adapted", None)
    st.session_state.pop("voice_adapt_error", None)


ADAPT_CONFIG = None
"""The page's adaptation settings (None: ``core.voice.adapt.AdaptConfig()``'s defaults)."""


def voice_adapt(name: str):
    """Adapt a copy of model ``name`` to this session's adaptation set (core.voice.adapt.adapt); kept in the
    session (``voice_adapted``), the shared model is never changed. Returns (model, info, AdaptReport)."""
    from core.voice.adapt import AdaptConfig, AdaptError, adapt

    recs = voice_adaptation_set()
    net, info = _model(models_root(), name)
    st.session_state.pop("voice_adapt_error", None)
    with st.spinner(tr("Adapting a copy of the network (several seconds per recording)…")):
        try:
            new, new_info, report = adapt(net, info, [(x, list(segs)) for x, segs, _ in recs.values()],
                                          ADAPT_CONFIG or AdaptConfig(), names=[f"“{n}”" for _, _, n in recs.values()])
        except AdaptError as exc:  # a callback: kept for the page to show (voice_adapt_error), not raised
            st.session_state["voice_adapt_error"] = exc
            return None
    st.session_state["voice_adapted"] = {"model": name, "keys": tuple(recs), "net": new, "info": new_info,
                                         "report": report}
    return new, new_info, report


def voice_adapt_error() -> BaseException | None:
    """Why this session's last adaptation failed (core.voice.adapt.AdaptError), or None."""
    return st.session_state.get("voice_adapt_error")


def voice_adapted(name: str):
    """(model, info, report) of this session's adaptation of ``name`` to its current adaptation set,
    or None."""
    got = st.session_state.get("voice_adapted")
    if got and got["model"] == name and got["keys"] == tuple(voice_adaptation_set()):
        return got["net"], got["info"], got["report"]
    return None


def phone_error_html(errors) -> str:
    """The aligned expected and decoded phones as boxes that wrap with the page's width: each box the
    expected phone over the decoded one, shaded where they differ (red: substituted; orange: missing
    or inserted), with the row names first."""
    from html import escape

    shade = {"ok": "#f4f4f6", "sub": "#f5c6c0", "del": "#fde3c4", "ins": "#fde3c4"}
    cell = ("display:inline-block;margin:0 3px 4px 0;padding:2px 6px;border-radius:4px;text-align:center;"
            "font-family:monospace;line-height:1.35;background:{bg}")
    head = (f'<span style="{cell.format(bg="transparent")};text-align:right;color:#666">'
            f'{escape(tr("expected"))}<br>{escape(tr("decoded"))}</span>')
    boxes = "".join(f'<span style="{cell.format(bg=shade[op])}" title="{op}">{escape(a)}<br>{escape(b)}</span>'
                    for a, b, op in errors.rows)
    return f'<div style="line-height:1">{head}{boxes}</div>'
