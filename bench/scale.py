"""Per-frame costs for scaling out (docs/SCALE.md); prints one JSON object.

    .venv/bin/python bench/scale.py [--train-frames N] [--stats-frames N] [--reps K]

On the shipped recipe's network (SpeechDNN 1400 -> 7 x 512 sigmoid -> 41, randomly initialised:
the cost does not depend on the weights) and the shipped MFBANK validation frames (spliced and
normalised batch by batch, as training does):

- ``train``: seconds per 1,000 frames of training (``core.train.loop.fit``: batch gathering,
  forward, backward, Adam; global batch 512) in one process with 1 thread and with 2 threads, and
  in 2 processes of 1 thread (torchrun, gloo, DDP, each rank 256 frames of every global batch);
- ``stats_one_target`` / ``stats_all_targets``: seconds per 1,000 frames of the gradient statistics
  pass (``layer_gradient_stats``, input layer, the chain engine, automatic batch) for one target
  (the ``importance`` command, ``--stats-frames``) and for all 41 outputs (the dashboard's warm-up, a
  twentieth of them), one process
  (1 and 2 threads) and 2 processes (``gradient_stats_across_ranks``);
- ``extract``: seconds per 1,000 frames of MFBANK extraction from 16 kHz audio (``shard-corpus``),
  one thread;
- ``load_avg_1min`` before and after: how busy the machine was (the figures are wall-clock).

Every figure is measured ``--reps`` times (3): ``min`` and ``median`` (extraction: the minimum).

2 processes on this 2-core machine against 1 process of 2 threads is the comparison that matters
here; per-core figures (1 thread) are what docs/SCALE.md scales to other machines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.features import Normalizer  # noqa: E402
from core.models import VALIDATION_DIR, SpeechDNN  # noqa: E402
from core.train import distributed as D  # noqa: E402
from core.train import frame_targets, load_validation  # noqa: E402
from core.train.loop import _init_weights, fit  # noqa: E402


def _data():
    frames = load_validation(VALIDATION_DIR / "en_mfbank.npz")
    norm = Normalizer.fit(frames.feats)
    return frames.spliced(), frame_targets(frames, "phone"), norm


def _model() -> SpeechDNN:
    model = SpeechDNN(1400, 41, 512, 7, "sigmoid")
    _init_weights(model, torch.Generator().manual_seed(0), "sigmoid")
    return model


def train_cost(n_frames: int) -> float:
    """Seconds per 1,000 frames of fit() over ``n_frames`` frames (after a 2-batch warm-up)."""
    view, y, norm = _data()

    def batch(pos, _rng):
        return norm.apply(view[pos]).astype(np.float32), y[pos]

    fit(_model(), 1024, batch, lambda: (0.0, None), epochs=1, batch_size=512, lr=1e-3, seed=0)  # warm-up
    D.all_reduce_sum(np.zeros(1))  # every rank starts the clock together
    t = time.perf_counter()
    fit(_model(), n_frames, batch, lambda: (0.0, None), epochs=1, batch_size=512, lr=1e-3, seed=1)
    return 1000 * (time.perf_counter() - t) / n_frames


def stats_cost(n_frames: int, all_targets: bool) -> float:
    """Seconds per 1,000 frames of the statistics pass over ``n_frames`` frames."""
    from core.importance.distributed import gradient_stats_across_ranks

    view, y, norm = _data()
    idx = np.arange(n_frames) % len(y)
    targets = None if all_targets else [[29]]
    model = _model().eval()
    gradient_stats_across_ranks(model, view, y, targets, indices=idx[:256], transform=norm.apply)  # warm-up
    D.all_reduce_sum(np.zeros(1))
    t = time.perf_counter()
    gradient_stats_across_ranks(model, view, y, targets, indices=idx, transform=norm.apply)
    return 1000 * (time.perf_counter() - t) / n_frames


def extract_cost() -> float:
    import soundfile as sf

    from core.features import FeatureConfig, extract

    audio = np.concatenate([sf.read(str(p), dtype="float32")[0] for p in sorted((ROOT / "assets/samples").glob("*.wav"))
                            if not p.name.startswith("ja_")])
    audio = np.tile(audio, 4)
    t = time.perf_counter()
    f = extract(audio, FeatureConfig())
    return 1000 * (time.perf_counter() - t) / len(f)


def measure(args) -> dict:
    """Each cost ``--reps`` times: {name: {"min": s, "median": s}} per 1,000 frames. On a machine
    shared with other work, the minimum is the estimate of the cost itself (the others only add
    time), the median what a run met."""
    runs = {"train_s_per_1000": lambda: train_cost(args.train_frames),
            "stats_one_target_s_per_1000": lambda: stats_cost(args.stats_frames, False),
            "stats_all_targets_s_per_1000": lambda: stats_cost(args.stats_frames // 20, True)}
    out = {}
    for name, run in runs.items():
        t = [run() for _ in range(args.reps)]
        out[name] = {"min": round(min(t), 4), "median": round(float(np.median(t)), 4)}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-frames", type=int, default=10240, help="frames of the timed training (20 batches)")
    p.add_argument("--stats-frames", type=int, default=40000, help="frames of the one-target statistics pass")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each measurement (min and median)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:  # a rank under torchrun
        ranks = D.init_from_env()
        torch.set_num_threads(1)
        res = measure(args)
        D.shutdown()
        if ranks.main:
            print(json.dumps(res))
        return 0
    load0 = os.getloadavg()[0]
    out: dict = {"network": "SpeechDNN 1400 -> 7 x 512 sigmoid -> 41", "batch": 512,
                 "torch": torch.__version__, "cpus": os.cpu_count()}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        out[f"one_process_{threads}_threads"] = measure(args)
    torch.set_num_threads(1)
    out["extract_s_per_1000"] = round(min(extract_cost() for _ in range(args.reps)), 4)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", __file__, "--worker",
           f"--train-frames={args.train_frames}", f"--stats-frames={args.stats_frames}", f"--reps={args.reps}"]
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if run.returncode != 0:
        print(run.stderr[-2000:], file=sys.stderr)
        return 1
    out["two_processes_1_thread"] = json.loads(run.stdout.strip().splitlines()[-1])
    out["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
