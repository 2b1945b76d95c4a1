"""`python -m core shard-corpus SRC OUT [--features mfbank|mfcc] [--utt-norm ...] [--shard-frames N]`:
a sharded, memory-mapped copy of a corpus folder or a frames npz (``core.data.shards``).

Under ``torchrun`` (one or several machines sharing the OUT folder) rank r extracts shards r, r + W,
...; rank 0 writes the index last. A frames npz is sharded by rank 0 alone (it is in memory already)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch.distributed as dist

from core.cli import positive_int
from core.data.shards import SHARD_FRAMES, ShardedCorpus, shard_corpus_dir, shard_frames_file
from core.features import UTT_NORMS, FeatureConfig
from core.train.distributed import current, init_from_env, shutdown


def _cmd_shard_corpus(args: argparse.Namespace) -> int:
    init_from_env()
    ranks = current()
    t0 = time.monotonic()
    if Path(args.src).is_file():
        from core.data.frames import CorpusFrames

        index = shard_frames_file(CorpusFrames.load(args.src), args.out, shard_frames=args.shard_frames,
                                  seed=args.seed) if ranks.main else None
    else:
        index = shard_corpus_dir(args.src, args.out, FeatureConfig(kind=args.features, utt_norm=args.utt_norm),
                                 shard_frames=args.shard_frames, seed=args.seed, rank=ranks.rank,
                                 world=ranks.world, barrier=dist.barrier if ranks.active else None)
    shutdown()
    if index is not None:
        c = ShardedCorpus(index.parent)
        print(f"wrote {index.parent}: {c.n_frames} frames of {len(c.utt_ids)} utterances in {c.n_shards} shards "
              f"({c.cfg.kind}, utt_norm {c.cfg.utt_norm}) in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``shard-corpus``."""
    p = subparsers.add_parser("shard-corpus", help="a sharded, memory-mapped copy of a corpus (larger than memory)")
    p.add_argument("src", help="a corpus folder (wav + lab + manifest.csv) or a frames npz")
    p.add_argument("out", help="new folder for the shards")
    p.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank",
                   help="features to extract from a corpus folder (a frames npz keeps its own)")
    p.add_argument("--utt-norm", choices=UTT_NORMS, default="none", help="per-utterance normalisation (as train)")
    p.add_argument("--shard-frames", type=positive_int, default=SHARD_FRAMES,
                   help=f"frames per shard, whole utterances (default {SHARD_FRAMES:,}: 160 MB of MFBANK)")
    p.add_argument("--seed", type=int, default=0, help="the order in which utterances are dealt to shards")
    p.set_defaults(func=_cmd_shard_corpus)
