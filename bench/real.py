"""Leave one real source out: does mixing real speech into training help on real speakers it never heard?

    .venv/bin/python bench/real.py [--real data/real_en] [--corpus data/corpus_en7e_train]
        [--valid-corpus data/corpus_en7e_valid] [--utt-norm cmn_speech] [--weight 0.1]
        [--max-frames 300000 | --max-frames 0] [--epochs 4] [--features mfbank] [--save DIR] [--base MODEL]

For each real source S of the real-speech set (``python -m core real-voices build``), a model is
trained on the synthetic corpus plus every *other* real source (``train_speech(real=...,
real_weight=W, real_sources=...)``) and measured on S alone (``core.data.real.evaluate_real``:
agreement on non-silence frames, plain and VTLN-averaged, and the phone error rate); one baseline
model is trained on the synthetic corpus alone with the same recipe and measured on every source.
Also each model's synthetic held-out frame accuracy. Prints JSON; docs/MODELS.md has the table.
The recipe is the shipped one (7 x 512 sigmoid, Adam 1e-3, batch 512, seed 0) with the budget of
``--max-frames`` / ``--epochs`` (the shipped models: all frames, 8 epochs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", default=str(ROOT / "data/real_en"))
    ap.add_argument("--corpus", default=str(ROOT / "data/corpus_en7e_train"))
    ap.add_argument("--valid-corpus", default=str(ROOT / "data/corpus_en7e_valid"))
    ap.add_argument("--features", default="mfbank")
    ap.add_argument("--utt-norm", default="cmn_speech")
    ap.add_argument("--weight", type=float, default=0.1)
    ap.add_argument("--max-frames", type=int, default=300_000, help="0: every frame (the shipped budget)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--sources", help="hold out only these sources (comma-separated; default every one)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save", help="keep the models in this folder")
    ap.add_argument("--reuse", action="store_true",
                    help="a model already saved under --save with its name is measured, not trained again")
    ap.add_argument("--write-heldout", metavar="MODEL", action="append", default=[],
                    help="store the held-out figures (each source measured on the model trained without it) "
                         "in MODEL's metadata (metrics.real_speech_heldout): the cards of a model trained by "
                         "the same recipe on every source quote them (repeat for several models)")
    ap.add_argument("--base", metavar="MODEL",
                    help="measure this model (trained by the same recipe without real speech, e.g. the shipped "
                         "one at the shipped budget) as the baseline instead of training one")
    args = ap.parse_args()

    import torch

    from core.data import load_corpus, read_manifest
    from core.data.real import evaluate_real
    from core.features import FeatureConfig
    from core.models import load_model, save_model
    from core.train import SpeechTrainConfig, train_speech

    torch.set_num_threads(args.threads)
    t0 = time.monotonic()
    fc = FeatureConfig(kind=args.features, utt_norm=args.utt_norm)
    train, valid = load_corpus(Path(args.corpus), fc), load_corpus(Path(args.valid_corpus), fc)
    real = load_corpus(Path(args.real), fc)
    sources = sorted({r["voice"] for r in read_manifest(args.real)})
    held = [s for s in (args.sources or "").split(",") if s] or sources
    cfg = SpeechTrainConfig(features=args.features, epochs=args.epochs, batch_size=512, lr=1e-3, seed=0,
                            max_frames=args.max_frames or None)
    save = Path(args.save) if args.save else Path(ROOT / "data" / "bench_real")
    print(f"corpora loaded in {time.monotonic() - t0:.0f} s", file=sys.stderr)

    def run(name: str, **kw) -> tuple[dict, dict]:
        t = time.monotonic()
        if args.reuse and (save / name / "model.json").is_file():
            net, info = load_model(save / name)
            metrics = dict(info.metrics)
        else:
            res = train_speech(train, cfg, features=fc, valid=valid, **kw)
            net, info = load_model(save_model(res.model, save / name, res.meta))
            metrics = res.meta["metrics"]
        ev = evaluate_real(net, info, args.real)
        print(f"{name}: {time.monotonic() - t:.0f} s, synthetic {metrics['heldout_accuracy']:.4f}, "
              f"real overall {ev.overall['agreement']:.4f}", file=sys.stderr)
        return metrics, ev.per_source

    if args.base:
        net, info = load_model(args.base)
        base_metrics = {"heldout_accuracy": info.metrics["heldout_accuracy"]}
        base = evaluate_real(net, info, args.real).per_source
        print(f"base: {args.base}", file=sys.stderr)
    else:
        base_metrics, base = run("base")
    out = {"recipe": {"features": args.features, "utt_norm": args.utt_norm, "weight": args.weight,
                      "max_frames": args.max_frames, "epochs": args.epochs, "base_model": args.base},
           "base": {"synthetic": base_metrics["heldout_accuracy"], "per_source": base}, "held_out": {}}
    for s in held:
        others = [x for x in sources if x != s]
        metrics, per = run(f"without_{s}", real=real, real_weight=args.weight, real_sources=others)
        out["held_out"][s] = {"synthetic": metrics["heldout_accuracy"], "with_real": per[s], "base": base[s]}
    for key in ("agreement", "agreement_vtln", "per"):
        with_real = [v["with_real"][key] for v in out["held_out"].values()]
        without = [v["base"][key] for v in out["held_out"].values()]
        out[f"mean_{key}"] = {"with_real": round(sum(with_real) / len(with_real), 4),
                              "base": round(sum(without) / len(without), 4)}
    out["seconds"] = round(time.monotonic() - t0)
    if args.write_heldout:
        from core.models import write_metrics

        held_out = {"per_source": {s: v["with_real"] for s, v in out["held_out"].items()},
                    "recipe": out["recipe"], "command": "bench/real.py " + " ".join(sys.argv[1:])}
        for name in args.write_heldout:
            write_metrics(load_model(name)[1].path, {"real_speech_heldout": held_out})
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
