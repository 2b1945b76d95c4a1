"""Responsiveness of the dashboard pages, measured by driving them with Streamlit's AppTest.

    .venv/bin/python bench/pages.py [--models DIR] [--repeats 5] [--browser]

With ``--browser``: what a user waits for in headless Chromium (see bench/pages_browser.py).

Prints JSON (seconds of server time: the script run of one rerun, as AppTest measures it):

- ``cold_map_s``: a fresh server's first map (/s/): model, validation set, histograms and the
  gradient statistics of one target;
- ``first_map_of_phoneme_s``: choosing another phoneme on a warm server (its statistics are new);
- ``slider_map_ms``, ``slider_pair_ms``: median re-render after a slider move that needs no new
  statistics (top k %, square scale, time range, table rows), over ``--repeats`` moves each;
- ``pair_first_s``: opening the pair page for /s/ vs /sh/ on a warm server;
- ``bins_change_s``: a new histogram bin count (histograms recomputed once, then cached);
- ``units_first_s``: the Units and pruning page on a fresh computation (Imp of every layer, the
  input-unit curves of four orders, one pruned network); ``units_slider_ms``: median re-render
  after a "delete k" move (a new k: one physically pruned network built and timed, no curve);
  ``hidden_curve_first_s``: switching to hidden units (new curves);
- ``digits_page_first_s``, ``filter_curves_first_s``: the Digit CNN page, then its deletion view
  (conv2 curves with and without FC-only retraining); ``digits_slider_ms``: a "delete k" move there
  (one pruned, retrained network).

Targets: first map of a phoneme <= 3 s, slider re-render <= 200 ms (issue 5); "delete k" slider
<= 300 ms (issue 8).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(at) -> float:
    t0 = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="models folder (default: the shipped assets/models)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--browser", action="store_true",
                    help="measure in headless Chromium instead (bench/pages_browser.py: idle, busy, warm-up)")
    ap.add_argument("--scenarios", default="idle,busy,warm", help="with --browser: which scenarios")
    args = ap.parse_args()
    if args.models:
        os.environ["DNNLENS_MODELS"] = args.models
    if args.browser:
        from bench.pages_browser import run

        print(json.dumps(run(tuple(args.scenarios.split(","))), indent=1))
        return 0
    os.environ.setdefault("DNNLENS_WARMUP", "0")  # server time of the computations themselves
    import logging

    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.switch_page("screens/importance_map.py")
    cold = timed(at)
    at.selectbox(key="w_phone").set_value("sh")
    first = timed(at)
    slider = []
    for i in range(args.repeats):
        at.slider(key="w_view_top").set_value(90 - 10 * i)
        slider.append(timed(at))
        at.slider(key="w_view_scale").set_value(1.0 + 0.1 * (i + 1))
        slider.append(timed(at))
        at.select_slider(key="w_view_time").set_value((-10 + i, 10 - i))
        slider.append(timed(at))

    at.switch_page("screens/phoneme_pair.py")
    pair_first = timed(at)
    pair_slider = []
    for i in range(args.repeats):
        at.slider(key="w_view_rows").set_value(20 + i)
        pair_slider.append(timed(at))
        at.slider(key="w_view_top").set_value(90 - 10 * i)
        pair_slider.append(timed(at))
    at.slider(key="w_view_bins").set_value(40)
    bins = timed(at)

    # Units and pruning: first curves (input units, 4 orders), then "delete k" slider moves; each
    # new k builds and times one physically pruned network (cached afterwards), no curve is recomputed.
    at.switch_page("screens/units_pruning.py")
    units_first = timed(at)
    k_options = [int(o.split()[0]) for o in at.select_slider(key="prune_k_input_None").options]
    units_slider = []
    for i in range(args.repeats):
        at.select_slider(key="prune_k_input_None").set_value(k_options[5 + 2 * i])
        units_slider.append(timed(at))
    at.radio(key="w_prune_units").set_value("hidden")
    hidden_first = timed(at)

    at.switch_page("screens/digit_cnn.py")
    digits_first = timed(at)
    at.segmented_control(key="w_cnn_view").set_value("prune")
    filters_first = timed(at)
    f_options = [int(o.split()[0]) for o in at.select_slider(key="cnn_k_2").options]
    digits_slider = []
    for i in range(args.repeats):
        at.select_slider(key="cnn_k_2").set_value(f_options[1 + 3 * i])
        digits_slider.append(timed(at))

    print(json.dumps({
        "models": args.models or "assets/models",
        "cold_map_s": round(cold, 3),
        "first_map_of_phoneme_s": round(first, 3),
        "slider_map_ms": round(1000 * statistics.median(slider), 1),
        "slider_map_max_ms": round(1000 * max(slider), 1),
        "pair_first_s": round(pair_first, 3),
        "slider_pair_ms": round(1000 * statistics.median(pair_slider), 1),
        "bins_change_s": round(bins, 3),
        "units_first_s": round(units_first, 3),
        "units_slider_ms": round(1000 * statistics.median(units_slider), 1),
        "units_slider_max_ms": round(1000 * max(units_slider), 1),
        "hidden_curve_first_s": round(hidden_first, 3),
        "digits_page_first_s": round(digits_first, 3),
        "filter_curves_first_s": round(filters_first, 3),
        "digits_slider_ms": round(1000 * statistics.median(digits_slider), 1),
        "digits_slider_max_ms": round(1000 * max(digits_slider), 1),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
