"""`python -m core compare-methods MODEL --target s [--json]`: argparse glue around
``core.trust.compare`` (loading the model and its frames, printing the rows)."""

from __future__ import annotations

import json
import sys

from core.cli import positive_int


def _cli_compare(args) -> int:
    from core.models import load_model
    from core.trust import TrustError, compare, config_for, digits_data, speech_data

    model, info = load_model(args.model)
    cfg = config_for(info.kind, seed=args.seed, **({"n_frames": args.frames} if args.frames else {}))
    if info.kind == "digits":
        from core.train import digits_validation

        if args.target not in [str(d) for d in range(10)]:
            raise TrustError(f"The target of a digits model is a digit 0-9, not {args.target!r}.")
        ds = digits_validation(info)
        data = digits_data(info.preprocess(ds.images), ds.labels, int(args.target), cfg)
    else:
        from core.train import load_validation

        info.outputs_of(args.target)  # an unknown phoneme fails here, before loading the frames
        data = speech_data(info, load_validation(info), args.target, args.sample, cfg)

    def progress(step: str, f: float) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{step} {f:4.0%}", end="", file=sys.stderr, flush=True)

    rep = compare(model, data, cfg, output=args.output, progress=progress)
    if not args.json and sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "model": info.name,
                    "target": args.target,
                    "output": args.output,
                    "frames": {
                        "maps": rep.maps.n_frames,
                        "curves": rep.faith.n_frames,
                        "sanity": rep.sanity.n_frames,
                        "clusters": rep.maps.n_clusters,
                        "cluster": data.unit,
                    },
                    "methods": [r.to_dict() for r in rep.rows],
                    "verdict": rep.verdict.to_dict(),
                },
                indent=1,
            )
        )
        return 0
    print(
        f"{info.name}, target {args.target} ({args.output}): maps over {rep.maps.n_frames} frames of "
        f"{rep.maps.n_clusters} {data.unit}s ({data.description}), curves over {rep.faith.n_frames} target "
        f"frames, sanity over {rep.sanity.n_frames} frames"
    )
    print(f"{'method':<32} {'deletion AUC':>20} {'insertion AUC':>20} {'sanity rho':>15} {'split-half':>10}")
    for r in rep.rows:
        flag = " FLAGGED" if r.flagged else ""
        print(
            f"{r.name:<32} {r.deletion_auc:6.3f} [{r.deletion_ci[0]:.3f},{r.deletion_ci[1]:.3f}] "
            f"{r.insertion_auc:6.3f} [{r.insertion_ci[0]:.3f},{r.insertion_ci[1]:.3f}] "
            f"{r.sanity_cascade:6.2f} /{r.sanity_shuffled:6.2f} {r.split_half:10.2f}{flag}"
        )
    print("sanity rho: Spearman with the trained model's map, every layer randomised / shuffled-label twin")
    print(rep.verdict.text)
    return 0


def add_cli(subparsers) -> None:
    """Register `compare-methods`: faithfulness, sanity and stability of every importance method."""
    p = subparsers.add_parser(
        "compare-methods",
        help="which importance index to trust: every method's "
        "deletion / insertion AUC, sanity correlation and split-half stability",
    )
    p.add_argument("model", help="model directory or name under assets/models (speech or digits)")
    p.add_argument("--target", required=True, help="phoneme (speech) or digit 0-9 (digits model)")
    p.add_argument(
        "--output",
        choices=("posterior", "logit", "log_posterior"),
        default="posterior",
        help="output differentiated (default posterior)",
    )
    p.add_argument(
        "--sample",
        choices=("all", "selected"),
        default="all",
        help="speech: maps over frames of every phoneme (all) or of the target (selected)",
    )
    p.add_argument(
        "--frames", type=positive_int, default=None, help="frames of the maps (default 1000; digits 300)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of noise, random map, resamples (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cli_compare)
