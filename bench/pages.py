"""Responsiveness of the dashboard pages, measured by driving them with Streamlit's AppTest.

    .venv/bin/python bench/pages.py [--models DIR] [--repeats 5]

Prints JSON (seconds of server time: the script run of one rerun, as AppTest measures it):

- ``cold_map_s``: a fresh server's first map (/s/): model, validation set, histograms and the
  gradient statistics of one target;
- ``first_map_of_phoneme_s``: choosing another phoneme on a warm server (its statistics are new);
- ``slider_map_ms``, ``slider_pair_ms``: median re-render after a slider move that needs no new
  statistics (top k %, square scale, time range, table rows), over ``--repeats`` moves each;
- ``pair_first_s``: opening the pair page for /s/ vs /sh/ on a warm server;
- ``bins_change_s``: a new histogram bin count (histograms recomputed once, then cached).

Targets (issue 5): first map of a phoneme <= 3 s, slider re-render <= 200 ms.
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
    args = ap.parse_args()
    if args.models:
        os.environ["DNNLENS_MODELS"] = args.models
    import logging

    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.switch_page("pages/importance_map.py")
    cold = timed(at)
    at.selectbox(key="map_phone").set_value("sh")
    first = timed(at)
    slider = []
    for i in range(args.repeats):
        at.slider(key="map_top").set_value(90 - 10 * i)
        slider.append(timed(at))
        at.slider(key="map_scale").set_value(1.0 + 0.1 * (i + 1))
        slider.append(timed(at))
        at.select_slider(key="map_time").set_value((-10 + i, 10 - i))
        slider.append(timed(at))

    at.switch_page("pages/phoneme_pair.py")
    pair_first = timed(at)
    pair_slider = []
    for i in range(args.repeats):
        at.slider(key="pair_rows").set_value(20 + i)
        pair_slider.append(timed(at))
        at.slider(key="pair_top").set_value(90 - 10 * i)
        pair_slider.append(timed(at))
    at.slider(key="pair_bins").set_value(40)
    bins = timed(at)

    print(json.dumps({
        "models": args.models or "assets/models",
        "cold_map_s": round(cold, 3),
        "first_map_of_phoneme_s": round(first, 3),
        "slider_map_ms": round(1000 * statistics.median(slider), 1),
        "slider_map_max_ms": round(1000 * max(slider), 1),
        "pair_first_s": round(pair_first, 3),
        "slider_pair_ms": round(1000 * statistics.median(pair_slider), 1),
        "bins_change_s": round(bins, 3),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
