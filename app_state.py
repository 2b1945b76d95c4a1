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
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core import pruning
from core.activations import class_mean_activations, predict_proba
from core.importance import (
    OUTPUTS,
    GradStats,
    GradStatsCache,
    attributions,
    layer_gradient_stats,
)
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.overlap import ClassHistograms, class_histograms
from core.phones import PHONES, describe
from core.train import EvalResult, digits_validation, evaluate, load_validation
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


# ---------------------------------------------------------------------------------------------
# The digit CNN (shared, cached, read-only)


@st.cache_resource(show_spinner=False)
def _digits_models(root: str) -> dict[str, ModelInfo]:
    return {m.name: m for m in list_models(root) if m.kind == "digits"}


def digits_models() -> dict[str, ModelInfo]:
    """Digit models by name (metadata only)."""
    return _digits_models(models_root())


@st.cache_resource(show_spinner=False)
def _digits_model(root: str, name: str):
    net, info = load_model(_digits_models(root)[name].path)
    net.requires_grad_(False)
    return net, info


def digits_model(name: str):
    """(model, info) of a digits model, shared read-only by every session."""
    return _digits_model(models_root(), name)


@st.cache_resource(show_spinner=False)
def _digits_data(root: str, name: str):
    _, info = _digits_model(root, name)
    ds = digits_validation(info)
    x = info.preprocess(ds.images)
    for a in (ds.images, ds.labels, x):
        a.setflags(write=False)
    return ds, x


def digits_data(name: str):
    """(held-out DigitSet with pixels 0..255, the same as the network's normalised input)."""
    return _digits_data(models_root(), name)


@st.cache_resource(show_spinner=False)
def _digit_pixel_stats(root: str, name: str, output: str) -> GradStats:
    net, _ = _digits_model(root, name)
    ds, x = _digits_data(root, name)
    with st.spinner(tr("Computing gradients over the held-out digits…")):
        return layer_gradient_stats(net, x, ds.labels, None, layers=(0,), output=output, n_labels=10)[0]


def pruning_subsets(name: str) -> dict:
    """How core.pruning chose the frames / digits of a model (evaluation, statistics, training)."""
    _, info = any_model(name)
    return dict(pruning.prune_data(info).settings)


def digit_importance_map(name: str, output: str, stat: str, digit: int) -> np.ndarray:
    """(28, 28) importance of every pixel for the output of ``digit`` over all held-out digits."""
    s = _digit_pixel_stats(models_root(), name, output)
    return s.stat(stat)[s.target_index(digit)].reshape(28, 28)


@st.cache_resource(show_spinner=False)
def _digit_mean_maps(root: str, name: str) -> dict[int, np.ndarray]:
    net, _ = _digits_model(root, name)
    ds, x = _digits_data(root, name)
    return class_mean_activations(net, x, ds.labels, (1, 2))


def digit_mean_maps(name: str, digit: int) -> dict[int, np.ndarray]:
    """{conv layer: (filters, H, W)} mean feature maps (after ReLU) over held-out images of ``digit``."""
    return {layer: m[digit] for layer, m in _digit_mean_maps(models_root(), name).items()}


@st.cache_data(show_spinner=False, max_entries=64)
def digit_saliency(name: str, index: int, output: str) -> tuple[np.ndarray, int, np.ndarray]:
    """(gradient of the predicted digit's output w.r.t. the pixels (28, 28), predicted digit,
    posteriors (10,)) for held-out image ``index``."""
    net, _ = digits_model(name)
    _, x = digits_data(name)
    xi = np.array(x[index : index + 1])
    post = predict_proba(net, xi)[0]
    pred = int(post.argmax())
    g = attributions(net, xi, [pred], method="gradient", output=output)[0, 0].reshape(28, 28)
    return g, pred, post


def digits_page_start(title: str) -> tuple[str, ModelInfo, Settings | None]:
    """The digit pages begin here: a sidebar with the digits model and the shared importance and
    output settings; stops after one message when no digits model is installed."""
    _leave_pages_v1_mode()
    models = digits_models()
    st.title(tr(title))
    if not models:
        st.error(tr("No digits model is installed in assets/models; run `make assets`."))
        st.stop()
    names = sorted(models)
    with st.sidebar:
        st.header(tr("Settings"))
        m = _select(tr("Digits model"), names, "settings_digits_model", "digits_model", names[0], str)
        k = _select(tr("Importance"), list(STAT_LABELS), "settings_stat", "stat", "std",
                    lambda k: tr(STAT_LABELS[k]))
        o = _select(tr("Output"), list(OUTPUTS), "settings_output", "output", "posterior",
                    lambda k: tr(OUTPUT_LABELS[k]))
    st.query_params.update({"digits_model": m, "stat": k, "output": o})
    try:
        digits_model(m)
        digits_data(m)
    except ValueError as exc:
        st.error(tr("The model {m} cannot be used: {e}").format(m=m, e=exc))
        st.stop()
    return m, digits_model(m)[1], Settings(model=m, sample_set="all", stat=k, output=o)


def digit_conv1_weights(name: str) -> np.ndarray:
    """(c1, 5, 5) first-layer filter weights of a digits model (a copy)."""
    return digits_model(name)[0].conv1.weight.detach().numpy()[:, 0].copy()


# ---------------------------------------------------------------------------------------------
# Units, filters and pruning (shared by all sessions, computed once per key)


class _Memo:
    """A thread-safe store shared by every session: a value is computed once per key even when
    several sessions ask for it at the same time (the others wait for the first), and at most
    ``max_entries`` values are kept (least recently used dropped)."""

    def __init__(self, max_entries: int = 64):
        self._lock = threading.Lock()
        self._values: OrderedDict = OrderedDict()
        self._key_locks: dict = {}
        self.max_entries = max_entries

    def get(self, key, compute):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._key_locks.pop(key, None)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
            return value


@st.cache_resource(show_spinner=False)
def _memo(kind: str) -> _Memo:
    return _Memo(max_entries=16 if kind == "pruned" else 64)


def _progress(text: str):
    """A progress callback that shows a bar only once work starts; returns (callback, close)."""
    bar = None

    def update(f: float) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(0.0, text=text)
        bar.progress(min(1.0, max(0.0, f)), text=text)

    def close() -> None:
        if bar is not None:
            bar.empty()

    return update, close


def any_model(name: str):
    """(model, info) of a speech or digits model, shared read-only."""
    return digits_model(name) if name in digits_models() else model(name)


def unit_importance_layers(name: str, stat: str, output: str) -> dict[int, np.ndarray]:
    """Imp(l, i) of every layer (speech: input and hidden layers; digits: conv filters), on the
    statistics subset of core.pruning; computed once per (model, statistic, output)."""
    net, info = any_model(name)
    update, close = _progress(tr("Computing the gradients of every layer…"))

    def compute():
        update(0.0)
        return pruning.unit_importance_by_layer(net, info, stat=stat, output=output)

    try:
        return _memo("importance").get((models_root(), name, stat, output), compute)
    finally:
        close()


def prune_curve(name: str, units: str, layer: int | None, orders: tuple[str, ...], stat: str, output: str,
                retrain: bool = True) -> pruning.PruneCurve:
    """Accuracy against units deleted (core.pruning.pruning_curve), the importance orders from the
    given statistic and output; computed once per arguments for every session, with progress."""
    net, info = any_model(name)
    imp = unit_importance_layers(name, stat, output)
    update, close = _progress(tr("Deleting units and measuring the recognition rate…"))

    def compute():
        return pruning.pruning_curve(net, info, units, layer=layer, orders=orders, retrain=retrain,
                                     importance=imp, progress=update,
                                     points=None if units == "filters" else 30)

    try:
        return _memo("curves").get((models_root(), name, units, layer, orders, stat, output, retrain), compute)
    finally:
        close()


COST_INPUTS = 200
"""Inputs timed per forward for the "delete k" slider's speed figure (scaled to 1,000): small
enough that a new k renders in well under 300 ms, large enough that the forward is in its linear
regime (core.pruning.model_cost)."""


@dataclass(frozen=True, eq=False)
class Pruned:
    """A physically pruned model for the "delete k" slider: the model, its save_model metadata, its
    keep-masks and its cost next to the full model's."""

    model: object
    meta: dict
    keep: dict
    cost: pruning.ModelCost
    full_cost: pruning.ModelCost


def pruned_model(name: str, units: str, layer: int | None, order: str, k: int, stat: str, output: str) -> Pruned:
    """The model with k units deleted in ``order`` (random: seed 0), built and measured once. Its
    size and speed do not depend on retraining; ``retrained_zip`` retrains a digit CNN's fully
    connected layers for the download."""
    net, info = any_model(name)
    imp = unit_importance_layers(name, stat, output)

    def full():
        return pruning.model_cost(net, info, repeats=3, n=COST_INPUTS)

    def compute():
        scores = pruning.unit_scores(net, info, units, order, layer=layer, importance=imp)
        keep = pruning.keep_mask(pruning.deletion_order(scores, order, 0), int(k))
        small, meta = pruning.prune(net, info, keep, record={"units": units, "order": order, "k": int(k)})
        full_cost = _memo("importance").get((models_root(), name, "cost"), full)
        return Pruned(small, meta, keep, pruning.model_cost(small, info, repeats=3, n=COST_INPUTS), full_cost)

    return _memo("pruned").get((models_root(), name, units, layer, order, int(k), stat, output), compute)


def retrained_zip(name: str, p: Pruned, folder: str) -> bytes:
    """``model_zip`` of a pruned digit CNN after FC-only retraining (core.pruning.retrain_fc with
    its default settings, which the deletion curves use too)."""
    _, info = any_model(name)
    config = pruning.RetrainConfig()
    small = pruning.retrain_fc(p.model, info, config)
    meta = dict(p.meta)
    meta["training"] = {**meta.get("training", {}), "retrained_after_pruning": {
        "what": "fc1 and fc2 only", "epochs": config.epochs, "lr": config.lr, "batch_size": config.batch_size,
        "seed": config.seed}}
    return model_zip(Pruned(small, meta, p.keep, p.cost, p.full_cost), folder)


def model_zip(p: Pruned, folder: str) -> bytes:
    """The pruned model as a zip of ``folder/model.safetensors`` and ``folder/model.json``
    (unzip into assets/models to use it, or load it with core.models.load_model)."""
    import io
    import tempfile
    import zipfile

    from core.models import save_model

    with tempfile.TemporaryDirectory() as tmp:
        out = save_model(p.model, os.path.join(tmp, folder), p.meta)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(os.listdir(out)):
                z.write(os.path.join(out, f), f"{folder}/{f}")
        return buf.getvalue()
