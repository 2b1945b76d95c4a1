"""`python -m core synth ...`, `python -m core corpus-info DIR` and `python -m core join-corpus ...`:
argument parsing, progress lines and printing around ``core.data``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from core.cli import at_least, positive_int
from core.data.corpus import join_corpora, load_corpus, read_manifest
from core.data.synth.plan import DEFAULT_VOICES, ESPEAK_VOICES
from core.data.synth.run import synthesize
from core.features import FeatureConfig


def _cli_synth(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(f"synth: {done}/{total} utterances, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    if args.lang == "ja":
        from core.data.synth.openjtalk import synthesize_ja

        voices = tuple(v.strip() for v in (args.voices or "").split(",") if v.strip()) or None
        manifest = synthesize_ja(args.out, args.utts, seed=args.seed, voices=voices, progress=report,
                                 workers=args.workers, resume=args.resume)
    else:
        voices = tuple(v.strip() for v in (args.voices or ",".join(DEFAULT_VOICES)).split(",") if v.strip())
        manifest = synthesize(args.out, args.utts, seed=args.seed, lang=args.lang, voices=voices,
                              progress=report, workers=args.workers)
    dt = time.perf_counter() - t0
    print(f"wrote {args.utts} utterances to {manifest} in {dt:.1f} s ({60 * args.utts / dt:.0f} per minute)")
    return 0


def _cli_info(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    frames = load_corpus(args.corpus, FeatureConfig(kind=args.features))
    counts = frames.phone_counts()
    print(
        f"{len(frames.utt_ids)} utterances, {len(frames)} frames ({len(frames) / 100:.0f} s), "
        f"loaded in {time.perf_counter() - t0:.1f} s"
    )
    for voice in sorted(set(frames.voices)):
        print(f"  voice {voice}: {frames.voices.count(voice)} utterances")
    for i in np.argsort(counts):
        print(f"  {frames.phone_set.phones[i]:>4} {counts[i]:8d}")
    return 0


def _cli_join(args: argparse.Namespace) -> int:
    manifest = join_corpora(args.corpora, args.out)
    n = len(read_manifest(args.out))
    print(f"wrote {manifest}: {n} utterances from {len(args.corpora)} corpora (links to their files)")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register `synth`, `corpus-info` and `join-corpus`."""
    p = subparsers.add_parser("synth", help="synthesise a phoneme-aligned corpus (Festival, flite, eSpeak NG; Open JTalk for ja)")
    p.add_argument("--lang", default="en", help="language: en (Festival) or ja (Open JTalk)")
    p.add_argument("--utts", type=positive_int, required=True, help="number of utterances")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed = identical files)")
    p.add_argument("--voices", default=None,
                   help=f"comma-separated voices (en, default the seven with a recorded speaker: {','.join(DEFAULT_VOICES)}; "
                        f"eSpeak NG voices: {','.join(ESPEAK_VOICES)}; ja: the HTS voices of pyopenjtalk-plus)")
    p.add_argument("--workers", type=at_least(1), default=None, help="synthesiser processes at a time")
    p.add_argument("--resume", action="store_true", help="ja: keep the utterances an interrupted run already wrote")
    p.set_defaults(func=_cli_synth)
    q = subparsers.add_parser("corpus-info", help="frames per phoneme of a corpus (builds its frame cache)")
    q.add_argument("corpus", type=Path, help="corpus directory (with manifest.csv)")
    q.add_argument("--features", default="mfbank", choices=("mfbank", "mfcc"))
    q.set_defaults(func=_cli_info)
    j = subparsers.add_parser("join-corpus", help="one corpus folder of several (links to their files)")
    j.add_argument("corpora", type=Path, nargs="+", help="corpus folders (synthesised or imported), same phone set")
    j.add_argument("--out", type=Path, required=True, help="a new folder")
    j.set_defaults(func=_cli_join)
