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
import pandas as pd
import streamlit as st

from core import charts, pruning
from core.activations import class_mean_activations, predict_proba
from core.features import channel_names
from core.importance import (
    OUTPUTS,
    GradStats,
    GradStatsCache,
    attributions,
    layer_gradient_stats,
)
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.overlap import ClassHistograms, OverlapDetail, class_histograms, full_range_detail
from core.phones import PHONES, describe
from core.train import (
    EvalResult,
    digits_validation,
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
    """The phonemes a model outputs (each once, also for a 3-state model), in PHONES order."""
    labels = model(name)[1].labels
    return [p for p in PHONES if p in labels or f"{p}_S1" in labels]


def phone_label(phone: str) -> str:
    """'s  (/s/ as in 'see')' for select boxes."""
    return f"{phone}  ({describe(phone)})"


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


# ---------------------------------------------------------------------------------------------
# Session state and the URL
#
# Every choice a user makes lives in ``st.session_state[key]`` (so it survives page changes, which
# drop widgets' own state) and in the URL as ``?param=value`` (so a link restores the view). A URL
# value that cannot be used is replaced by the default once, and the replacement is reported in one
# toast per run (``report_repairs``).


def _repair(param: str, bad: str, used) -> None:
    st.session_state.setdefault("_repairs", []).append(f"{param}={bad} → {used}")


def report_repairs() -> None:
    """One toast naming every URL value replaced in this session so far and not yet reported."""
    repairs = st.session_state.pop("_repairs", None)
    if repairs:
        st.toast(tr("This link had values that cannot be used here; changed: {r}").format(r=", ".join(repairs)),
                 icon="🔗")


def choice(key: str, param: str, parse, default, *, widget: str | None = None):
    """The session's value of ``key``: set once from the URL's ``param`` (``parse(text)`` returns the
    value or raises ValueError) or ``default``; an unusable URL value is reported (``report_repairs``).
    ``widget``: the key of the widget that shows it; it is (re)initialised from the value."""
    if key not in st.session_state:
        text = st.query_params.get(param)
        value = default
        if text is not None:
            try:
                value = parse(text)
            except (ValueError, TypeError):
                _repair(param, text, default if not isinstance(default, tuple) else ",".join(map(str, default)))
        st.session_state[key] = value
    else:
        text = st.query_params.get(param)
        if text is not None and text != _as_text(st.session_state[key]):
            # every run writes the session's values into the URL, so a different value here comes from a
            # link followed inside the session (st.page_link with query_params): it wins if it is usable
            try:
                st.session_state[key] = parse(text)
            except (ValueError, TypeError):
                pass
    if widget is not None and (widget not in st.session_state or st.session_state[widget] != st.session_state[key]):
        # a page change drops or resets a widget's own state; the session value is the truth (a
        # widget's on_change copies the user's choice there before the script runs)
        st.session_state[widget] = st.session_state[key]
    return st.session_state[key]


def one_of(options) -> callable:
    """A parser accepting only ``options`` (strings)."""
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text
    return parse


def number_in(lo: float, hi: float, kind=int) -> callable:
    """A parser of one number of ``kind`` within [lo, hi]."""
    def parse(text: str):
        v = kind(text)
        if not lo <= v <= hi:
            raise ValueError(text)
        return v
    return parse


def pair_in(lo: int, hi: int) -> callable:
    """A parser of 'a,b' (integers lo <= a <= b <= hi), for ranges."""
    def parse(text: str) -> tuple[int, int]:
        a, b = (int(v) for v in text.split(","))
        if not lo <= a <= b <= hi:
            raise ValueError(text)
        return a, b
    return parse


def _as_text(value) -> str:
    """A value as the URL writes it (ranges and cells as 'a,b')."""
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def put(key: str, value, param: str | None = None) -> None:
    """Store a choice under ``key`` and write it into the URL (``param``; ranges and cells as 'a,b')."""
    st.session_state[key] = value
    if param is not None:
        st.query_params[param] = _as_text(value)


def _from_widget(key: str, widget: str, param: str) -> None:
    put(key, st.session_state[widget], param)


def widget_args(key: str, param: str) -> dict:
    """Keyword arguments wiring a widget (key ``w_<key>``) to the session value and the URL."""
    return {"key": f"w_{key}", "on_change": _from_widget, "args": (key, f"w_{key}", param)}


def _select(label: str, options: list[str], key: str, param: str, default: str, fmt, help=None) -> str:
    choice(key, param, one_of(options), default, widget=f"w_{key}")
    if st.session_state[f"w_{key}"] not in options:
        st.session_state[f"w_{key}"] = st.session_state[key] = default
    st.selectbox(label, options, format_func=fmt, help=help, **widget_args(key, param))
    return st.session_state[key]


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


HELP = {
    "stat": "How the importance of an input is measured from the gradient dy/dx of the output over the "
            "validation frames: σ (standard deviation over frames, the paper's index: how much the "
            "sensitivity varies), mean |dy/dx| or the root mean square.",
    "output": "Which output y is differentiated: the posterior (softmax probability, the paper's choice), "
              "the logit (the value before the softmax) or the log posterior.",
    "sample": "The frames the statistic is taken over: every validation frame, or only those of the "
              "phonemes shown.",
    "p_e": "p_e = 2(1-ε)/(2-ε): the probability that the input's distributions over the two phonemes' frames "
           "differ (0 = identical, 1 = disjoint); ε is their overlap (the area under both densities).",
    "z": "Inputs are normalised per channel (z = (value - mean) / std over the training frames): 0 is the "
         "average over all frames, +1 one standard deviation above.",
    "score": "score = importance(A) × importance(B) × p_e: inputs both outputs depend on *and* where the two "
             "phonemes look different (METHOD.md section 4).",
    "sigma": "σ of dy/dx: the standard deviation, over many frames, of the derivative of an output y with respect "
             "to an input x. Near a decision boundary the derivative swings from frame to frame; an input the "
             "network ignores has a derivative that stays near 0. Large σ = the output depends on that input.",
    "logit": "Logit: an output's value before the softmax; the posterior is exp(logit) divided by the sum of "
             "exp over all outputs.",
    "posterior": "Posterior: the softmax output, the network's probability that the frame is this phoneme (0 to 1).",
    "log_posterior": "Log posterior: the logarithm of the posterior (logit minus the log of the softmax's "
                     "denominator); its gradient does not vanish when the posterior is near 0 or 1.",
    "eps": "ε (overlap): the area shared by the input's two densities (one per phoneme), "
           "∫ min(p_A, p_B); 1 = identical, 0 = no overlap.",
    "imp": "Imp(l, i): the importance of unit i of layer l (layer 0 = the inputs) = the sum over all outputs j "
           "of σ of dy_j/dh_i, the variation of the gradient of each output with respect to the unit.",
    "orders": "Pruning orders: which units are deleted first. Least / most important first (by Imp); at random "
              "(the band spans several seeds); smallest L1 norm of the unit's weights first (the common "
              "criterion); smallest Taylor score first (mean |unit value × gradient of the training loss|); "
              "for inputs also smallest variance first.",
}
"""Help texts of the technical terms, shown where they appear (widgets' help, captions) and in the
home page's glossary."""


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
                    lambda k: tr(SAMPLE_SETS[k]), help=tr(HELP["sample"]))
        k = _select(tr("Importance"), list(STAT_LABELS), "settings_stat", "stat", "std",
                    lambda k: tr(STAT_LABELS[k]), help=tr(HELP["stat"]))
        o = _select(tr("Output"), list(OUTPUTS), "settings_output", "output", "posterior",
                    lambda k: tr(OUTPUT_LABELS[k]), help=tr(HELP["output"]))
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
        report_repairs()
        st.stop()
    return cfg, model(cfg.model)[1]


def phone_select(label: str, key: str, param: str, phones: list[str], default: str, container=st,
                 on_change=None) -> str:
    """A phoneme select box whose choice survives page changes and is in the URL (``param``).
    ``on_change``: called after the choice is stored."""
    choice(key, param, one_of(phones), default, widget=f"w_{key}")
    if st.session_state[f"w_{key}"] not in phones:  # e.g. another model
        st.session_state[f"w_{key}"] = st.session_state[key] = default if default in phones else phones[0]

    def changed() -> None:
        _from_widget(key, f"w_{key}", param)
        if on_change is not None:
            on_change()

    container.selectbox(label, phones, format_func=phone_label, key=f"w_{key}", on_change=changed)
    st.query_params[param] = st.session_state[key]
    return st.session_state[key]


def choose_pair(a: str, b: str) -> None:
    """Show phonemes a and b (a suggestion's button): both select boxes, the URL, no clicked cell."""
    for key, value in (("pair_a", a), ("pair_b", b)):
        st.session_state[key] = st.session_state[f"w_{key}"] = value
        st.query_params[key] = value
    set_cell(None)


def pair_changed() -> None:
    """A new phoneme in a pair's select box: the detail goes back to the top-ranked cell."""
    set_cell(None)


def pair_choice(phones: list[str]) -> tuple[str, str]:
    """The session's pair (from the URL on a first visit, default /s/ vs /sh/); a link naming the same
    phoneme twice is repaired to /s/ vs /sh/ (or /sh/ vs /s/) and reported."""
    before = (st.session_state.get("pair_a"), st.session_state.get("pair_b"))
    a = choice("pair_a", "pair_a", one_of(phones), "s")
    b = choice("pair_b", "pair_b", one_of(phones), "sh")
    if before[0] is not None and (a, b) != before and st.query_params.get("cell") is None:
        set_cell(None)  # a link to another pair (e.g. home's "start here"): back to its top cell
    if a == b and "w_pair_a" not in st.session_state:  # a link, not the user's own choice
        b = "sh" if a != "sh" else "s"
        _repair("pair_b", a, b)
        put("pair_b", b, "pair_b")
    return a, b


# ---------------------------------------------------------------------------------------------
# The "View" controls of the two analysis pages


@dataclass(frozen=True)
class View:
    """How a map is drawn (nothing here needs new statistics except ``bins``).

    extent: the zoomed part of the grid (time offsets, channel indices; inclusive); top: keep the top
    k % of the cells in view; scale: square area multiplier; contrast: exponent of the area scale
    (``core.charts._area``); colour: ``core.charts.COLOURS`` (phoneme map); bins: histogram bins for
    p_e; rows: rows of the top-cells table; rank: ``core.charts.RANKS`` (pair map).
    """

    extent: charts.Extent
    top: int = 100
    scale: float = 1.0
    contrast: float = 1.0
    colour: str = "importance"
    bins: int = DEFAULT_BINS
    rows: int = 10
    rank: str = "score"


CONTRASTS = (1.0, 1.5, 2.0, 3.0)
VIEW_PARAMS = ("time", "chan", "top", "scale", "contrast", "colour", "bins", "rows", "rank")


def _full_view(fc) -> None:
    full = charts.Extent.full(fc)
    put("view_time", full.time, "time")
    put("view_chan", full.channels, "chan")
    st.session_state["w_view_time"], st.session_state["w_view_chan"] = full.time, full.channels


def view_controls(fc, page: str) -> View:
    """The "View" expander of a map page (``page``: "map" or "pair"), one widget per setting, each
    kept in the session and the URL (shared by the two pages: zooming on one zooms the other)."""
    full = charts.Extent.full(fc)
    lo_t, hi_t = full.time
    choice("view_time", "time", pair_in(lo_t, hi_t), full.time, widget="w_view_time")
    choice("view_chan", "chan", pair_in(*full.channels), full.channels, widget="w_view_chan")
    choice("view_top", "top", number_in(1, 100), 100, widget="w_view_top")
    choice("view_scale", "scale", number_in(0.25, 2.0, float), 1.0, widget="w_view_scale")
    choice("view_contrast", "contrast", lambda t: CONTRASTS[CONTRASTS.index(float(t))], 1.0, widget="w_view_contrast")
    choice("view_colour", "colour", one_of(charts.COLOURS), "importance", widget="w_view_colour")
    choice("view_bins", "bins", number_in(10, 60), DEFAULT_BINS, widget="w_view_bins")
    choice("view_rows", "rows", number_in(5, 50), 10, widget="w_view_rows")
    choice("view_rank", "rank", one_of(charts.RANKS), "score", widget="w_view_rank")
    names = channel_names(fc)
    offsets = list(range(lo_t, hi_t + 1))
    with st.expander(tr("View"), expanded=True):
        c1, c2, c3 = st.columns([2, 2, 1])
        # value= (the full range) makes these range sliders; the session value overrides it
        c1.select_slider(tr("Time range (frames): zooms the map"), offsets, value=full.time,
                         format_func=lambda v: f"{v} ({v * fc.winstep * 1000:+.0f} ms)",
                         **widget_args("view_time", "time"))
        c2.select_slider(tr("Channel range: zooms the map"), list(range(fc.n_channels)),
                         value=full.channels, format_func=lambda c: names[c], **widget_args("view_chan", "chan"))
        c3.button(tr("Full map"), on_click=_full_view, args=(fc,), width="stretch",
                  help=tr("Show every time offset and channel again."))
        c4, c5, c6 = st.columns(3)
        c4.slider(tr("Show the top k % of cells"), 1, 100, **widget_args("view_top", "top"))
        c5.select_slider(tr("Size contrast"), CONTRASTS, format_func=lambda v: f"{v:g}",
                         help=tr("Area ∝ importance^contrast (1: area proportional to importance; larger "
                                 "values shrink the small squares faster). The legend shows the true values."),
                         **widget_args("view_contrast", "contrast"))
        if page == "map":
            c6.slider(tr("Square scale"), 0.25, 2.0, step=0.05, **widget_args("view_scale", "scale"))
            st.radio(tr("Colour"), list(charts.COLOURS), horizontal=True, format_func=lambda k: tr(charts.COLOURS[k]),
                     help=tr("importance: darker = more important (the default); class mean: the input's "
                             "mean over the phoneme's frames, red above average, blue below (the paper's map). ")
                     + tr(HELP["z"]), **widget_args("view_colour", "colour"))
        else:
            c6.slider(tr("Histogram bins"), 10, 60, step=5, help=tr(HELP["p_e"]), **widget_args("view_bins", "bins"))
            c7, c8 = st.columns(2)
            c7.slider(tr("Top cells in the table"), 5, 50, **widget_args("view_rows", "rows"))
            c8.radio(tr("Order of the cells"), list(charts.RANKS), horizontal=True,
                     format_func=lambda k: tr({"score": "score (large and different)", "product": "size only"}[k]),
                     help=tr(HELP["score"]), **widget_args("view_rank", "rank"))
    ss = st.session_state
    view = View(extent=charts.Extent(tuple(ss.view_time), tuple(ss.view_chan)), top=int(ss.view_top),
                scale=float(ss.view_scale), contrast=float(ss.view_contrast), colour=ss.view_colour,
                bins=int(ss.view_bins), rows=int(ss.view_rows), rank=ss.view_rank)
    shown = ("time", "chan", "top", "contrast") + (("scale", "colour") if page == "map" else ("bins", "rows", "rank"))
    for param in shown:
        put(f"view_{param}", ss[f"view_{param}"], param)
    return view


# ---------------------------------------------------------------------------------------------
# The clicked cell of the pair page


def cell_choice(fc) -> tuple[int, int] | None:
    """The chosen cell (offset_frames, channel) of the pair map, or None (then the page shows the
    top-ranked cell); from the URL's ``cell=offset,channel`` on a first visit."""
    def parse(text: str) -> tuple[int, int]:
        o, c = (int(v) for v in text.split(","))
        if not (-fc.context <= o <= fc.context and 0 <= c < fc.n_channels):
            raise ValueError(text)
        return o, c

    return choice("pair_cell", "cell", parse, None)


def set_cell(cell: tuple[int, int] | None) -> None:
    """Choose a cell of the pair map (None: back to the top-ranked one)."""
    st.session_state["pair_cell"] = cell
    if cell is None:
        st.query_params.pop("cell", None)
    else:
        put("pair_cell", cell, "cell")


def _cell_from_chart(chart_key: str) -> None:
    picked = st.session_state[chart_key].selection.get(charts.PAIR_SELECTION) or []
    set_cell((int(picked[0]["offset_frames"]), int(picked[0]["channel"])) if picked else None)


def _cell_from_table(table_key: str) -> None:
    rows = st.session_state[table_key].selection.rows
    shown = st.session_state.get(f"{table_key}_cells", [])
    if rows and rows[0] < len(shown):
        set_cell(tuple(shown[rows[0]]))


def cell_events(chart_key: str, table_key: str) -> dict:
    """``on_select`` callbacks: a click on a square or on a row of the top-cells table chooses that
    cell (the last click wins). The table's cells are given by ``shown_cells``."""
    return {"chart": lambda: _cell_from_chart(chart_key), "table": lambda: _cell_from_table(table_key)}


def shown_cells(table_key: str, rows: pd.DataFrame) -> None:
    """Remember which cells the top-cells table shows, in order (for a click on a row)."""
    st.session_state[f"{table_key}_cells"] = [(int(o), int(c)) for o, c in zip(rows.offset_frames, rows.channel,
                                                                                strict=True)]


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
    update, close = _progress(tr("Deleting filters, retraining and measuring the accuracy…") if units == "filters"
                              else tr("Deleting units and measuring the recognition rate…"))

    def compute():
        return pruning.pruning_curve(net, info, units, layer=layer, orders=orders, retrain=retrain,
                                     importance=imp, progress=update,
                                     points=None if units == "filters" else 30)

    try:
        return _memo("curves").get((models_root(), name, units, layer, orders, stat, output, retrain), compute)
    finally:
        close()


COST_INPUTS = {"speech": 200, "digits": 50}
"""Inputs timed per forward for the "delete k" slider's speed figure (scaled to 1,000; the full and
the pruned network are both timed at each new k): small enough that a new k renders in well under
300 ms (a digit takes the CNN far longer than a frame takes the DNN; docs/BENCHMARKS.md), large enough that the
forward is in its linear regime (core.pruning.model_cost)."""


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

    def compute():
        scores = pruning.unit_scores(net, info, units, order, layer=layer, importance=imp)
        keep = pruning.keep_mask(pruning.deletion_order(scores, order, 0), int(k))
        means = _memo("importance").get((models_root(), name, "means"),
                                        lambda: pruning.layer_means(net, pruning.prune_data(info).x_stats))
        small, meta = pruning.prune(net, info, keep, means=means,
                                    record={"units": units, "order": order, "k": int(k)})
        # the full and the pruned network timed one after the other, now: a fair ratio on a busy server
        n = COST_INPUTS[info.kind]
        full_cost = pruning.model_cost(net, info, repeats=3, n=n)
        return Pruned(small, meta, keep, pruning.model_cost(small, info, repeats=3, n=n), full_cost)

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


def voice_samples() -> dict[str, str]:
    """Shipped sample recordings: file name -> transcript."""
    from core.align import sample_texts
    from core.models import ASSETS_DIR

    return sample_texts(ASSETS_DIR / "samples")


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
