"""Which importance index to trust: the same target's map from eight methods, and three kinds of
evidence about them (faithfulness, sanity, stability). No Streamlit.

Methods (``TRUST_METHODS``): the gradient's σ over frames (the paper's index), mean |g| and rms
(one gradient pass), SmoothGrad, Integrated Gradients and gradient × input (each summarised by the
mean |attribution| over the frames, as ``core.importance.methods`` documents), the first layer's
weight magnitude (sum of |w| reaching each input; the same for every target) and a random baseline:
noise drawn independently per frame and input (seeded by the frame's index), averaged with its
sign, so its map is 0 in expectation, its split-half stability and its cells "different from zero"
are what chance gives. In the deletion and insertion curves its role is a random order of the
inputs: the ranking of its map over the map sample, drawn once (seeded) and the same for every
curve frame and every resample, i.e. a fixed random order. The same frames give the same noise
under any network, so the sanity checks flag it (its map does not depend on the network at all).

Choices written down here:

- **Frames.** Speech: the model's validation set. The map sample is spread evenly over the sample
  set (every frame, or the target's frames; at most ``TrustConfig.n_frames`` = 1,000, every k-th
  frame, so every utterance contributes); the deletion / insertion curves use the target's frames
  (at most ``n_eval_frames`` = 300, spread the same way); the sanity checks use the sample's frames
  of every k-th utterance (about ``n_sanity_frames`` = 120). Digits: the held-out digits (maps
  over 300 images of every class, curves on 100 of the target digit's, sanity on 100; the CNN goes
  through autograd, slower per image: ``DIGITS_CONFIG``). The curves' frames may overlap the map
  sample's; a map is an average over 1,000 frames and is not fitted to any of them.
- **Clusters.** Neighbouring frames of an utterance are not independent, so every resample (bootstrap
  intervals, split halves) draws whole **utterances**; for digits each image is its own cluster. The
  maps are kept as per-cluster sums (n, sum a, sum a^2, sum |a|), so each resample is exact.
- **SmoothGrad** 8 noisy copies, noise σ 0.5 in normalised units (about 15 % of the range of the
  normalised inputs, within Smilkov et al.'s 10-20 %); **Integrated Gradients** 8 midpoint steps
  from the baseline 0 (the training mean of every input after normalisation). Fewer than the
  usual 50 so that a fresh page stays within its time budget; the sizes are ``TrustConfig`` fields.
- **Faithfulness.** The top k inputs of a method's map (ties: lower index first) are replaced by
  their mean over the sample's frames (deletion), or are the only inputs kept, every other taking its
  mean (insertion), at ``fractions`` 0, 1, 2, 5, 10, 20, 40, 70, 100 % of the inputs. Measures on
  the target's frames: its mean posterior (summed over its outputs, e.g. 3 states) and its recall
  (the top output is one of the target's). Areas by the trapezoid rule over the fraction axis [0, 1]
  (the unequal steps are the integration grid, not weights). Score = insertion AUC - deletion AUC
  of the mean posterior: high when the map's top inputs alone carry the decision and removing them
  destroys it. Intervals: 2.5-97.5 % percentiles of 200 bootstrap resamples of the utterances
  (digits) of the curve frames.
- **Sanity checks** (Adebayo et al. 2018). Cascading randomisation: the top 1, 2, 4, 8, ... and
  finally all weight layers (every layer of a network with up to 3; 1, 2, 4, 8 of the 7 x 512
  DNN's 8, to keep a fresh page within its budget) are re-initialised as training initialises them
  (a copy; the model is never changed) and every map is recomputed on the sanity frames.
  Shuffled labels: a twin of the same architecture, **trained on the fly** (Adam, 6 epochs, batch
  128) on 1,000 frames of every class (spread like the map sample of "all" frames; for digits the
  map sample) with their true labels permuted; a smaller training set than the real model's, so it
  memorises rather than generalises, which is what the check needs: outputs unrelated to the
  classes. Each map is
  compared with the trained model's map over the same frames by Spearman rank correlation; a
  method whose correlation stays >= 0.5 (``SANITY_THRESHOLD``) with every layer randomised or for
  the twin is **flagged** (its map barely depends on what the network learned).
- **Stability.** Per cell, the 2.5-97.5 % bootstrap percentiles and the bootstrap SE; a cell is
  *not distinguishable from zero* when value < 1.96 SE (the normal interval value ± 1.96 SE
  reaches 0). Split-half: the Spearman correlation between the maps of two random halves of the
  utterances, averaged over 20 halvings (no Spearman-Brown correction).
- **Verdict.** The best score among the methods not flagged, with its margin over the next one and
  the 95 % interval of their paired bootstrap difference (the same resamples for both).

Modules: ``maps`` (methods, per-cluster sums, ``method_maps``), ``faithfulness``, ``sanity``,
``stability``, ``report`` (rows and verdict), ``run`` (the frames and the steps, ``compare``).
"""

from __future__ import annotations

from core.trust.faithfulness import CURVES, MEASURES, Faithfulness, faithfulness, ranking
from core.trust.maps import (
    GRADIENT_METHODS,
    METHOD_NAMES,
    TRUST_METHODS,
    ClusterSums,
    MethodMaps,
    TrustConfig,
    TrustError,
    config_for,
    first_layer_magnitude,
    method_maps,
    method_stat,
    spread_indices,
)
from core.trust.report import MethodRow, Verdict, summary, verdict
from core.trust.run import (
    TrustData,
    TrustReport,
    compare,
    compute_faithfulness,
    compute_maps,
    compute_sanity,
    compute_stability,
    digits_data,
    fill_values,
    report,
    speech_data,
)
from core.trust.sanity import SANITY_THRESHOLD, Sanity, randomized, sanity, shuffled_twin, spearman
from core.trust.stability import (
    LEVEL,
    PERCENTILES,
    Z95,
    CellIntervals,
    cell_intervals,
    cluster_weights,
    solid_cells,
    split_half,
)

__all__ = [
    "CURVES",
    "GRADIENT_METHODS",
    "LEVEL",
    "MEASURES",
    "METHOD_NAMES",
    "PERCENTILES",
    "SANITY_THRESHOLD",
    "TRUST_METHODS",
    "CellIntervals",
    "ClusterSums",
    "Faithfulness",
    "MethodMaps",
    "MethodRow",
    "Sanity",
    "TrustConfig",
    "TrustData",
    "TrustError",
    "TrustReport",
    "Verdict",
    "Z95",
    "cell_intervals",
    "cluster_weights",
    "compare",
    "compute_faithfulness",
    "compute_maps",
    "compute_sanity",
    "compute_stability",
    "config_for",
    "digits_data",
    "faithfulness",
    "fill_values",
    "first_layer_magnitude",
    "method_maps",
    "method_stat",
    "randomized",
    "ranking",
    "report",
    "sanity",
    "shuffled_twin",
    "solid_cells",
    "spearman",
    "speech_data",
    "split_half",
    "spread_indices",
    "summary",
    "verdict",
]
