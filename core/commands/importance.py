"""`python -m core importance MODEL (--corpus DIR | --validation) --target s ...`: argument
parsing, loading and printing around ``core.importance.importance_table``.

Under ``torchrun --nproc-per-node N -m core importance ...`` the gradient statistics are shared
among the ranks and all-reduced (``core.importance.distributed``); rank 0 prints. ``--corpus`` also
takes a frames npz or a sharded corpus (``shard-corpus``; one shard mapped at a time; no --pair,
whose p_e needs every frame's histogram). ``--save-sums F.npz`` writes the per-label sums the
statistics come from (n, sum_g, sum_g2, sum_abs, float64; targets), e.g. to compare runs."""

from __future__ import annotations

import json

import numpy as np

from core.cli import new_file
from core.importance import OUTPUTS, ImportanceError, importance_table
from core.importance.table import MAX_BINS, RANKS, check_table_args
from core.models.info import state_target
from core.train.distributed import current as current_ranks
from core.train.distributed import init_from_env, main_first, shutdown


def _cli_data(args) -> tuple:
    """Glue to the loaders: (model, info, raw spliced frames, true labels in output index space)."""
    from core.models import load_model
    from core.train import frame_targets, load_validation

    model, info = load_model(args.model)
    if info.kind != "speech":
        raise ImportanceError(f"The model {info.name} is not a speech model.")
    if args.validation:
        frames = load_validation(info)
    else:
        from pathlib import Path

        from core.data.corpus import load_corpus
        from core.data.frames import CorpusFrames

        with main_first():  # rank 0 first: a corpus's frame cache is written once
            frames = CorpusFrames.load(args.corpus) if Path(args.corpus).is_file() else load_corpus(
                args.corpus, info.features)
        if frames.cfg != info.features:
            raise ImportanceError(f"{args.corpus} holds other features than {info.name} takes.")
    return model, info, frames.spliced(), frame_targets(frames, info.targets)


def _sharded_stats(args, model, info):
    """GradStats of the table's targets over a sharded corpus (ranks share the shards)."""
    from core.data.shards import ShardedCorpus
    from core.importance.distributed import sharded_gradient_stats
    from core.importance.table import table_targets

    if args.pair is not None:
        raise ImportanceError("--pair needs every frame's histogram: use a corpus folder or a frames npz.")
    corpus = ShardedCorpus(args.corpus)
    if corpus.cfg != info.features:
        raise ImportanceError(f"{args.corpus} holds other features than {info.name} takes.")
    def labels_of(shard):
        return state_target(np.asarray(shard.labels, dtype=np.int64), np.asarray(shard.states, dtype=np.int64),
                            info.targets)

    return sharded_gradient_stats(model, corpus, labels_of, table_targets(info.labels, args.target),
                                  output=args.output, n_labels=len(info.labels), transform=info.normalizer.apply)[0]


def _save_sums(path, stats) -> None:
    np.savez(path, n=stats.n, sum_g=stats.sum_g, sum_g2=stats.sum_g2, sum_abs=stats.sum_abs,
             targets=np.asarray([",".join(map(str, t)) for t in stats.targets]))


def _cli_importance(args) -> int:
    check_table_args(args.top, args.bins)  # before loading anything
    if args.pair is not None and args.pair == args.target:
        raise ImportanceError(f"--target and --pair are both {args.target}; choose two different phonemes.")
    from core.data.shards import is_sharded
    from core.importance.distributed import gradient_stats_across_ranks
    from core.importance.table import table_targets

    init_from_env()
    if args.corpus and is_sharded(args.corpus):
        from core.models import load_model

        model, info = load_model(args.model)
        stats, X, labels = _sharded_stats(args, model, info), None, None
    else:
        model, info, X, labels = _cli_data(args)
        stats = gradient_stats_across_ranks(model, X, labels, table_targets(info.labels, args.target, args.pair),
                                            output=args.output, n_labels=len(info.labels),
                                            transform=info.normalizer.apply)[0]
    rows = importance_table(model, info.features, info.labels, X, labels, target=args.target, pair=args.pair,
                            stat=args.stat, output=args.output, top=args.top, transform=info.normalizer.apply,
                            bins=args.bins, rank=args.rank, stats=stats)
    main = current_ranks().main
    shutdown()
    if not main:
        return 0
    if args.save_sums:
        _save_sums(args.save_sums, stats)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    head = f"{'offset':>7} {'ms':>6} {'ch':>3} {'Hz':>7} {args.target:>11}"
    print(head + (f" {args.pair:>11} {'product':>11} {'p_e':>5} {'score':>11}" if args.pair else ""))
    for r in rows:
        hz = "-" if r["hz"] is None else f"{r['hz']:.0f}"
        line = f"{r['offset_frames']:>7} {r['offset_ms']:>6.0f} {r['channel']:>3} {hz:>7} {r['importance']:>11.4g}"
        if args.pair:
            line += f" {r['importance_b']:>11.4g} {r['importance_pair']:>11.4g} {r['p_e']:>5.2f} {r['score']:>11.4g}"
        print(line)
    return 0


def add_cli(subparsers) -> None:
    """Register `importance`: the top inputs of a phoneme's importance map, or of a pair's."""
    p = subparsers.add_parser("importance", help="top inputs of a phoneme's importance map (or a pair's)")
    p.add_argument("model", help="model directory (as saved by core.models.save_model)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", metavar="DIR",
                     help="frames of a corpus directory, a frames npz or a sharded corpus (shard-corpus)")
    src.add_argument("--validation", action="store_true", help="the model's validation frames")
    p.add_argument("--target", required=True, help="phoneme (all its states for a 3-state model)")
    p.add_argument("--pair", help="second phoneme: square size = product, colour = p_e")
    p.add_argument("--stat", choices=("std", "mean_abs", "rms"), default="std", help="statistic (default std)")
    p.add_argument("--output", choices=OUTPUTS, default="posterior", help="output differentiated")
    p.add_argument("--top", type=int, default=10, help="cells to print, at least 1 (default 10)")
    p.add_argument("--bins", type=int, default=30,
                   help=f"histogram bins per input for p_e, 2-{MAX_BINS} (default 30); as in the dashboard, "
                        "the bins span the 0.5-99.5th percentiles of all frames of the sample set")
    p.add_argument("--rank", choices=RANKS, default="score",
                   help="order of a pair's cells: score = product x p_e (large and different; default) "
                        "or product (size alone)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("--save-sums", type=new_file, metavar="F.npz",
                   help="also write the per-label sums n, sum_g, sum_g2, sum_abs (float64) of the targets")
    p.set_defaults(func=_cli_importance)

