"""Gradient statistics of a network's outputs, Imp(l, i), and the comparison methods (METHOD.md 2, 5).

For a target y_t (the sum of the chosen outputs, e.g. the 3 states of a phoneme) and every unit i
of a layer l (l = 0: the input), g = dy_t / dh_i^(l) is taken at every frame of a sample set, and
only running sums are kept, **per true label of the frame**: n, sum g, sum g^2, sum |g| (float64).
``GradStats.stat`` turns them into std / mean |g| / rms / mean over any union of labels, exactly.

Choices written down here:

- Outputs (``output=``): ``"posterior"`` (softmax, default), ``"logit"``, ``"log_posterior"``;
  statistics (``stat=``): ``"std"`` (default), ``"mean_abs"``, ``"rms"``, ``"mean"``. For a group of
  outputs S the target is sum_{c in S} y_c; with ``log_posterior`` it is log(sum_{c in S} p_c).
- The standard deviation is the population one (ddof=0): sqrt(sum g^2 / n - (sum g / n)^2).
- Reuse: a computation covers exactly the targets asked for; ``GradStats.merge`` joins the results
  of two computations on the same sample set, and ``GradStatsCache`` does this for a caller-chosen
  key (model, sample set), computing only the targets it has not seen.
- Speed: for ``SpeechDNN`` the Jacobian is an explicit chain of large matrix products (forward once,
  then from the output layer a (batch*T, units) matrix times each weight, scaled by the activation
  derivative), one sweep giving every layer. Any other ``nn.Module`` (``DigitCNN``) goes through
  autograd: one forward per batch, then one backward per target (``retain_graph``) of y_t summed
  over the batch, which gives every frame its own gradient since frames do not interact in eval
  mode; each backward gives every asked layer. (Batched autograd, ``is_grads_batched``, was 2-20x
  slower on the CNN's convolutions, and its memory grew with the number of targets.) For models
  with ``forward_layers`` any layer can be asked for. For the DigitCNN, layer l is ``forward_layers(x)[l]`` (conv maps after the ReLU).
- Memory is bounded by the batch size (chosen from ``max_batch_mb``), never by the frame count.
- The model is never changed: weights are only read; a model in training mode is put in eval
  mode for the autograd path and every module's flag is restored; no ``.grad`` is produced.
- Comparison methods give per-frame attributions a(x) (batch, T, D) that are summarised by the same
  per-label sums, so ``stat("mean_abs")`` of SmoothGrad is comparable with ``stat("std")`` of the
  gradient: SmoothGrad = mean gradient over ``n_samples`` noisy copies (Gaussian, ``noise_std`` in
  normalised units); Integrated Gradients = (x - x0) * mean gradient at ``steps`` midpoints of the
  straight path from x0 (default 0 = the mean input after normalisation); gradient x input;
  random = standard normal noise drawn independently per frame, target and input (frame i seeded
  with (seed, i)), so its signed mean is 0 in expectation and two halves of the data disagree as
  chance makes them (``methods.py``).

Where each piece lives: ``stats.py`` (GradStats, the per-label accumulator, unit_importance),
``engines.py`` (the chain and autograd engines, gradient_stats / layer_gradient_stats),
``cache.py`` (GradStatsCache), ``methods.py`` (comparison methods), ``overlap.py`` (class
histograms, eps and p_e), ``pairs.py`` (the pair score and its ranking, the map and pair tables the
charts draw), ``table.py`` (the rows of the ``importance`` command), ``explain.py`` (why the pages' answers
differ: where each map lies and the class means behind it), ``distributed.py`` (the sums shared among ``torchrun``'s ranks and
all-reduced, whole batches per rank; sharded corpora); the command itself is
``core/commands/importance.py``.
"""

from __future__ import annotations

from core.importance.cache import GradStatsCache
from core.importance.engines import (
    gradient_stats,
    layer_gradient_stats,
    target_outputs,
)
from core.importance.methods import METHODS, Method, attribution_stats, attributions
from core.importance.stats import (
    OUTPUTS,
    STATS,
    GradStats,
    ImportanceError,
    Output,
    Stat,
    TargetSpec,
    normalize_targets,
    unit_importance,
)
from core.importance.table import check_table_args, importance_table, resolve_target

__all__ = [
    "METHODS",
    "OUTPUTS",
    "STATS",
    "GradStats",
    "GradStatsCache",
    "ImportanceError",
    "Method",
    "Output",
    "Stat",
    "TargetSpec",
    "attribution_stats",
    "attributions",
    "check_table_args",
    "gradient_stats",
    "importance_table",
    "layer_gradient_stats",
    "normalize_targets",
    "resolve_target",
    "target_outputs",
    "unit_importance",
]
