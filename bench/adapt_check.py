"""Does adaptation's check protect the recordings it was not fitted on? Choosing its level on some bases, reported on others; one JSON object.

    .venv/bin/python bench/adapt_check.py --select A.json,B.json,C.json --report D.json,E.json

Each file is the output of ``bench/adapt_ceiling.py --variants ""`` (the product's own adaptation
on n recordings of one real voice, several seeded choices, each measured on the voice's other
recordings) for one base model. The product keeps its adapted copy when the check's gain (held-back
speech frames right, each recording held back once) reaches ``AdaptConfig.min_gain``; with
``check_level`` L > 0 it also asks that the one-sided bootstrap lower bound of that gain at L
(``core.voice.adapt.check_lower_bound`` of the recordings' own counts) be at least 0. Whether a run keeps
its copy under L follows from the run's recorded counts alone (the copy and its gain do not depend
on L; a reverted run gains exactly 0), so every L is evaluated on the same runs.

The rule, written before the figures were seen: the smallest L of ``--levels`` under which no run of
the ``--select`` bases ends more than ``--tolerance`` (issue 24: 0.01) below the model as it was;
then every level's figures on the ``--report`` bases, which played no part in the choice. Per level
and set: runs, copies kept, runs below -tolerance, the worst and the mean gain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.voice.adapt import AdaptConfig, check_lower_bound  # noqa: E402


def runs_of(files: list[str]) -> list[dict]:
    out = []
    for f in files:
        d = json.loads(Path(f).read_text())
        out += [{"base": d["base"], **r} for r in d["runs"]]
    return out


def outcome(level: float, runs: list[dict], seed: int, tolerance: float) -> dict:
    """The runs' figures had the product asked for ``check_level`` = level (as ``adapt`` decides: a
    NaN bound reverts)."""
    gains, kept_all = [], []
    for r in runs:
        p = r["product"]
        kept = not p["reverted"] and (level == 0 or check_lower_bound(p["held_back"], level, seed) >= 0)
        gains.append(p["gain"] if kept else 0.0)
        kept_all.append(kept)
    g = np.array(gains)
    return {"runs": len(g), "kept": int(sum(kept_all)), "below": int((g < -tolerance).sum()),
            "worst": round(float(g.min()), 4), "mean": round(float(g.mean()), 4),
            "gains": [round(float(x), 4) for x in g]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--select", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--levels", default="0,0.5,0.6,0.7,0.8,0.9,0.95")
    ap.add_argument("--tolerance", type=float, default=0.01)
    args = ap.parse_args()
    seed = AdaptConfig().seed
    select, report = runs_of(args.select.split(",")), runs_of(args.report.split(","))
    levels = [float(v) for v in args.levels.split(",")]
    out = {"select": sorted({r["base"] for r in select}), "report": sorted({r["base"] for r in report}),
           "tolerance": args.tolerance, "levels": {}}
    for level in levels:
        out["levels"][str(level)] = {"select": outcome(level, select, seed, args.tolerance),
                                     "report": outcome(level, report, seed, args.tolerance)}
    ok = [lv for lv in levels if out["levels"][str(lv)]["select"]["below"] == 0]
    out["chosen"] = min(ok) if ok else None
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
