"""Units, filters and pruning (shared by all sessions, computed once per key)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from app_state.cache import _memo, _progress
from app_state.digits import any_model
from app_state.resources import models_root
from core import pruning
from i18n import tr

# ---------------------------------------------------------------------------------------------
# Units, filters and pruning (shared by all sessions, computed once per key)


DEFAULT_ORDERS = ("imp_asc", "imp_desc", "random", "l1")
"""The deletion orders a pruning chart shows at first (the pages' multiselect default)."""


def orders_of(units: str, chosen=DEFAULT_ORDERS) -> tuple[str, ...]:
    """The orders a chart of ``units`` ("input", "hidden", "filters") draws for a choice, in the
    display order (the curve's cache key: the pages and the warm-up build it here)."""
    from core.viz.units import ORDER_NAMES

    return tuple(o for o in ORDER_NAMES if o in chosen and (units == "input" or o != "variance"))


def _importance_of(root: str, name: str, net, info, stat: str, output: str, progress=None) -> dict[int, np.ndarray]:
    def compute():
        if progress is not None:
            progress(0.0)
        return pruning.unit_importance_by_layer(net, info, stat=stat, output=output)

    return _memo("importance").get((root, name, stat, output), compute)


def _curve_of(root: str, name: str, net, info, units: str, layer: int | None, orders: tuple[str, ...], stat: str,
              output: str, retrain: bool, progress=None) -> pruning.PruneCurve:
    imp = _importance_of(root, name, net, info, stat, output)

    def compute():
        return pruning.pruning_curve(net, info, units, layer=layer, orders=orders, retrain=retrain, importance=imp,
                                     progress=progress, points=None if units == "filters" else 30)

    return _memo("curves").get((root, name, units, layer, orders, stat, output, retrain), compute)


def unit_importance_layers(name: str, stat: str, output: str) -> dict[int, np.ndarray]:
    """Imp(l, i) of every layer (speech: input and hidden layers; digits: conv filters), on the
    statistics subset of core.pruning; computed once per (model, statistic, output)."""
    net, info = any_model(name)
    update, close = _progress(tr("Computing the gradients of every layer…"))
    try:
        return _importance_of(models_root(), name, net, info, stat, output, update)
    finally:
        close()


def prune_curve(
    name: str,
    units: str,
    layer: int | None,
    orders: tuple[str, ...],
    stat: str,
    output: str,
    retrain: bool = True,
) -> pruning.PruneCurve:
    """Accuracy against units deleted (core.pruning.pruning_curve), the importance orders from the
    given statistic and output; computed once per arguments for every session, with progress."""
    net, info = any_model(name)
    unit_importance_layers(name, stat, output)  # with its own progress bar when it is computed
    update, close = _progress(
        tr("Deleting filters, retraining and measuring the accuracy…")
        if units == "filters"
        else tr("Deleting units and measuring the recognition rate…")
    )
    try:
        return _curve_of(models_root(), name, net, info, units, layer, orders, stat, output, retrain, update)
    finally:
        close()


def warm_unit_views(root: str, speech: tuple, digits: tuple | None, stat: str, output: str, progress=None) -> None:
    """Compute what the first views of Units and pruning and of the Digit CNN's deletions show
    (the background warm-up calls this from its thread: no Streamlit call here). ``speech`` and
    ``digits``: (name, model, info) of the default models."""
    name, net, info = speech
    for units in ("input", "hidden"):
        _curve_of(root, name, net, info, units, None, orders_of(units), stat, output, True, progress)
    if digits is not None:
        dname, dnet, dinfo = digits
        for retrain in (True, False):
            _curve_of(root, dname, dnet, dinfo, "filters", 2, orders_of("filters"), stat, output, retrain, progress)


@dataclass(frozen=True, eq=False)
class Pruned:
    """A physically pruned model for the "delete k" slider: the model, its save_model metadata, its
    keep-masks and its cost next to the full model's."""

    model: object
    meta: dict
    keep: dict
    cost: pruning.ModelCost
    full_cost: pruning.ModelCost


INSPECT_SEED = 0
"""The seed of the random order of the pruned model a page inspects (the curves average several)."""


def pruned_model(
    name: str, units: str, layer: int | None, order: str, k: int, stat: str, output: str
) -> Pruned:
    """The model with k units deleted in ``order`` (random: seed ``INSPECT_SEED``), built and measured once. Its
    size and speed do not depend on retraining; ``retrained_zip`` retrains a digit CNN's fully
    connected layers for the download."""
    net, info = any_model(name)
    imp = unit_importance_layers(name, stat, output)

    def compute():
        scores = pruning.unit_scores(net, info, units, order, layer=layer, seed=INSPECT_SEED, importance=imp)
        keep = pruning.keep_mask(pruning.deletion_order(scores, order, INSPECT_SEED), int(k))
        means = _memo("importance").get(
            (models_root(), name, "means"), lambda: pruning.layer_means(net, pruning.prune_data(info).x_stats)
        )
        small, meta = pruning.prune(
            net, info, keep, means=means, record={"units": units, "order": order, "k": int(k)}
        )
        # the full and the pruned network timed in turns, now, the fastest pass of each: a fair
        # ratio on a busy server
        full_cost, small_cost = pruning.compare_costs(net, small, info)  # the timing bench/prune.py reports
        return Pruned(small, meta, keep, small_cost, full_cost)

    return _memo("pruned").get((models_root(), name, units, layer, order, int(k), stat, output), compute)


def retrained_zip(name: str, p: Pruned, folder: str) -> bytes:
    """``model_zip`` of a pruned digit CNN after FC-only retraining (core.pruning.retrain_fc with
    its default settings, which the deletion curves use too)."""
    _, info = any_model(name)
    config = pruning.RetrainConfig()
    small = pruning.retrain_fc(p.model, info, config)
    meta = dict(p.meta)
    meta["training"] = {
        **meta.get("training", {}),
        "retrained_after_pruning": {
            "what": "fc1 and fc2 only",
            "epochs": config.epochs,
            "lr": config.lr,
            "batch_size": config.batch_size,
            "seed": config.seed,
        },
    }
    return model_zip(Pruned(small, meta, p.keep, p.cost, p.full_cost), folder)


def cost_rows(p: Pruned, per: str) -> list[dict[str, str]]:
    """The pruned network's table: parameters, multiply-adds and measured time of the full and the
    pruned network (``per``: "frame" or "digit"); a time shows its fastest pass and, in brackets,
    the range of its passes (``core.pruning.compare_costs``)."""
    def ms(c: pruning.ModelCost) -> str:
        return f"{c.ms_per_1000:.1f} ({c.ms_range[0]:.1f}-{c.ms_range[1]:.1f})"

    macs = tr("multiply-adds per frame") if per == "frame" else tr("multiply-adds per digit")
    time_row = tr("ms per 1,000 frames") if per == "frame" else tr("ms per 1,000 digits")
    return [
        {"": tr("parameters"), tr("full"): f"{p.full_cost.params:,}", tr("pruned"): f"{p.cost.params:,}"},
        {"": macs, tr("full"): f"{p.full_cost.macs:,}", tr("pruned"): f"{p.cost.macs:,}"},
        {"": time_row, tr("full"): ms(p.full_cost), tr("pruned"): ms(p.cost)},
    ]


def cost_caption(p: Pruned, per: str) -> str:
    """How the times were measured (``per``: "frame" or "digit"), and whether their difference is
    more than the noise."""
    how = tr("Times measured on this server just now: the two networks in turns on the same {n} inputs, "
             "the fastest of {r} passes each, the range of the passes in brackets.").format(
        n=pruning.TIMING_INPUTS["speech" if per == "frame" else "digits"], r=pruning.TIMING_PASSES)
    if pruning.within_noise(p.full_cost, p.cost):
        return how + " " + tr("The ranges overlap: the difference in time is within the noise of this measurement.")
    return how + " " + tr("The pruned network takes {r:.2f}x the full network's time.").format(
        r=p.cost.ms_per_1000 / p.full_cost.ms_per_1000)


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
