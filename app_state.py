"""The only place with Streamlit caches and session defaults.

Everything cached here is shared by every user of the server (``st.cache_resource``) and is
read-only: models are never trained, pruned or toggled in place, statistics are frozen objects
with read-only arrays. Pages call these functions; they hold no maths.

Choices written down here:

- The sample set of the dashboard is the model's shipped validation set (held-out utterances).
  Gradient statistics are computed once per (model, output, target) over *all* its frames,
  kept per true label; "frames of the selected phonemes" then selects labels, exactly and
  instantly, so switching the sample set or the statistic never recomputes anything.
- Class histograms (for p_e and the class means) are computed once per (model, bins).
- The shared sidebar settings live in ``st.session_state`` under ``settings_*`` keys and are
  mirrored into the URL (``?model=...&stat=...``) so a view can be shared by its address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.importance import OUTPUTS, GradStats, GradStatsCache
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.overlap import ClassHistograms, class_histograms
from core.phones import PHONES, describe
from core.train import EvalResult, evaluate, load_validation
from i18n import tr

STAT_LABELS = {"std": "σ of dy/dx (the paper's index)", "mean_abs": "mean |dy/dx|", "rms": "rms of dy/dx"}
OUTPUT_LABELS = {"posterior": "posterior (softmax)", "logit": "logit", "log_posterior": "log posterior"}
SAMPLE_SETS = {"all": "all validation frames", "selected": "frames of the selected phonemes"}
DEFAULT_MODEL = "speech_en_mfbank"


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices, shared by every page."""

    model: str
    sample_set: str  # "all" | "selected"
    stat: str  # "std" | "mean_abs" | "rms"
    output: str  # "posterior" | "logit" | "log_posterior"


# ---------------------------------------------------------------------------------------------
# Shared, cached resources (read-only)


def models_root() -> str:
    """The folder of the speech models: the shipped ones, or $DNNLENS_MODELS (tests, other sets).
    Every cache below is keyed by it, so two folders never mix."""
    return os.environ.get("DNNLENS_MODELS") or str(MODELS_DIR)


@st.cache_resource(show_spinner=False)
def _speech_models(root: str) -> dict[str, ModelInfo]:
    return {m.name: m for m in list_models(root) if m.kind == "speech"}


def speech_models() -> dict[str, ModelInfo]:
    """Speech models by name (metadata only)."""
    return _speech_models(models_root())


@st.cache_resource(show_spinner=False)
def _all_models(root: str) -> tuple[ModelInfo, ...]:
    return tuple(list_models(root))


def all_models() -> tuple[ModelInfo, ...]:
    """Every model in the models folder (speech and digits), metadata only, for the model cards."""
    return _all_models(models_root())


@st.cache_resource(show_spinner=False)
def _model(root: str, name: str):
    net, info = load_model(_speech_models(root)[name].path)
    for p in net.parameters():
        p.requires_grad_(False)
    return net, info


def model(name: str):
    """(model, info) of a speech model, shared read-only by every session."""
    return _model(models_root(), name)


@st.cache_resource(show_spinner=False)
def _validation(root: str, name: str):
    frames = load_validation(_model(root, name)[1])
    frames.feats.setflags(write=False)
    return frames, frames.spliced()


def validation(name: str):
    """The model's validation frames (core.corpus.CorpusFrames, raw features) and its spliced view."""
    return _validation(models_root(), name)


def validation_size(name: str) -> int:
    """Frames in the model's validation set (0 if it cannot be read)."""
    try:
        return int(validation(name)[0].feats.shape[0])
    except ValueError:
        return 0


@st.cache_resource(show_spinner=False)
def _stats_cache() -> GradStatsCache:
    return GradStatsCache(max_entries=16)


def grad_stats(name: str, output: str, target: tuple[int, ...]) -> GradStats:
    """Input-layer gradient statistics of one target over the model's validation set.

    Computed on first use (with a progress bar) and kept in a cache shared by all sessions; later
    calls for any (labels, statistic) are instant.
    """
    net, info = model(name)
    frames, view = validation(name)
    bar = None

    def progress(f: float) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(0.0, text=tr("Computing gradients over the validation frames…"))
        bar.progress(min(1.0, f), text=tr("Computing gradients over the validation frames…"))

    stats = _stats_cache().get((models_root(), name, "validation"), net, view, frames.labels, [target],
                               output=output, n_labels=len(PHONES), transform=info.normalizer.apply,
                               progress=progress)
    if bar is not None:
        bar.empty()
    return stats


@st.cache_resource(show_spinner=False)
def _histograms(root: str, name: str, bins: int) -> ClassHistograms:
    _, info = _model(root, name)
    frames, view = _validation(root, name)
    return class_histograms(view, frames.labels, n_labels=len(PHONES), bins=bins,
                            transform=info.normalizer.apply, names=list(PHONES))


def histograms(name: str, bins: int) -> ClassHistograms:
    """Per-phoneme histograms of every normalised input on shared bins (and the class means)."""
    return _histograms(models_root(), name, bins)


@st.cache_resource(show_spinner=False)
def _evaluation(root: str, name: str) -> EvalResult:
    net, info = _model(root, name)
    return evaluate(net, info)


def evaluation(name: str) -> EvalResult:
    """Accuracy and confusion matrix of the model on its validation set."""
    return _evaluation(models_root(), name)


def confused_pairs(name: str, k: int = 6) -> list[tuple[str, str]]:
    """The k most confused phoneme pairs (both directions summed, silence left out)."""
    ev = evaluation(name)
    labels = list(ev.labels)
    conf = np.asarray(ev.confusion, dtype=np.float64)
    rate = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    sym = rate + rate.T
    np.fill_diagonal(sym, 0)
    if "sil" in labels:
        s = labels.index("sil")
        sym[s, :] = sym[:, s] = 0
    order = np.dstack(np.unravel_index(np.argsort(-sym, axis=None), sym.shape))[0]
    out = []
    for i, j in order:
        if i < j and sym[i, j] > 0:
            out.append((labels[i], labels[j]))
        if len(out) == k:
            break
    return out


def target_of(name: str, label: str) -> tuple[int, ...]:
    """Output indices of a phoneme (its 3 states for a state model) or of one state."""
    return model(name)[1].outputs_of(label)


def label_index(name: str, phone: str) -> int:
    """The true-label index of a phoneme's frames (for the per-label statistics and histograms)."""
    return model(name)[1].label_index(phone)


def phones_of(name: str) -> list[str]:
    """The phonemes a model outputs (each once, also for a 3-state model), in PHONES order."""
    labels = model(name)[1].labels
    return [p for p in PHONES if p in labels or f"{p}_S1" in labels]


def phone_label(phone: str) -> str:
    """'s  (/s/ as in 'see')' for select boxes."""
    return f"{phone}  ({describe(phone)})"


# ---------------------------------------------------------------------------------------------
# Sidebar and session state


def _leave_pages_v1_mode() -> None:
    """Make sure dashboard.py's st.navigation drives the app, whatever URL comes first.

    A folder named ``pages/`` next to the entry script puts a fresh Streamlit server in its old
    multipage mode until the entry script has called ``st.navigation`` once; a first visitor who
    opens e.g. ``/phoneme_pair`` directly would get that page without dashboard.py (no wide layout,
    file-name navigation) for every session. A page run in that mode switches it off and reruns,
    which goes through dashboard.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _init(key: str, options: list[str], default: str, param: str) -> None:
    """Session default from the URL (if valid) or ``default``."""
    if key not in st.session_state:
        value = st.query_params.get(param, default)
        st.session_state[key] = value if value in options else default


def _persist(key: str, widget_key: str, param: str) -> None:
    st.session_state[key] = st.session_state[widget_key]
    st.query_params[param] = st.session_state[key]


def _select(label: str, options: list[str], key: str, param: str, default: str, fmt) -> str:
    _init(key, options, default, param)
    st.selectbox(
        label, options, index=options.index(st.session_state[key]), key=f"w_{key}",
        format_func=fmt, on_change=_persist, args=(key, f"w_{key}", param),
    )
    return st.session_state[key]


def sidebar() -> Settings | None:
    """The shared sidebar (every page): model, sample set, statistic, output.

    Returns None (after an st.error) when no speech model is installed.
    """
    _leave_pages_v1_mode()
    models = speech_models()
    if not models:
        st.sidebar.error(tr("No speech model is installed in assets/models; run `make assets`."))
        return None
    names = sorted(models, key=lambda n: (n != DEFAULT_MODEL, n))
    with st.sidebar:
        st.header(tr("Settings"))
        m = _select(tr("Model"), names, "settings_model", "model", names[0],
                    lambda n: f"{n} ({models[n].features.kind.upper()})")
        s = _select(tr("Sample set"), list(SAMPLE_SETS), "settings_sample", "sample", "all",
                    lambda k: tr(SAMPLE_SETS[k]))
        k = _select(tr("Importance"), list(STAT_LABELS), "settings_stat", "stat", "std",
                    lambda k: tr(STAT_LABELS[k]))
        o = _select(tr("Output"), list(OUTPUTS), "settings_output", "output", "posterior",
                    lambda k: tr(OUTPUT_LABELS[k]))
    # the address always shows the current settings (also after a page change or a bad value)
    st.query_params.update({"model": m, "sample": s, "stat": k, "output": o})
    try:  # a damaged model or validation file is one clear message, not a traceback
        model(m)
        validation(m)
    except ValueError as exc:
        st.error(tr("The model {m} cannot be used: {e}").format(m=m, e=exc))
        return None
    return Settings(model=m, sample_set=s, stat=k, output=o)


def page_start(title: str) -> tuple[Settings, ModelInfo]:
    """Every analysis page begins here: the shared sidebar, the title, and the chosen model's
    metadata; the page stops (after the sidebar's one error message) when no model can be used."""
    cfg = sidebar()
    st.title(tr(title))
    if cfg is None:
        st.stop()
    return cfg, model(cfg.model)[1]


def remember(key: str, options: list[str], default: str) -> int:
    """Index for a page widget whose choice survives page changes (kept under ``key``)."""
    value = st.session_state.get(key, st.query_params.get(key, default))
    return options.index(value) if value in options else options.index(default)


def keep(key: str, value) -> None:
    """Store a page widget's choice so it survives page changes, and put it in the URL."""
    st.session_state[key] = value
    if isinstance(value, str):
        st.query_params[key] = value
