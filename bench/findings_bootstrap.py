"""What the Findings verdicts' bootstrap intervals add to the live cards (pairs, Fig 4).

    .venv/bin/python bench/findings_bootstrap.py [--cards s_sh,b_d,fig4] [--threads 1]

Prints JSON (seconds; the 1-minute load average before and after, the machine is shared), per card:

- ``adopt_s``: what the page and the warm-up add when the shipped card was computed on the installed
  models, validation set and code: the point margins judged with the shipped intervals
  (``adopt_uncertainty``), no gradient;
- ``utterance_pass_s``: otherwise, one more gradient pass over the validation set for the card's two
  targets, summed per utterance (``bootstrap.utterance_stats``); ``histograms_s``: the per-utterance
  histograms of the two phonemes (pairs); ``resamples_s``: recombining ``N_BOOT`` resamples
  (``pair_resamples`` / ``map_resamples``); ``live_bootstrap_s``: their sum.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cards", default="s_sh,b_d,fig4")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from core import findings as F
    from core.findings import bootstrap as B
    from core.findings.compute import _Speech
    from core.models import MODELS_DIR

    shipped = F.read_shipped()
    out = {"load_before": round(os.getloadavg()[0], 2), "n_boot": F.N_BOOT, "threads": args.threads, "cards": {}}
    speech: dict[str, _Speech] = {}
    for key in args.cards.split(","):
        c = F.CLAIMS[key]
        sp = speech.setdefault(c.models[0], _Speech(MODELS_DIR, c.models[0]))
        row = {}
        if c.pair:
            point = F.pair_finding(c, sp.pair_table(*c.pair))
            t = time.perf_counter()
            counts = [B.utterance_histograms(sp.info, sp.frames, sp.histograms(), ph) for ph in c.pair]
            row["histograms_s"] = time.perf_counter() - t
            targets = c.pair
        else:
            point = F.map_finding(c, sp.info.features, sp.importance("s_S2"), sp.importance("sh_S2"))
            row["histograms_s"] = 0.0
            targets = ("s_S2", "sh_S2")
        t = time.perf_counter()
        stats = B.utterance_stats(sp.net, sp.info, sp.frames, targets)
        row["utterance_pass_s"] = time.perf_counter() - t
        t = time.perf_counter()
        if c.pair:
            B.pair_resamples(stats, *counts, sp.info.features, c.bands)
        else:
            B.map_resamples(stats, sp.info.features)
        row["resamples_s"] = time.perf_counter() - t
        row["live_bootstrap_s"] = row["histograms_s"] + row["utterance_pass_s"] + row["resamples_s"]
        t = time.perf_counter()
        adopted = F.adopt_uncertainty(point, shipped.findings[key]) if shipped and key in shipped.findings else None
        row["adopt_s"] = time.perf_counter() - t
        row["adopted_verdict"] = adopted.verdict if adopted else None
        out["cards"][key] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
    out["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
