"""Responsiveness of the method page ("Which importance to trust"), driven by Streamlit's AppTest in a
fresh process (a fresh server: nothing cached).

    .venv/bin/python bench/methods.py [--models DIR] [--phone s] [--other sh] [--repeats 5]

Prints JSON (seconds of server time of one script run, as AppTest measures it):

- ``first_render_s``: the page opened for /s/ on a fresh server: model and validation set loaded,
  every method's map, the deletion / insertion curves, the sanity checks, stability and the verdict;
- ``steps_s``: the same computation step by step through core.trust (maps, faithfulness, sanity,
  stability), timed separately in this process after the page (nothing shared with the page's cache);
- ``rerun_ms``: median re-render of the warm page (a rerun, then each view: curves, sanity,
  stability, maps), over ``--repeats`` rounds;
- ``other_phoneme_first_s``: choosing another phoneme on the warm server (its comparison is new);
- ``load``: the machine's 1-minute load average before and after (2 cores).

Targets (issue 12): first render for a phoneme <= 20 s on a fresh server, later <= 1 s.
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
    ap.add_argument("--phone", default="s")
    ap.add_argument("--other", default="sh")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.models:
        os.environ["DNNLENS_MODELS"] = args.models
    import logging

    logging.disable(logging.WARNING)
    import torch
    from streamlit.testing.v1 import AppTest

    load_before = os.getloadavg()[0]
    # no background warm-up in this process: it would compete with the runs measured
    os.environ["DNNLENS_WARMUP"] = "0"
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=1800)
    at.query_params["phone"] = args.phone
    at.switch_page("screens/methods.py")
    first = timed(at)
    reruns = []
    for _ in range(args.repeats):
        reruns.append(timed(at))
        for view in ("faithfulness", "sanity", "stability", "maps"):
            at.segmented_control(key="w_methods_view").set_value(view)
            reruns.append(timed(at))
    at.selectbox(key="w_methods_phone").set_value(args.other)
    other = timed(at)

    from core import trust
    from core.models import MODELS_DIR, load_model
    from core.train import load_validation

    net, info = load_model(Path(args.models or MODELS_DIR) / "speech_en_mfbank")
    cfg = trust.config_for("speech")
    data = trust.speech_data(info, load_validation(info), args.phone, "all", cfg)
    steps = {}
    t0 = time.perf_counter()
    maps = trust.compute_maps(net, data, cfg)
    steps["maps"], t0 = time.perf_counter() - t0, time.perf_counter()
    trust.compute_faithfulness(net, data, maps, cfg)
    steps["faithfulness"], t0 = time.perf_counter() - t0, time.perf_counter()
    trust.compute_sanity(net, data, maps, cfg)
    steps["sanity"], t0 = time.perf_counter() - t0, time.perf_counter()
    trust.compute_stability(maps, cfg)
    steps["stability"] = time.perf_counter() - t0
    print(json.dumps({
        "model": "speech_en_mfbank", "phone": args.phone, "other": args.other,
        "first_render_s": round(first, 2),
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "rerun_ms": round(1000 * statistics.median(reruns), 1),
        "rerun_max_ms": round(1000 * max(reruns), 1),
        "other_phoneme_first_s": round(other, 2),
        "frames": {"maps": maps.n_frames, "utterances": maps.n_clusters, "curves": len(data.eval),
                   "sanity": len(data.sanity)},
        "torch_threads": torch.get_num_threads(),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
