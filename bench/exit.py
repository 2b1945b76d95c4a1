"""How fast the dashboard stops when the user presses Ctrl-C during the background warm-up.

    .venv/bin/python bench/exit.py [--runs 3]

Prints JSON (seconds, min / median / max over ``--runs``):

- ``sigint_to_exit_s``: the product. ``streamlit run dashboard.py`` on the shipped default model
  with the warm-up on; once Home's sidebar says a phoneme's gradients are being computed, SIGINT;
  the time until the process has ended, and its exit status (``exit_codes``; 0 or 130 wanted) and
  whether its output holds an abort (``aborts``: "terminate called", must be 0).
- ``batch_s``: what the stop event waits for at most, the time between two progress calls of the
  warm-up's computation (``GradStatsCache`` over the validation set, one phoneme): the largest gap.
- ``child_terminate_s``: the alternative that was not chosen, the same computation in a child
  process (``multiprocessing``, spawn) that is terminated: from ``terminate()`` to the child reaped.
  ``child_start_s``: what that design pays before the first batch (a new interpreter importing
  torch and loading the model and frames).

app_state/background.py says which design was chosen and why.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ws_client import ctrl_c_during_warmup  # noqa: E402

ABORTS = ("terminate called", "core dumped", "Aborted")


def _spread(xs: list[float]) -> dict:
    return {"min": round(min(xs), 3), "median": round(statistics.median(xs), 3), "max": round(max(xs), 3)}


def sigint_run() -> tuple[float, int, bool]:
    """One server: start, wait until the warm-up computes a phoneme, SIGINT, time the exit."""
    env = {k: v for k, v in os.environ.items() if k != "DNNLENS_MODELS"}
    env["DNNLENS_WARMUP"] = "1"
    step, dt, code, text = ctrl_c_during_warmup(env)
    if not step:
        raise RuntimeError("the warm-up never computed a phoneme")
    return dt, code, any(a in text for a in ABORTS)


def _speech():
    from core.models import MODELS_DIR, load_model
    from core.train import load_validation

    net, info = load_model(MODELS_DIR / "speech_en_mfbank")
    frames = load_validation(info)
    return net, info, frames


def batch_gap() -> float:
    """The largest time between two progress calls while one phoneme's statistics are computed."""
    from core.importance import GradStatsCache

    net, info, frames = _speech()
    times = [time.monotonic()]
    GradStatsCache().get("bench", net, frames.spliced(), frames.labels, [info.outputs_of("s")],
                         n_labels=len(info.phones), transform=info.normalizer.apply,
                         progress=lambda f: times.append(time.monotonic()))
    return max(b - a for a, b in zip(times, times[1:], strict=False))


def _child(ready) -> None:
    from core.importance import gradient_stats

    net, info, frames = _speech()
    ready.set()
    gradient_stats(net, frames.spliced(), frames.labels, [info.outputs_of(p) for p in ("s", "sh", "b", "d")],
                   n_labels=len(info.phones), transform=info.normalizer.apply)


def child_run() -> tuple[float, float]:
    """(seconds until the child computes, seconds from terminate() to the child reaped)."""
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    t0 = time.monotonic()
    p = ctx.Process(target=_child, args=(ready,))
    p.start()
    ready.wait(120)
    start = time.monotonic() - t0
    time.sleep(1.0)  # inside the computation
    t1 = time.monotonic()
    p.terminate()
    p.join()
    return start, time.monotonic() - t1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sig = [sigint_run() for _ in range(args.runs)]
    child = [child_run() for _ in range(args.runs)]
    out = {
        "runs": args.runs,
        "sigint_to_exit_s": _spread([s[0] for s in sig]),
        "exit_codes": [s[1] for s in sig],
        "aborts": sum(s[2] for s in sig),
        "batch_s": round(batch_gap(), 3),
        "child_start_s": _spread([c[0] for c in child]),
        "child_terminate_s": _spread([c[1] for c in child]),
        "load_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
