"""The background warm-up: once per server, a thread computes what the first views of every page
need (every phoneme's statistics of the default model, the curves, masks, reports and live cards),
through the same caches the pages use."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from app_state.background import Stopped, check_stop, start
from app_state.cache import _memo
from app_state.resources import (
    DEFAULT_BINS,
    DEFAULT_MODEL,
    PAPER_PAIRS,
    _histograms_of,
    _model,
    _speech_models,
    _stats_cache,
    _stats_inputs,
    _validation,
    models_root,
    speech_models,
)
from core.train import evaluate


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
    phones = list(info.phones_in_set)
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

