"""Speed of the importance engine (core.importance) on this machine; prints one JSON object.

    .venv/bin/python bench/importance.py [--quick] [--model PATH] [--threads N]

Figures: ``frames_per_s`` (statistics of every output class, input layer, ``frames`` frames),
``achieved_gflops`` of that run (counting 2 x the multiply-adds of one backward pass per output
class), ``matmul_gflops`` (float32 4096x1024 @ 1024x1024, the median of the measurements taken
before, after and during the run; ``matmul_gflops_best`` the best of them), ``peak_fraction``
(achieved / median matmul rate; ``peak_fraction_vs_best`` against the best one;
``peak_fraction_probes`` the median of short paired probes, each against a matmul measured just
before), ``vs_loop`` (median speed ratio against one forward + backward of plain autograd per
class, same sums, paired probes), ``one_target_s`` (one target over 20,000 frames),
``peak_rss_mb`` (process peak after the all-class run), ``load_avg_1min`` (how busy the machine
was). ``cnn``: the DigitCNN's statistics of layers 0-2 (input, conv1 map, conv2 map) for all 10
targets over its 1,000 held-out digits: ``new_s`` (``layer_gradient_stats``, automatic batch),
``old_s`` / ``old_b500_s`` (the batched-autograd engine it replaced, ``is_grads_batched``, with
its automatic batch size and with 500 digits per batch, same accumulator), ``loop_grads_s`` (the
gradients alone, one ``torch.autograd.grad`` per target on all 1,000 digits at once, no sums: the
floor of any autograd engine), measured in one run;
``--only cnn`` runs just this part. Without a shipped model a randomly initialised SpeechDNN(1400, 41) on random
normalised inputs is used ("model": "random-init").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.importance import gradient_stats, layer_gradient_stats  # noqa: E402
from core.importance.engines import _masks, _sorted_batches, target_outputs  # noqa: E402
from core.importance.stats import _Accumulator  # noqa: E402
from core.models import SpeechDNN  # noqa: E402

DEFAULT_MODEL = ROOT / "assets" / "models" / "speech_en_mfbank"


class RandomFrames:
    """(n, dim) standard-normal 'normalised frames': a fixed pool of 4096 rows indexed cyclically, so
    fetching a batch costs a gather (like SplicedFrames) and nothing grows with n."""

    def __init__(self, n: int, dim: int, seed: int = 0, pool: int = 4096):
        self.n = n
        self.pool = np.random.default_rng(seed).standard_normal((pool, dim), dtype=np.float32)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: np.ndarray) -> np.ndarray:
        return self.pool[np.asarray(idx) % len(self.pool)]


def matmul_gflops(reps: int = 6) -> float:
    a, b = torch.randn(4096, 1024), torch.randn(1024, 1024)
    out = torch.empty(4096, 1024)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t)
    return 2 * 4096 * 1024 * 1024 / best / 1e9


def backward_macs(model: SpeechDNN) -> int:
    """Multiply-adds of one backward pass (one output class, one frame) through every weight."""
    s = model.layer_sizes
    return sum(a * b for a, b in zip(s[:-1], s[1:], strict=True))


def loop_baseline(model: torch.nn.Module, X: np.ndarray, labels: np.ndarray, n_labels: int,
                  batch: int = 256) -> float:
    """Seconds for plain autograd, one forward + backward per class, with the engine's own sums."""
    n_out, dim = model.n_classes, X.shape[1]
    t = time.perf_counter()
    acc = _Accumulator(n_labels, n_out)
    for xb, lb in _sorted_batches(X, labels, batch, np.arange(len(X)), None):
        acc.batch(lb)
        g_all = torch.empty(len(lb), n_out, dim)
        for c in range(n_out):
            x = torch.from_numpy(xb).requires_grad_(True)
            y = torch.softmax(model(x), -1)[:, c].sum()
            (g_all[:, c],) = torch.autograd.grad(y, x)
        acc(0, g_all, (dim,), 0)
    return time.perf_counter() - t


def old_batched_autograd(model: torch.nn.Module, X: np.ndarray, labels: np.ndarray, layers: tuple[int, ...],
                         batch_size: int | None = None, max_batch_mb: float = 128) -> float:
    """Seconds of the engine replaced in issue 8: one backward per batch vectorised over the T
    targets (``is_grads_batched``), its automatic batch size (3 (T+1) floats per activation value),
    all 10 outputs of the posterior, the same per-label accumulator."""
    nt = model.n_classes
    mask = _masks(tuple((j,) for j in range(nt)), nt, torch.float32)
    t = time.perf_counter()
    if batch_size is None:
        with torch.no_grad():
            acts = model.forward_layers(torch.from_numpy(X[:1]))
        batch_size = int(max_batch_mb * 2**20 // (4 * 3 * (nt + 1) * sum(a[0].numel() for a in acts)))
    acc = _Accumulator(nt, nt)
    for xb, lb in _sorted_batches(X, labels, batch_size, np.arange(len(X)), None):
        acc.batch(lb)
        nb = len(lb)
        x = torch.from_numpy(xb).requires_grad_(True)
        acts = model.forward_layers(x)
        acts[0] = x
        y = target_outputs(acts[-1], mask, "posterior")
        seeds = torch.eye(nt)[:, None, :].expand(nt, nb, nt).contiguous()
        grads = torch.autograd.grad(y, [acts[la] for la in layers], grad_outputs=seeds, is_grads_batched=True)
        for layer, g in zip(layers, grads, strict=True):
            acc(layer, g.movedim(0, 1).reshape(nb, nt, -1), tuple(g.shape[2:]))
    return time.perf_counter() - t


def cnn_figures(max_batch_mb: float) -> dict:
    """New and old engine on the shipped digits_cnn, layers 0-2, 10 targets, 1,000 held-out digits."""
    from core.models import load_model
    from core.train import digits_validation

    model, info = load_model(ROOT / "assets" / "models" / "digits_cnn")
    model.eval()
    held = digits_validation(info)
    X, labels = info.preprocess(held.images), np.asarray(held.labels, dtype=np.int64)
    layers = (0, 1, 2)
    t = time.perf_counter()
    layer_gradient_stats(model, X, labels, None, layers=layers, max_batch_mb=max_batch_mb)
    new = time.perf_counter() - t
    old = old_batched_autograd(model, X, labels, layers, max_batch_mb=max_batch_mb)
    old500 = old_batched_autograd(model, X, labels, layers, batch_size=500)
    t = time.perf_counter()
    x = torch.from_numpy(X).requires_grad_(True)
    acts = model.forward_layers(x)
    y = torch.softmax(acts[-1], -1)
    for c in range(model.n_classes):
        torch.autograd.grad(y[:, c].sum(), [x, acts[1], acts[2]], retain_graph=True)
    loop = time.perf_counter() - t
    t = time.perf_counter()
    layer_gradient_stats(model, X, labels, None, layers=layers, max_batch_mb=max_batch_mb)
    new = min(new, time.perf_counter() - t)  # best of two, one before and one after the old runs
    return {"digits": len(X), "layers": list(layers), "targets": model.n_classes, "new_s": round(new, 2),
            "old_s": round(old, 2), "old_b500_s": round(old500, 2), "loop_grads_s": round(loop, 2), "speedup": round(old / new, 1),
            "speedup_vs_b500": round(old500 / new, 1)}


def load(path: str | None) -> tuple[torch.nn.Module, str, object, np.ndarray | None, object]:
    """(model, name, frames or None, labels or None, transform) of a shipped model, else random-init."""
    p = Path(path) if path else DEFAULT_MODEL
    if p.exists():
        from core.models import load_model
        from core.train import frame_targets, load_validation

        model, info = load_model(p)
        try:
            frames = load_validation(info)
            return model, info.name, frames.spliced(), frame_targets(frames, info.targets), info.normalizer.apply
        except ValueError:
            return model, info.name, None, None, None
    if path:
        raise SystemExit(f"no model at {path}")
    torch.manual_seed(0)
    return SpeechDNN(1400, 41), "random-init", None, None, None


def frames_for(n: int, model, real, real_labels, transform):
    """n frames: the real validation frames repeated, or random normalised frames."""
    if real is None:
        return RandomFrames(n, model.input_dim), np.arange(n) % model.n_classes, None
    idx = np.arange(n) % len(real)
    return real, real_labels, idx


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller run, under a minute")
    ap.add_argument("--model", help=f"model directory (default {DEFAULT_MODEL.relative_to(ROOT)})")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads")
    ap.add_argument("--frames", type=int, help="frames of the all-class run (default 100000; quick 2000)")
    ap.add_argument("--max-batch-mb", type=float, default=128)
    ap.add_argument("--only", choices=("speech", "cnn"), help="run one part (default both)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.only == "cnn":
        out = {"threads": args.threads, "cnn": cnn_figures(args.max_batch_mb),
               "load_avg_1min": round(os.getloadavg()[0], 2)}
        print(json.dumps(out, indent=1))
        return out
    model, name, real, real_labels, transform = load(args.model)
    n_all = args.frames or (2000 if args.quick else 100_000)
    n_probe = 552 if args.quick else 1104  # frames of each paired (matmul, engine, loop) probe
    reps = 3 if args.quick else 5
    kw = {"max_batch_mb": args.max_batch_mb}
    flops_per_frame = 2 * backward_macs(model) * model.n_classes

    # 1. All-class statistics over n_all frames: throughput and memory.
    rate_before = matmul_gflops()
    X, lab, idx = frames_for(n_all, model, real, real_labels, transform)
    t = time.perf_counter()
    gradient_stats(model, X, lab, None, indices=idx, transform=transform, **kw)
    t_all = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate_after = matmul_gflops()

    # 2. One target over 20,000 frames.
    X1, lab1, idx1 = frames_for(20_000, model, real, real_labels, transform)
    t = time.perf_counter()
    gradient_stats(model, X1, lab1, [0], indices=idx1, transform=transform, **kw)
    t_one = time.perf_counter() - t

    # 3. Paired probes (the machine is shared: each ratio compares runs made moments apart).
    Xp, labp, idxp = frames_for(n_probe, model, real, real_labels, transform)
    sub = np.arange(n_probe) if idxp is None else idxp
    Xa = np.asarray(transform(Xp[sub]) if transform else Xp[sub], dtype=np.float32)
    la = np.asarray(labp)[sub].astype(np.int64)
    fractions, loops, rates = [], [], []
    for _ in range(reps):
        rates.append(matmul_gflops())
        t = time.perf_counter()
        gradient_stats(model, Xa, la, None, **kw)
        t_fast = time.perf_counter() - t
        fractions.append(flops_per_frame * n_probe / t_fast / 1e9 / rates[-1])
        loops.append(loop_baseline(model, Xa, la, model.n_classes) / t_fast)

    all_rates = [rate_before, rate_after, *rates]
    rate_median = float(np.median(all_rates))
    achieved = flops_per_frame * n_all / t_all / 1e9
    out = {
        "model": name,
        "threads": args.threads,
        "frames": n_all,
        "n_classes": model.n_classes,
        "all_class_s": round(t_all, 2),
        "frames_per_s": round(n_all / t_all, 1),
        "achieved_gflops": round(achieved, 1),
        "matmul_gflops": round(rate_median, 1),
        "matmul_gflops_best": round(max(all_rates), 1),
        "peak_fraction": round(achieved / rate_median, 3),
        "peak_fraction_vs_best": round(achieved / max(all_rates), 3),
        "peak_fraction_probes": round(float(np.median(fractions)), 3),
        "vs_loop": round(float(np.median(loops)), 2),
        "probe_frames": n_probe,
        "one_target_s": round(t_one, 3),
        "peak_rss_mb": round(rss, 1),
        **({} if args.only == "speech" else {"cnn": cnn_figures(args.max_batch_mb)}),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
