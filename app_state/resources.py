"""Models, validation sets, statistics, histograms and the map and pair tables shared by every
session (cached, read-only)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app_state.cache import Steps, _disk_key, _memo, disk_store
from core.importance import GradStats, GradStatsCache, pairs
from core.importance.overlap import ClassHistograms, OverlapDetail, class_histograms, full_range_detail
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.train import EvalResult, evaluate, load_validation, most_confused, phone_confusion
from i18n import tr

TORCH_THREADS = int(os.environ.get("DNNLENS_TORCH_THREADS") or 0) or (os.cpu_count() or 1)
"""PyTorch's threads per computation in this server process: every core of the machine, or
``$DNNLENS_TORCH_THREADS`` (``scripts/serve.sh`` gives each of n replicas cores / n). Two
computations run at a time (``_stats_cache``: the warm-up's and a session's); a computation's
PyTorch work releases the interpreter lock, so the sessions' Python work (widgets, tables, charts)
goes on beside it. Chosen on the load benchmark (docs/BENCHMARKS.md, "A class at once")."""
torch.set_num_threads(TORCH_THREADS)
DEFAULT_MODEL = "speech_en_mfbank"
JAPANESE_DEFAULT_MODEL = "speech_ja_mfbank"
"""The first model of a session whose interface is Japanese (no model named in its address)."""


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices, shared by every page."""

    model: str
    sample_set: str  # "all" | "selected"
    stat: str  # "std" | "mean_abs" | "rms"
    output: str  # "posterior" | "logit" | "log_posterior"



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


@st.cache_resource(show_spinner="Loading the model…")
def _model(root: str, name: str):
    net, info = load_model(_speech_models(root)[name].path)
    for p in net.parameters():
        p.requires_grad_(False)
    return net, info


def model(name: str):
    """(model, info) of a speech model, shared read-only by every session."""
    return _model(models_root(), name)


@st.cache_resource(show_spinner="Loading the validation frames…")
def _validation(root: str, name: str):
    frames = load_validation(_model(root, name)[1])
    frames.feats.setflags(write=False)
    return frames, frames.spliced()


def validation(name: str):
    """The model's validation frames (core.data.CorpusFrames, raw features) and its spliced view."""
    return _validation(models_root(), name)


def validation_size(name: str) -> int:
    """Frames in the model's validation set (0 if it cannot be read)."""
    try:
        return int(validation(name)[0].feats.shape[0])
    except ValueError:
        return 0


def validation_voices(name: str) -> int:
    """Voices of the model's validation set (0 if it cannot be read)."""
    try:
        return len(set(validation(name)[0].voices))
    except ValueError:
        return 0


@st.cache_resource(show_spinner=False)
def _stats_cache() -> GradStatsCache:
    return GradStatsCache(max_entries=1024, max_concurrent=2, disk=disk_store(), disk_key=_stats_disk_key)


def _stats_disk_key(key) -> tuple | None:
    """The disk store's key of a (models folder, model name, sample set) statistics key."""
    return _disk_key("gradstats", key)


def _stats_inputs(root: str, name: str) -> tuple:
    """What every input-layer statistic of a model is computed from: (cache key, model, frames,
    labels, keyword arguments); the pages and the background warm-up use exactly this."""
    net, info = _model(root, name)
    frames, view = _validation(root, name)
    kwargs = {"n_labels": len(info.phones), "transform": info.normalizer.apply}
    return (root, name, "validation"), net, view, frames.labels, kwargs


def stats_ready(name: str, output: str, target: tuple[int, ...]) -> bool:
    """True when a target's statistics are computed (its map opens at once)."""
    return _stats_cache().has((models_root(), name, "validation"), [target], output=output)


def grad_stats(name: str, output: str, target: tuple[int, ...], progress=None) -> GradStats:
    """Input-layer gradient statistics of one target over the model's validation set.

    Computed once for every session (``GradStatsCache``: a target asked by several sessions at
    once, or being computed by the background warm-up, is computed once and the others follow its
    progress); later calls for any (labels, statistic) are instant.
    """
    key, net, view, labels, kwargs = _stats_inputs(models_root(), name)
    return _stats_cache().get(key, net, view, labels, [target], output=output, progress=progress, **kwargs)


def _compute_histograms(root: str, name: str, bins: int, progress=None) -> ClassHistograms:
    return _histograms_of(_model(root, name)[1], *_validation(root, name), bins, progress)


def _histograms_of(info: ModelInfo, frames, view, bins: int, progress=None) -> ClassHistograms:
    return class_histograms(
        view,
        frames.labels,
        n_labels=len(info.phones),
        bins=bins,
        transform=info.normalizer.apply,
        names=list(info.phones),
        progress=progress,
    )


def histograms(name: str, bins: int, progress=None) -> ClassHistograms:
    """Per-phoneme histograms of every normalised input on shared bins (and the class means),
    computed once per (model, bins) for every session."""
    root = models_root()
    return _memo("histograms").get(
        (root, name, bins), lambda: _compute_histograms(root, name, bins, progress)
    )


def histograms_ready(name: str, bins: int) -> bool:
    return _memo("histograms").has((models_root(), name, bins))


def prepare(name: str, output: str, targets=(), bins: int | None = None) -> None:
    """Compute what a view needs and is not cached yet, as "Step i of n" with a progress bar from
    the first second: the gradient statistics of each target (a phoneme or state), then the
    histograms (``bins``). Nothing is shown when everything is ready."""
    todo = [t for t in dict.fromkeys(targets) if not stats_ready(name, output, target_of(name, t))]
    need_hist = bins is not None and not histograms_ready(name, bins)
    if not todo and not need_hist:
        return
    steps = Steps(len(todo) + need_hist)
    n = validation_size(name)
    try:
        for t in todo:
            what = tr("the gradients of /{p}/ over {n} validation frames").format(p=t, n=f"{n:,}")
            grad_stats(name, output, target_of(name, t), progress=steps.step(what))
        if need_hist:
            histograms(name, bins, progress=steps.step(tr("the histograms of every input")))
    finally:
        steps.close()


def _evaluate(root: str, name: str) -> EvalResult:
    net, info = _model(root, name)
    return evaluate(net, info)


def evaluation(name: str) -> EvalResult:
    """Accuracy and confusion matrix of the model on its validation set (once for every session)."""
    root = models_root()
    return _memo("evaluation").get((root, name), lambda: _evaluate(root, name))


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
    return list(model(name)[1].phones_in_set)



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
    prepare(cfg.model, cfg.output, [target])
    stats = grad_stats(cfg.model, cfg.output, target_of(cfg.model, target))
    labels = sample_labels(cfg, phones)
    n = int(stats.n.sum() if labels is None else stats.n[labels].sum())
    return PhoneImportance(target, stats.stat(cfg.stat, labels)[0], n)


def class_mean(name: str, phone: str) -> np.ndarray:
    """(input_dim,) mean of every normalised input over the phoneme's validation frames."""
    return histograms(name, DEFAULT_BINS).mean(label_index(name, phone))


TABLE_ENTRIES = 256
"""Map and pair tables kept per server (a table is about 1,400 rows: 100-200 kB)."""


def map_data(cfg: Settings, target: str, phone: str) -> tuple[pd.DataFrame, int]:
    """The importance map's table (``core.importance.pairs.map_table``) of ``target`` with the class mean of
    ``phone``, and the number of frames the statistic is over; built once per server for these
    settings (shared: callers must not change it in place; ``assign`` gives a new one)."""
    prepare(cfg.model, cfg.output, [target], DEFAULT_BINS)

    def compute():
        imp = importance(cfg, target, (phone,))
        return pairs.map_table(model(cfg.model)[1].features, imp.values, class_mean(cfg.model, phone)), imp.n_frames

    return _memo("tables", TABLE_ENTRIES).get((models_root(), cfg, "map", target, phone), compute)


def pair_data(cfg: Settings, a: str, b: str, bins: int) -> tuple[pd.DataFrame, ClassHistograms]:
    """The pair map's table (``core.importance.pairs.pair_table``: importances, product, p_e, eps, score) and
    the histograms it was drawn from; the table built once per server for these settings (shared:
    callers must not change it in place)."""
    prepare(cfg.model, cfg.output, [a, b], bins)
    hist = histograms(cfg.model, bins)

    def compute():
        imp_a, imp_b = importance(cfg, a, (a, b)), importance(cfg, b, (a, b))
        eps, p_e = hist.overlap(label_index(cfg.model, a), label_index(cfg.model, b))
        return pairs.pair_table(model(cfg.model)[1].features, imp_a.values, imp_b.values, p_e, eps)

    return _memo("tables", TABLE_ENTRIES).get((models_root(), cfg, "pair", a, b, bins), compute), hist


def pair_detail(name: str, a: str, b: str, input_index: int, bins: int) -> OverlapDetail:
    """The two densities of one input over the whole range of both classes
    (``core.importance.overlap.full_range_detail``), with the map's eps and p_e; computed once per server.

    Only that input's column is read: the raw feature at its channel and time offset of every frame
    of each class, normalised (a spliced copy of every frame would be (frames, 1,400) floats)."""
    return _memo("pair_detail", 512).get((models_root(), name, a, b, int(input_index), bins),
                                         lambda: _pair_detail(name, a, b, int(input_index), bins))


def _pair_detail(name: str, a: str, b: str, input_index: int, bins: int) -> OverlapDetail:
    _, info = model(name)
    frames, view = validation(name)
    la, lb = label_index(name, a), label_index(name, b)
    n_channels = len(info.normalizer.mean)
    offset, channel = divmod(input_index, n_channels)  # spliced inputs are offset-major
    mean, std = info.normalizer.mean_array[channel], info.normalizer.std_array[channel]
    values = []
    for lab in (la, lb):
        rows = view.rows(np.flatnonzero(frames.labels == lab))[:, offset]
        values.append((np.asarray(view.feats[rows, channel], dtype=np.float32) - mean) / std)
    return full_range_detail(histograms(name, bins), la, lb, input_index, *values)
