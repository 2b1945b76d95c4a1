"""Speed and accuracy figures of core.pruning on the shipped models; prints one JSON object.

    .venv/bin/python bench/prune.py [--full] [--threads N]

Figures (2 torch threads by default; every time is wall-clock on this machine, with the 1-minute
load average next to it because the machine is shared):

- ``input_curve_s``: the input-unit curve of speech_en_mfbank, 30 points x (imp_asc, imp_desc,
  random x 3 seeds, l1), on the evaluation subset (``prune_data``: 2,000 stratified validation
  frames), Imp(0, i) given (as the page has it cached); ``input_importance_s`` the Imp of every
  layer on the 2,000 statistics frames (computed once per model, then cached by the page).
- ``input_means``: mean accuracy over that curve per order, and the accuracies at k = 560.
- ``hidden_layer6`` / ``hidden_all``: the hidden curves (layer 6; all layers, same fraction).
- ``conv2_retrain_s``: the conv2 filter curve of digits_cnn, every k (0..32), imp_asc and imp_desc,
  FC-only retraining after each deletion (``RetrainConfig()``), filter importance given;
  ``conv2_half``: accuracies with 16 of 32 filters deleted, with and without retraining.
- ``slider_step_ms``: the work the page does for one position of the "delete k" slider: look the
  accuracy and the per-class damage up in the cached curve, build the physically pruned model
  (``prune`` with cached means) and time it against the full network exactly as the page does
  (``compare_costs`` with its defaults); median of 10 k. ``slider_timing_*``: what that timing
  read at each k (ms per 1,000 of both networks, the range of their passes, the multiply-add
  ratio, whether the page calls the difference within the noise), and the spread of the full
  network's figure over the 10 measurements.
- ``--full``: the input curve also on every validation frame not used for statistics (38,000+).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.models import load_model  # noqa: E402
from core.pruning import (  # noqa: E402
    compare_costs,
    deletion_order,
    keep_mask,
    layer_means,
    model_cost,
    prune,
    prune_data,
    pruning_curve,
    unit_importance_by_layer,
    unit_scores,
    within_noise,
)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2), _load()


def _means(curve) -> dict:
    return {o: round(float(np.mean(v)), 4) for o, v in curve.curves.items()}


def _at(curve, k: int) -> dict:
    i = curve.point(k)
    out = {"k": curve.k[i], **{o: round(v[i], 4) for o, v in curve.curves.items()}}
    if curve.random_band:
        out["random_band"] = [round(curve.random_band[0][i], 4), round(curve.random_band[1][i], 4)]
    return out


def slider_steps(model, info, curve, importance, n: int = 10) -> tuple[list[float], dict]:
    """ms per slider position: curve lookup + damage + prune (cached means) + the timing the page
    shows (``compare_costs`` with its defaults, as ``app_state.units.pruned_model`` calls it); and
    what that timing read at each k: the full and the pruned network's ms per 1,000, their ranges,
    and whether the page called the difference within the noise."""
    data = prune_data(info)
    means = layer_means(model, data.x_stats)
    order = deletion_order(unit_scores(model, info, curve.units, "imp_asc", layer=curve.layer,
                                       importance=importance), "imp_asc")
    out, timing = [], {"k": [], "macs_ratio": [], "full_ms": [], "pruned_ms": [], "full_range": [],
                       "pruned_range": [], "within_noise": []}
    for k in np.linspace(1, curve.n_units - 1, n).astype(int):
        t0 = time.perf_counter()
        acc = curve.curves["imp_asc"][curve.point(k)]
        curve.damage("imp_asc", int(k))
        small, _ = prune(model, info, keep_mask(order, int(k)), means=means)
        full_cost, cost = compare_costs(model, small, info)
        out.append((time.perf_counter() - t0) * 1000)
        assert 0 <= acc <= 1
        for key, v in (("k", int(k)), ("macs_ratio", round(cost.macs / full_cost.macs, 3)),
                       ("full_ms", full_cost.ms_per_1000), ("pruned_ms", cost.ms_per_1000),
                       ("full_range", list(full_cost.ms_range)), ("pruned_range", list(cost.ms_range)),
                       ("within_noise", within_noise(full_cost, cost))):
            timing[key].append(v)
    full = timing["full_ms"]
    timing["full_ms_spread_over_k"] = [min(full), max(full)]
    return out, timing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also the input curve on every validation frame")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res: dict = {"threads": args.threads, "load_avg_start": _load()}

    model, info = load_model("speech_en_mfbank")
    data = prune_data(info)
    res["speech_frames"] = data.settings
    imp, res["input_importance_s"], res["input_importance_load"] = _timed(lambda: unit_importance_by_layer(model, info))
    orders = ("imp_asc", "imp_desc", "random", "l1")
    curve, res["input_curve_s"], res["input_curve_load"] = _timed(
        lambda: pruning_curve(model, info, "input", orders=orders, points=30, importance=imp))
    res["input_full_accuracy"] = round(curve.full_accuracy, 4)
    res["input_means"] = _means(curve)
    res["input_at_560"] = _at(curve, 560)
    ms, res["slider_timing_speech"] = slider_steps(model, info, curve, imp)
    res["slider_step_ms_speech"] = {"median": round(float(np.median(ms)), 1), "max": round(max(ms), 1)}
    extra, res["input_curve_taylor_variance_s"], _ = _timed(
        lambda: pruning_curve(model, info, "input", orders=("taylor", "variance"), points=30, importance=imp))
    res["input_means_taylor_variance"] = _means(extra)
    h6, res["hidden_layer6_s"], _ = _timed(
        lambda: pruning_curve(model, info, "hidden", layer=6, orders=orders, points=17, importance=imp))
    res["hidden_layer6"] = {"means": _means(h6), "at_256": _at(h6, 256)}
    ha, res["hidden_all_s"], _ = _timed(
        lambda: pruning_curve(model, info, "hidden", orders=orders, points=17, importance=imp))
    res["hidden_all"] = {"means": _means(ha), "at_half": _at(ha, ha.n_units // 2)}
    res["speech_cost_full"] = model_cost(model, info).__dict__
    if args.full:
        full = prune_data(info, None)
        fc, res["input_curve_fullset_s"], _ = _timed(
            lambda: pruning_curve(model, info, "input", orders=orders, points=30, importance=imp, data=full))
        res["input_fullset"] = {"frames": fc.n_frames, "full_accuracy": round(fc.full_accuracy, 4),
                                "means": _means(fc), "at_560": _at(fc, 560)}

    cnn, cinfo = load_model("digits_cnn")
    fimp, res["filter_importance_s"], _ = _timed(lambda: unit_importance_by_layer(cnn, cinfo))
    c2, res["conv2_retrain_s"], res["conv2_retrain_load"] = _timed(
        lambda: pruning_curve(cnn, cinfo, "filters", layer=2, orders=("imp_asc", "imp_desc"), points=None,
                              importance=fimp))
    c2n, res["conv2_no_retrain_s"], _ = _timed(
        lambda: pruning_curve(cnn, cinfo, "filters", layer=2, orders=("imp_asc", "imp_desc", "random", "l1", "taylor"),
                              points=None, importance=fimp, retrain=False))
    res["conv2_full_accuracy"] = round(c2.full_accuracy, 4)
    res["conv2_settings"] = c2.settings["retrain"]
    res["conv2_half"] = {"retrained": _at(c2, 16), "not_retrained": _at(c2n, 16)}
    res["conv2_means"] = {"retrained": _means(c2), "not_retrained": _means(c2n)}
    c1, res["conv1_retrain_s"], _ = _timed(
        lambda: pruning_curve(cnn, cinfo, "filters", layer=1, orders=("imp_asc", "imp_desc"), points=None,
                              importance=fimp))
    res["conv1_half_retrained"] = _at(c1, 8)
    ms, res["slider_timing_cnn"] = slider_steps(cnn, cinfo, c2, fimp)
    res["slider_step_ms_cnn"] = {"median": round(float(np.median(ms)), 1), "max": round(max(ms), 1)}
    res["cnn_cost_full"] = model_cost(cnn, cinfo).__dict__
    half, _ = prune(cnn, cinfo, keep_mask(deletion_order(unit_scores(cnn, cinfo, "filters", "imp_asc",
                                                                     importance=fimp), "imp_asc"), 16))
    res["cnn_cost_half_conv2"] = model_cost(half, cinfo).__dict__
    res["load_avg_end"] = _load()
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
