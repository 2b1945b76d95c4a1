"""What one move of a "delete k" slider costs the server, done as the pages do it.

    .venv/bin/python bench/delete_k.py

For the shipped speech model (input units) and the digit CNN (conv2 filters), after the page's
statistics exist: ``app_state.pruned_model`` at six new values of k (imp_asc), each building the
physically pruned network and timing it next to the full one. No curve is recomputed (the curves
are cached per model, units and orders). Prints JSON: median and max milliseconds per step, and
the machine's 1-minute load average during the run (2 cores; compare figures from quiet runs).
Target (issue 8): <= 300 ms per step.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    logging.disable(logging.WARNING)
    import torch

    torch.set_num_threads(2)
    import app_state as S

    out: dict = {}
    cases = (("speech_en_mfbank", "input", None, (100, 200, 300, 400, 500, 600)),
             ("digits_cnn", "filters", 2, (3, 6, 9, 12, 15, 18)))
    for name, units, layer, ks in cases:
        S.unit_importance_layers(name, "std", "posterior")
        S.pruned_model(name, units, layer, "imp_asc", ks[0] - 1, "std", "posterior")  # means, first imports
        times = []
        for k in ks:
            t0 = time.perf_counter()
            S.pruned_model(name, units, layer, "imp_asc", k, "std", "posterior")
            times.append(1000 * (time.perf_counter() - t0))
        out[name] = {"step_ms_median": round(statistics.median(times), 1), "step_ms_max": round(max(times), 1)}
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
