"""Which importance to trust: the method comparison (core.trust), and the per-utterance resamples
that mark the cells of the importance and pair maps not distinguishable from zero. Shared by all
sessions, computed once per key (``app_state.cache._memo``, a ``core.once.Once``), with a progress bar while computing."""

from __future__ import annotations

import numpy as np

from app_state.cache import _memo, _progress
from app_state.digits import any_model, digits_data
from app_state.resources import Settings, label_index, model, models_root, target_of, validation
from core import trust
from core.importance import gradient_stats
from i18n import N_, tr

TRUST_CFG = trust.config_for("speech")
"""The comparison's sizes (``core.trust`` says why); ``trust.config_for("digits")`` for the CNN."""

HOLLOW_HELP = N_(
    "Resample the validation utterances of the sample set {n} times: a cell whose importance is "
    "below {z} times its bootstrap standard error (the {level} interval reaches 0) is drawn as an "
    "outline. The first use computes the gradients once more, per utterance."
)
"""The template of ``hollow_help`` (app_state.texts): resamples ``TRUST_CFG.n_boot``, ``core.trust.Z95``
and ``core.trust.LEVEL``."""


def _data(name: str, target: str, sample_set: str) -> trust.TrustData:
    _, info = any_model(name)
    ds_x = digits_data(name) if info.kind == "digits" else None
    frames = None if info.kind == "digits" else validation(name)[0]
    return _trust_data(models_root(), name, info, target, sample_set, ds_x, frames)


def _trust_data(root: str, name: str, info, target: str, sample_set: str, ds_x, frames) -> trust.TrustData:
    def compute():
        if info.kind == "digits":
            ds, x = ds_x
            return trust.digits_data(x, ds.labels, int(target), trust.config_for("digits"))
        return trust.speech_data(info, frames, target, sample_set, TRUST_CFG)

    return _memo("trust_data").get((root, name, target, sample_set), compute)


TRUST_STEPS = {
    "maps": N_("1/3 Computing every method's map…"),
    "faithfulness": N_("2/3 Deleting and inserting inputs in each method's order…"),
    "sanity": N_("3/3 Sanity checks: randomising the layers, training a shuffled-label twin…"),
}


def trust_report(name: str, target: str, sample_set: str, output: str) -> trust.TrustReport:
    """Every method's map of ``target`` (a phoneme, or a digit "0".."9" of a digits model), its
    deletion / insertion curves, the sanity checks, the stability figures and the verdict; computed
    once per arguments for every session (a progress bar per step)."""
    net, info = any_model(name)
    sample_set = "all" if info.kind == "digits" else sample_set
    data = _data(name, target, sample_set)
    return report_of(models_root(), name, net, info, data, target, sample_set, output,
                     lambda kind: _progress(tr(TRUST_STEPS[kind])))


def report_of(root: str, name: str, net, info, data: trust.TrustData, target: str, sample_set: str, output: str,
              progress=None) -> trust.TrustReport:
    """``trust_report`` without Streamlit (the warm-up calls it from its thread); ``progress(kind)``
    gives (update, close) for a step, or None for none."""
    cfg = trust.config_for(info.kind)
    key = (root, name, target, sample_set, output)

    def step(kind: str, compute):
        update, close = progress(kind) if progress is not None else (None, lambda: None)
        try:
            return _memo("trust_" + kind).get(key, lambda: compute(update))
        finally:
            close()

    maps = step("maps", lambda p: trust.compute_maps(net, data, cfg, output, p))
    faith = step("faithfulness", lambda p: trust.compute_faithfulness(net, data, maps, cfg, p))
    san = step("sanity", lambda p: trust.compute_sanity(net, data, maps, cfg, output, p))

    def summary():
        cells, split = trust.compute_stability(maps, cfg)
        return trust.report(maps, faith, san, cells, split, cfg)

    return _memo("trust_report").get(key, summary)


def warm_trust_report(root: str, name: str, net, info, frames, target: str, output: str, progress=None) -> None:
    """The trust page's first view of a speech model (``target`` over every frame), for the warm-up."""
    data = _trust_data(root, name, info, target, "all", None, frames)
    report_of(root, name, net, info, data, target, "all", output, None if progress is None else
              (lambda kind: (progress, lambda: None)))


def trust_frames(name: str, target: str, sample_set: str) -> trust.TrustData:
    """Which frames the comparison of ``target`` uses (sizes and description for captions)."""
    _, info = any_model(name)
    return _data(name, target, "all" if info.kind == "digits" else sample_set)


def solid_cells(cfg: Settings, targets: tuple[str, ...], phones: tuple[str, ...]) -> np.ndarray:
    """(input_dim,) bool: cells of the map of ``targets`` (one phoneme, or two: their importances'
    product) distinguishable from zero, by resampling the validation **utterances** of the page's
    sample set (``core.trust.solid_cells``); one gradient pass over the sample set, computed once per
    (model, output, targets, sample set, statistic) for every session (and kept on disk)."""
    net, info = model(cfg.model)
    frames, view = validation(cfg.model)
    labels = None if cfg.sample_set == "all" else tuple(sorted(label_index(cfg.model, p) for p in phones))
    update, close = _progress(
        tr("Resampling the utterances to find the cells not distinguishable from zero…")
    )
    outputs = tuple(target_of(cfg.model, t) for t in targets)
    try:
        return solid_mask(models_root(), cfg.model, net, info, frames, view, cfg.output, outputs, targets, labels,
                          cfg.stat, update)
    finally:
        close()


def solid_mask(root: str, name: str, net, info, frames, view, output: str, outputs: tuple, targets: tuple[str, ...],
               labels: tuple[int, ...] | None, stat: str, progress=None) -> np.ndarray:
    """``solid_cells`` without Streamlit (the background warm-up calls it from its thread):
    ``outputs`` are the targets' output indices, ``labels`` the sample set's (None: every frame)."""

    def sums():
        idx = np.arange(len(frames.labels)) if labels is None else np.flatnonzero(np.isin(frames.labels, labels))
        lab, ids = trust.maps.relabel(frames.frame_utt, idx)
        stats = gradient_stats(net, view, lab, list(outputs), output=output, n_labels=len(ids),
                               transform=info.normalizer.apply, indices=idx, progress=progress)
        return [trust.ClusterSums.from_grad_stats(stats, r) for r in range(len(targets))]

    key = (root, name, output, targets, labels)
    return _memo("solid_mask").get(
        key + (stat,), lambda: trust.solid_cells(_memo("solid").get(key, sums), stat, TRUST_CFG.n_boot, TRUST_CFG.seed)
    )


def warm_solid_masks(root: str, name: str, net, info, frames, view, output: str, groups, stat: str,
                     progress=None) -> None:
    """``solid_mask`` of several target groups over every frame (e.g. ("s", "sh"), ("b", "d"),
    ("s",)) from one gradient pass for all their phonemes (the warm-up: one pass costs far less than
    one per group)."""
    phones = list(dict.fromkeys(p for g in groups for p in g))
    todo = [g for g in groups if not _memo("solid_mask").has((root, name, output, tuple(g), None, stat))]
    if not todo:
        return
    idx = np.arange(len(frames.labels))
    lab, ids = trust.maps.relabel(frames.frame_utt, idx)
    stats = gradient_stats(net, view, lab, [info.outputs_of(p) for p in phones], output=output, n_labels=len(ids),
                           transform=info.normalizer.apply, indices=idx, progress=progress)
    for g in todo:
        rows = [phones.index(p) for p in g]
        sums = [trust.ClusterSums.from_grad_stats(stats, r) for r in rows]
        _memo("solid").get((root, name, output, tuple(g), None), lambda s=sums: s)
        solid_mask(root, name, net, info, frames, view, output, tuple(info.outputs_of(p) for p in g), tuple(g), None,
                   stat, progress)


def hollow_note(cells) -> str:
    """One line saying what the hollow-squares switch did to the cells a chart shows (``cells``: its
    rows, with the ``solid`` column of ``solid_cells``): when every one differs from zero the switch
    changes nothing visible, and the user is told so rather than left to look for a change."""
    n, hollow = len(cells), int((~cells["solid"].astype(bool)).sum())
    level = f"{100 * trust.LEVEL:g} %"
    if hollow == 0:
        return tr("All {n:,} cells shown differ from zero at {level}: nothing to hollow.").format(n=n, level=level)
    return tr("{k:,} of the {n:,} cells shown are not distinguishable from zero at {level} (hollow).").format(
        k=hollow, n=n, level=level
    )


__all__ = ["HOLLOW_HELP", "TRUST_CFG", "TRUST_STEPS", "hollow_note", "report_of", "solid_cells", "solid_mask", "warm_solid_masks",
           "trust_frames", "trust_report", "warm_trust_report"]
