"""Units, filters and pruning (shared by all sessions, computed once per key)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from app_state.digits import any_model
from app_state.shared import _memo, _progress, models_root
from core import pruning
from i18n import tr

# ---------------------------------------------------------------------------------------------
# Units, filters and pruning (shared by all sessions, computed once per key)


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
    imp = unit_importance_layers(name, stat, output)
    update, close = _progress(
        tr("Deleting filters, retraining and measuring the accuracy…")
        if units == "filters"
        else tr("Deleting units and measuring the recognition rate…")
    )

    def compute():
        return pruning.pruning_curve(
            net,
            info,
            units,
            layer=layer,
            orders=orders,
            retrain=retrain,
            importance=imp,
            progress=update,
            points=None if units == "filters" else 30,
        )

    try:
        return _memo("curves").get(
            (models_root(), name, units, layer, orders, stat, output, retrain), compute
        )
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


def pruned_model(
    name: str, units: str, layer: int | None, order: str, k: int, stat: str, output: str
) -> Pruned:
    """The model with k units deleted in ``order`` (random: seed 0), built and measured once. Its
    size and speed do not depend on retraining; ``retrained_zip`` retrains a digit CNN's fully
    connected layers for the download."""
    net, info = any_model(name)
    imp = unit_importance_layers(name, stat, output)

    def compute():
        scores = pruning.unit_scores(net, info, units, order, layer=layer, importance=imp)
        keep = pruning.keep_mask(pruning.deletion_order(scores, order, 0), int(k))
        means = _memo("importance").get(
            (models_root(), name, "means"), lambda: pruning.layer_means(net, pruning.prune_data(info).x_stats)
        )
        small, meta = pruning.prune(
            net, info, keep, means=means, record={"units": units, "order": order, "k": int(k)}
        )
        # the full and the pruned network timed in turns, now, the fastest pass of each: a fair
        # ratio on a busy server
        full_cost, small_cost = pruning.compare_costs(net, small, info, repeats=3, n=COST_INPUTS[info.kind])
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
