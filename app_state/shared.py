"""Models, validation sets and statistics shared by every session (cached, read-only)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from core import charts
from core.importance import (
    GradStats,
    GradStatsCache,
)
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.overlap import ClassHistograms, OverlapDetail, class_histograms, full_range_detail
from core.phones import ENGLISH, PhoneSet
from core.train import (
    EvalResult,
    evaluate,
    load_validation,
    most_confused,
    phone_confusion,
)
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
    return GradStatsCache(max_entries=16, max_concurrent=2)


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

    stats = _stats_cache().get(
        (models_root(), name, "validation"),
        net,
        view,
        frames.labels,
        [target],
        output=output,
        n_labels=len(info.phones),
        transform=info.normalizer.apply,
        progress=progress,
    )
    if bar is not None:
        bar.empty()
    return stats


@st.cache_resource(show_spinner=False)
def _histograms(root: str, name: str, bins: int) -> ClassHistograms:
    _, info = _model(root, name)
    frames, view = _validation(root, name)
    return class_histograms(
        view,
        frames.labels,
        n_labels=len(info.phones),
        bins=bins,
        transform=info.normalizer.apply,
        names=list(info.phones),
    )


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
    """The k most confused *phoneme* pairs (``core.train.most_confused`` on the phoneme-level
    confusion: a 3-state model's state blocks summed; both directions summed, silence left out)."""
    phones, conf = phone_confusion(evaluation(name))
    return most_confused(phones, conf, k)


PAPER_PAIRS = (("s", "sh"), ("b", "d"))
"""The pairs of the paper's findings (METHOD.md section 4), always offered first."""


def suggested_pairs(name: str, k: int = 6) -> list[tuple[str, str]]:
    """The paper's pairs (those the model has) followed by the model's most confused phoneme pairs,
    each pair once, ``k`` in all."""
    have = set(phones_of(name))
    out = [p for p in PAPER_PAIRS if set(p) <= have]
    for a, b in confused_pairs(name, k):
        if (a, b) not in out and (b, a) not in out:
            out.append((a, b))
    return out[:k]


def target_of(name: str, label: str) -> tuple[int, ...]:
    """Output indices of a phoneme (its 3 states for a state model) or of one state."""
    return model(name)[1].outputs_of(label)


def label_index(name: str, phone: str) -> int:
    """The true-label index of a phoneme's frames (for the per-label statistics and histograms)."""
    return model(name)[1].label_index(phone)


def phones_of(name: str) -> list[str]:
    """The phonemes a model outputs (each once, also for a 3-state model), in its phone set's order."""
    info = model(name)[1]
    return [p for p in info.phone_set.phones if p in info.labels or f"{p}_S1" in info.labels]


def phone_set_of(name: str | None) -> PhoneSet:
    """The phone set of a speech model (English for an unknown name)."""
    models = speech_models()
    return models[name].phone_set if name in models else ENGLISH


def phone_label(phone: str, model_name: str | None = None) -> str:
    """'s  (/s/ as in 'sun')' (English), 'sh シ  (/ɕ/ as in 'しお shio')' (Japanese: romanisation and
    kana) for select boxes; the phone set is the model's (default: the sidebar's model)."""
    ps = phone_set_of(model_name or st.session_state.get("settings_model"))
    if phone not in ps:
        return phone
    kana = ps.info[phone].native if ps.native_name == "kana" else ""
    return f"{phone}{' ' + kana if kana else ''}  ({ps.describe(phone)})"


DEFAULT_BINS = 30
"""Histogram bins per input when the user has not chosen (the class means do not depend on it:
they come from the histograms' running sums)."""


@dataclass(frozen=True, eq=False)
class PhoneImportance:
    """A target's importance for the current settings: ``values`` (input_dim,) float64, over
    ``n_frames`` validation frames."""

    target: str
    values: np.ndarray
    n_frames: int


def sample_labels(cfg: Settings, phones: tuple[str, ...]) -> list[int] | None:
    """True-label indices of the sample set: None (every frame) or the frames of ``phones``."""
    if cfg.sample_set == "all":
        return None
    return [label_index(cfg.model, p) for p in phones]


def importance(cfg: Settings, target: str, phones: tuple[str, ...]) -> PhoneImportance:
    """Importance (``cfg.stat`` of the gradient of ``cfg.output``) of ``target`` (a phoneme, or one
    state such as ``s_S2``) over the sample set (``phones``: the selected phonemes)."""
    stats = grad_stats(cfg.model, cfg.output, target_of(cfg.model, target))
    labels = sample_labels(cfg, phones)
    n = int(stats.n.sum() if labels is None else stats.n[labels].sum())
    return PhoneImportance(target, stats.stat(cfg.stat, labels)[0], n)


def class_mean(name: str, phone: str) -> np.ndarray:
    """(input_dim,) mean of every normalised input over the phoneme's validation frames."""
    return histograms(name, DEFAULT_BINS).mean(label_index(name, phone))


def map_data(cfg: Settings, target: str, phone: str) -> tuple[pd.DataFrame, int]:
    """The importance map's table (``core.charts.map_table``) of ``target`` with the class mean of
    ``phone``, and the number of frames the statistic is over."""
    imp = importance(cfg, target, (phone,))
    table = charts.map_table(model(cfg.model)[1].features, imp.values, class_mean(cfg.model, phone))
    return table, imp.n_frames


def pair_data(cfg: Settings, a: str, b: str, bins: int) -> tuple[pd.DataFrame, ClassHistograms]:
    """The pair map's table (``core.charts.pair_table``: importances, product, p_e, eps, score) and
    the histograms it was drawn from."""
    imp_a, imp_b = importance(cfg, a, (a, b)), importance(cfg, b, (a, b))
    hist = histograms(cfg.model, bins)
    eps, p_e = hist.overlap(label_index(cfg.model, a), label_index(cfg.model, b))
    return charts.pair_table(model(cfg.model)[1].features, imp_a.values, imp_b.values, p_e, eps), hist


def pair_detail(name: str, a: str, b: str, input_index: int, bins: int) -> OverlapDetail:
    """The two densities of one input over the whole range of both classes
    (``core.overlap.full_range_detail``), with the map's eps and p_e."""
    _, info = model(name)
    frames, view = validation(name)
    la, lb = label_index(name, a), label_index(name, b)
    values = []
    for lab in (la, lb):
        idx = np.flatnonzero(frames.labels == lab)
        values.append(info.normalizer.apply(view[idx])[:, int(input_index)])
    return full_range_detail(histograms(name, bins), la, lb, int(input_index), *values)
