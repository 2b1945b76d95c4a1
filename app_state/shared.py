"""Models, validation sets and statistics shared by every session (cached, read-only)."""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from app_state.background import Stopped, check_stop, start
from core.diskstore import DiskStore, code_version, fingerprint
from core.importance import (
    GradStats,
    GradStatsCache,
    pairs,
)
from core.importance.overlap import ClassHistograms, OverlapDetail, class_histograms, full_range_detail
from core.models import MODELS_DIR, ModelInfo, list_models, load_model
from core.phones import ENGLISH, PhoneSet
from core.train import (
    EvalResult,
    evaluate,
    load_validation,
    most_confused,
    phone_confusion,
)
from i18n import N_, current_language, tr

STAT_LABELS = {"std": N_("σ of dy/dx (the paper's index)"), "mean_abs": N_("mean |dy/dx|"), "rms": N_("rms of dy/dx")}
STAT_NAMES = {"std": N_("standard deviation σ"), "mean_abs": N_("mean absolute value"), "rms": N_("root mean square")}
"""The statistics' names alone, for sentences that say what they are taken of (STAT_LABELS say "of dy/dx")."""
OUTPUT_LABELS = {"posterior": N_("posterior (softmax)"), "logit": N_("logit"), "log_posterior": N_("log posterior")}
SAMPLE_SETS = {"all": N_("all validation frames"), "selected": N_("frames of the selected phonemes")}
"""Labels of the sidebar's options, in English: show them through ``tr``."""
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


# ---------------------------------------------------------------------------------------------
# Compute-once stores and progress


class _Memo:
    """A thread-safe store shared by every session: a value is computed once per key even when
    several sessions ask for it at the same time (the others wait for the first), and at most
    ``max_entries`` values are kept (least recently used dropped).

    With ``disk`` (a function of the key giving the disk store's key, or None for a key that is not
    kept there), a value is also kept on disk (``core.diskstore``): read from there when this
    process has not computed it yet, so a restarted server or another replica does not compute it
    again."""

    def __init__(self, max_entries: int = 64, disk=None):
        self._lock = threading.Lock()
        self._values: OrderedDict = OrderedDict()
        self._key_locks: dict = {}
        self.max_entries = max_entries
        self.disk = disk

    def peek(self, key):
        """The value of ``key`` if it has been computed, else None (nothing is computed)."""
        with self._lock:
            return self._values.get(key)

    def has(self, key) -> bool:
        """True when ``key``'s value is stored (a ``get`` returns at once)."""
        with self._lock:
            return key in self._values

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
            dk = self.disk(key) if self.disk is not None else None
            value = compute() if dk is None else disk_store().get(dk, compute)
            with self._lock:
                self._values[key] = value
                self._key_locks.pop(key, None)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
            return value


ON_DISK = ("histograms", "evaluation", "importance", "curves", "solid_mask", "digit_stats", "digit_means")
"""The kinds of values also kept on disk (``core.diskstore``): slow to compute, the same for every
session, keyed by (models folder, model name, arguments...)."""


@st.cache_resource(show_spinner=False)
def _memo(kind: str, max_entries: int = 64) -> _Memo:
    """The store of one kind of value (its size is fixed by the first call of that kind)."""
    disk = functools.partial(_disk_key, kind) if kind in ON_DISK else None
    return _Memo(max_entries={"pruned": 16, "histograms": 8}.get(kind, max_entries), disk=disk)


@st.cache_resource(show_spinner=False)
def disk_store() -> DiskStore:
    """The store on disk shared by every process of the machine ($DNNLENS_CACHE)."""
    return DiskStore()


@st.cache_resource(show_spinner=False)
def model_fingerprint(root: str, name: str) -> str | None:
    """What a model's stored values depend on: its files (weights, metadata, validation frames) and
    the code (``core/`` and ``app_state/``: ``core.diskstore.code_version``); None for a name that
    is no model of the folder."""
    from core.models import list_models as _list

    info = next((m for m in _list(root) if m.name == name), None)
    if info is None:
        return None
    files = sorted(p for p in Path(info.path).iterdir() if p.is_file())
    if info.validation_path is not None and Path(info.validation_path).is_file():
        files.append(Path(info.validation_path))
    return f"{fingerprint(files)}-{code_version(Path(__file__).resolve().parent)}"


def _disk_key(kind: str, key) -> tuple | None:
    """The disk store's key of a (models folder, model name, ...) memo key: the model's fingerprint
    instead of the folder (None: not kept on disk)."""
    if not (isinstance(key, tuple) and len(key) >= 2 and isinstance(key[1], str)):
        return None
    fp = model_fingerprint(key[0], key[1])
    return None if fp is None else (kind, fp, *key[2:])


def _progress(text: str):
    """A progress callback that shows a bar only once work starts; returns (callback, close)."""
    bar = None

    def update(f: float) -> None:
        nonlocal bar
        check_stop()
        if bar is None:
            bar = st.progress(0.0, text=text)
        bar.progress(min(1.0, max(0.0, f)), text=text)

    def close() -> None:
        if bar is not None:
            bar.empty()

    return update, close


class Steps:
    """ "Step i of n: what" above a progress bar, shown from the first second of a computation a
    view needs (``n`` = the computations still missing, so a cached view shows nothing)."""

    def __init__(self, n: int):
        self.n, self.i, self._bar = n, 0, None

    def step(self, text: str):
        """Start the next step; returns its progress callback (fraction 0..1)."""
        self.i += 1
        label = tr("Step {i} of {n}: {what}").format(i=self.i, n=self.n, what=text)
        if self._bar is None:
            self._bar = st.progress(0.0, text=label)

        def update(f: float) -> None:
            check_stop()
            self._bar.progress(min(1.0, max(0.0, float(f))), text=label)

        update(0.0)
        return update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()


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
    return GradStatsCache(max_entries=16, max_concurrent=2, disk=disk_store(), disk_key=_stats_disk_key)


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
    info = model(name)[1]
    return [p for p in info.phone_set.phones if p in info.labels or f"{p}_S1" in info.labels]


LANGUAGE_NAMES = {"English": N_("English"), "Japanese": N_("Japanese")}
"""A phone set's language (``PhoneSet.language``) as the interface names it."""


def model_description(info: ModelInfo) -> str:
    """A model's one-line description built from its architecture, in the interface language (the
    ``description`` saved in model.json is English)."""
    a = info.arch
    if info.kind == "speech":
        template = (N_("{lang} state classifier (3 states per phoneme) on {f} features: {l} hidden layers × {w} "
                       "units, {act}") if info.targets == "state" else
                    N_("{lang} phoneme classifier on {f} features: {l} hidden layers × {w} units, {act}"))
        return tr(template).format(
            lang=tr(LANGUAGE_NAMES.get(info.phone_set.language, info.phone_set.language)),
            f=info.features.kind.upper(), l=a.get("n_hidden", "?"), w=a.get("width", "?"),
            act=a.get("activation", "?"))
    return tr("Digit CNN: 5 × 5 convolutions with {c1} and {c2} filters, a fully connected layer of {h}").format(
        c1=a.get("c1", "?"), c2=a.get("c2", "?"), h=a.get("hidden", "?"))


_VOICE_SETTING = re.compile(r"(.+)_a\d+_fm[+-]\d+")  # core.corpus_ja's voice names, e.g. mei_normal_a55_fm-2


def voices_text(voices: list[str]) -> str:
    """A model card's voices, short: each voice once, with how many settings (all-pass constant and
    pitch shift) it was used with, e.g. 'mei_normal (9 settings)'; English voices as they are."""
    counts: dict[str, int] = {}
    for v in voices:
        m = _VOICE_SETTING.fullmatch(v)
        base = m.group(1) if m else v
        counts[base] = counts.get(base, 0) + (1 if m else 0)
    return ", ".join(tr("{v} ({n} settings)").format(v=v, n=n) if n > 1 else v for v, n in counts.items())


def accuracy_caption(info: ModelInfo) -> str:
    """The sidebar's short line under the model: frame accuracy on held-out synthetic frames and
    agreement on real speech it was not trained on (``core.data.real.held_out_sources``: for a model
    trained on every real source, the same recipe with each held out; ``real_speech_text`` says
    more)."""
    from core.data.real import held_out_sources, pooled
    from core.viz.units import accuracy_text

    syn = info.metrics.get("heldout_accuracy")
    real = pooled(held_out_sources(info))
    return tr("Frames right: {s} held-out synthetic, {r} real speech (held out)").format(
        s=accuracy_text(syn) if syn is not None else "?", r=accuracy_text(real["agreement"]) if real else "?")


def real_speech_text(info: ModelInfo) -> str:
    """A speech model's figure on real speech, in one line for its cards (sidebar, Home, Your voice):
    agreement with pocketsphinx's alignment on the non-silence frames of the real-speech set
    (``core.data.real``; stored by ``python -m core evaluate NAME --real --write``), plain and with
    VTLN, the recordings and sources it is over, and how many of those sources the model was trained
    on (then not held out). A model without the figure, or of another language, says so."""
    from core.data.real import pooled
    from core.viz.units import accuracy_text

    real = info.metrics.get("real_speech") or {}
    if info.phone_set.language != "English":
        return tr("Real speech: the real-speech set is English; not measured for this model.")
    if not real.get("overall"):
        return tr("Real speech: not measured (`python -m core evaluate {m} --real --write`).").format(m=info.name)
    o, trained = real["overall"], [s for s in real.get("trained_on", []) if s in real.get("per_source", {})]
    text = tr("On real speech ({r} recordings of {k} sources from Debian's packages): {a} of the non-silence frames "
              "agree with pocketsphinx's alignment ({v} with VTLN).").format(
        r=o["recordings"], k=len(real.get("per_source", {})), a=accuracy_text(o["agreement"]),
        v=accuracy_text(o["agreement_vtln"]))
    if trained:
        text += " " + tr("{n} of those sources were in its training data (not held out).").format(n=len(trained))
    held = (info.metrics.get("real_speech_heldout") or {}).get("per_source") or {}
    if trained and (p := pooled(held)):
        text += " " + tr("Each source held out in turn (the same recipe trained without it): {a} ({v} with VTLN).").format(
            a=accuracy_text(p["agreement"]), v=accuracy_text(p["agreement_vtln"]))
    return text


def phone_set_of(name: str | None) -> PhoneSet:
    """The phone set of a speech model (English for an unknown name)."""
    models = speech_models()
    return models[name].phone_set if name in models else ENGLISH


def phone_labels(phones, model_name: str | None = None) -> dict[str, str]:
    """Select-box labels of ``phones``: 's  (/s/ as in 'sun')' (English), 'sh シ  (/ɕ/ as in the
    Japanese word 'しお shio')' (Japanese: romanisation and kana), in the interface language; the
    phone set is the model's (default: the sidebar's model)."""
    ps, lang = phone_set_of(model_name or st.session_state.get("settings_model")), current_language()
    return {p: _phone_label(p, ps, lang) for p in phones}


@functools.lru_cache(maxsize=4096)
def _phone_label(phone: str, ps: PhoneSet, lang: str) -> str:
    """One phone's label in ``phone_labels`` (a select box formats every option on every rerun:
    remembered)."""
    if phone not in ps:
        return phone
    kana = ps.info[phone].native if ps.native_name == "kana" else ""
    if phone == ps.silence:
        described = tr("silence", lang)
    elif kana:  # a Japanese example word (kana and romanisation)
        described = tr("/{ipa}/ as in the Japanese word '{example}'", lang).format(
            ipa=ps.info[phone].ipa, example=ps.info[phone].example
        )
    else:
        described = tr("/{ipa}/ as in '{example}'", lang).format(ipa=ps.info[phone].ipa, example=ps.info[phone].example)
    return f"{phone}{' ' + kana if kana else ''}  ({described})"


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


# ---------------------------------------------------------------------------------------------
# Background warm-up: every phoneme's statistics of the default model, once per server


@dataclass
class Warmup:
    """Progress of the background warm-up (read by the sidebar; written by its thread only)."""

    name: str
    output: str
    total: int
    done: int = 0
    current: str = ""
    error: BaseException | None = None
    started: float = 0.0
    maps_ready: float | None = None
    finished: float | None = None
    phases: dict = field(default_factory=dict)
    """Seconds each part took (histograms, phonemes, units, ...): for benchmarks."""
    ended: threading.Event = field(default_factory=threading.Event)
    """Set when the warm-up has finished, stopped or failed (``finished`` is then set)."""

    def mark(self, phase: str, t0: float) -> float:
        """Record ``phase`` as the time since ``t0``; returns now (the next phase's start)."""
        now = time.monotonic()
        self.phases[phase] = round(now - t0, 1)
        return now

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


WARMUP_OUTPUT = "posterior"


WARMUP_GROUP = 16
"""Phonemes whose statistics the warm-up computes in one pass over the validation frames: one
forward pass and one batched backward for several targets costs far less than one pass each
(measured on two idle cores, shipped model: 2.5 s for 1 target, 9.3 s for 8, 16.7 s for 16;
docs/BENCHMARKS.md, "A class at once"); a session asking for a phoneme of the group being computed
waits for the group. The paper's phonemes come first, in a group of their own, so the "start here" views are
ready soonest."""


def warmup_order(phones: list[str]) -> list[str]:
    """The paper's phonemes first (the "start here" views), then the others in table order."""
    first = [p for pair in PAPER_PAIRS for p in pair if p in phones]
    return first + [p for p in phones if p not in first]


def warmup_groups(phones: list[str], size: int = WARMUP_GROUP) -> list[list[str]]:
    """``warmup_order`` cut into the groups computed together: the paper's phonemes, then groups of
    ``size``."""
    order = warmup_order(phones)
    first = [p for p in order if any(p in pair for pair in PAPER_PAIRS)]
    rest = order[len(first):]
    return ([first] if first else []) + [rest[i:i + size] for i in range(0, len(rest), size)]


@st.cache_resource(show_spinner=False)
def _warmup(root: str, name: str, output: str) -> Warmup:
    """Start, once per (models folder, model, output), a daemon thread that computes the histograms,
    then every phoneme's gradient statistics, a group at a time (``warmup_groups``), and last the
    first views of Units and pruning, of the Digit CNN's deletions, of the trust page and of the
    Findings page's live cards, through the same caches the
    pages use (so a phoneme a session asks for meanwhile is computed once, and the
    warm-up takes one of the cache's computation slots, leaving the other to the sessions). What
    is already on disk (``core.diskstore``: an earlier run of the server, another replica) is read,
    not computed."""
    # everything the thread needs is resolved here, in the script thread (no st.* call in the thread)
    key, net, view, labels, kwargs = _stats_inputs(root, name)
    info, frames = _model(root, name)[1], _validation(root, name)[0]
    phones = [p for p in info.phone_set.phones if p in info.labels or f"{p}_S1" in info.labels]
    groups = warmup_groups(phones)
    cache, hist, evals = _stats_cache(), _memo("histograms"), _memo("evaluation")
    from app_state.digits import (
        digit_class_means,
        digit_pixel_stats,
        digits_data,
        digits_model,
        digits_models,
    )
    from app_state.findings import live_cards, live_needs, warm_live_findings
    from app_state.methods import warm_solid_masks, warm_trust_report
    from app_state.units import warm_unit_views

    digits = next(iter(digits_models()), None)
    digits = (digits, *digits_model(digits)) if digits is not None else None
    digit_sets = {digits[0]: digits_data(digits[0])} if digits is not None else {}
    digits_data_of = digit_sets.__getitem__  # resolved here, in the script thread (st.cache_resource)
    finding_inputs = {  # the models of the Findings page's live cards (the 3-state model's Fig 4)
        n: (*_stats_inputs(root, n), _model(root, n)[1], _validation(root, n)[0])
        for n in dict.fromkeys(live_needs(k)[0] for k in live_cards(root))
        if n in _speech_models(root)
    }
    w = Warmup(name, output, total=len(phones) + 2, started=time.monotonic())

    def stop_point(_f: float = 0.0) -> None:
        check_stop()  # the process is ending: stop between batches (app_state.background)

    def run() -> None:
        try:
            w.current = "histograms"
            t = time.monotonic()
            hist.get((root, name, DEFAULT_BINS), lambda: _histograms_of(info, frames, view, DEFAULT_BINS, stop_point))
            stop_point()
            evals.get((root, name), lambda: evaluate(net, info, frames))  # the pair page's suggestions
            w.done += 1
            t = w.mark("histograms", t)
            # the deletion curves (many small forward passes, much Python) beside the phonemes' statistics
            # (large matrix products): together they keep both cores busier than one after the other
            curves_error: list[BaseException] = []

            def curves() -> None:
                try:
                    warm_unit_views(root, (name, net, info), digits, "std", output, stop_point)
                except BaseException as e:  # noqa: BLE001 - re-raised in the warm-up's thread
                    curves_error.append(e)

            beside = start(f"dnnlens-warmup-curves-{name}", curves)
            for group in groups:
                stop_point()
                w.current = ", ".join(f"/{p}/" for p in group)
                cache.get(key, net, view, labels, [info.outputs_of(p) for p in group], output=output,
                          progress=stop_point, **kwargs)
                w.done += len(group)
            w.maps_ready = time.monotonic()
            w.mark("phonemes", t)
            w.current = "units"  # the first views of Units and pruning and of the Digit CNN's deletions
            beside.join()
            if curves_error:
                raise curves_error[0]
            t = w.mark("curves", t)  # from the start of both
            # the "hollow squares" switch of the start-here pairs and of the map's first phoneme
            first = PAPER_PAIRS[0][0]  # the map page's and the trust page's first phoneme
            hollow = [pair for pair in PAPER_PAIRS if set(pair) <= set(phones)] + ([(first,)] if first in phones else [])
            warm_solid_masks(root, name, net, info, frames, view, output, hollow, "std", stop_point)
            t = w.mark("hollow", t)
            if first in phones:
                warm_trust_report(root, name, net, info, frames, first, output, stop_point)
            t = w.mark("trust", t)
            if digits is not None:  # the Digit CNN page's first view
                dname, dnet, dinfo = digits
                ds, x = digits_data_of(dname)
                digit_pixel_stats(root, dname, dnet, x, ds.labels, output)
                digit_class_means(root, dname, dnet, x, ds.labels)
            t = w.mark("digits", t)
            w.current = "findings"  # the Findings page's live cards
            warm_live_findings(finding_inputs, stop_point)
            w.mark("findings", t)
            w.done += 1
        except Stopped:
            pass  # the server is stopping; nothing to report
        except Exception as e:  # noqa: BLE001 - shown in the sidebar; pages compute on demand
            w.error = e  # shown in each session's language (i18n.error_text)
        finally:
            w.current, w.finished = "", time.monotonic()
            w.ended.set()

    start(f"dnnlens-warmup-{name}", run)
    return w


def warmup() -> Warmup | None:
    """The background warm-up of the default model's statistics (started on the first page view
    of the server); None when it is switched off (DNNLENS_WARMUP=0, as in the tests) or the default
    model is absent."""
    if os.environ.get("DNNLENS_WARMUP", "1") == "0" or DEFAULT_MODEL not in speech_models():
        return None
    return _warmup(models_root(), DEFAULT_MODEL, WARMUP_OUTPUT)
