"""Deleting input units, hidden units and conv filters; curves of accuracy against deletions
(METHOD.md 5 and 6). scikit-learn's shape: scores -> keep-mask -> a NEW model.

    scores = unit_scores(model, info, "input", "imp_asc")          # {layer: (units,) score}
    order = deletion_order(scores, "imp_asc")                       # {layer: first deleted first}
    keep = keep_mask(order, 560)                                    # {layer: (units,) bool}
    small, meta = prune(model, info, keep)                          # new model + save_model meta
    curve = pruning_curve(model, info, "input", orders=("imp_asc", "imp_desc", "random", "l1"))

Where each part lives: ``common`` (PruneError, UNITS, ORDERS, the evaluation / statistics
subsets), ``scores`` (Imp per layer, the orders, keep-masks), ``surgery`` (masked network,
``prune``, FC-only retraining on ``core.train.loop.run_adam``), ``cost`` (``model_cost``,
``compare_costs``), ``curves`` (``pruning_curve``, ``PruneCurve``), ``_deps`` (the only calls into
core.importance and into core.train's data functions: validation frames, frame targets, digit
sets). The ``prune`` subcommand is in core/commands/pruning.py.
"""

from core.pruning.common import ORDERS, UNITS, PruneData, PruneError, prune_data, stratified_split
from core.pruning.cost import TIMING_INPUTS, TIMING_PASSES, ModelCost, compare_costs, model_cost, within_noise
from core.pruning.curves import PruneCurve, k_points, pruning_curve
from core.pruning.scores import (
    deletion_order,
    filter_importance,
    keep_mask,
    layer_counts,
    unit_importance_by_layer,
    unit_scores,
)
from core.pruning.surgery import (
    RetrainConfig,
    full_grid_mask,
    layer_means,
    masked_logits,
    prune,
    retrain_fc,
)

__all__ = [
    "ORDERS", "UNITS", "ModelCost", "PruneCurve", "PruneData", "PruneError", "RetrainConfig",
    "deletion_order", "filter_importance", "full_grid_mask", "k_points", "keep_mask", "layer_counts",
    "compare_costs", "layer_means", "masked_logits", "model_cost", "prune", "prune_data", "pruning_curve", "retrain_fc",
    "stratified_split", "unit_importance_by_layer", "unit_scores", "TIMING_INPUTS", "TIMING_PASSES", "within_noise",
]
