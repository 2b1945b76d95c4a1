"""`python -m core features FILE [--features mfbank|mfcc] [--out F.npy]`: one file's features."""

from __future__ import annotations

import argparse

import numpy as np

from core.audio import SAMPLE_RATE
from core.cli import npy_file, positive_float
from core.features import FeatureConfig, extract


def _cli_features(args: argparse.Namespace) -> int:
    import soundfile as sf

    from core.audio import load_audio

    signal = load_audio(args.file, max_seconds=args.max_seconds)
    info = sf.info(args.file)
    feats = extract(signal, FeatureConfig(kind=args.features))
    print(f"file: {args.file}")
    print(f"duration: {len(signal) / SAMPLE_RATE:.3f} s")
    print(f"sample rate: {info.samplerate} Hz ({info.channels} channel(s), {info.subtype}), "
          f"converted to {SAMPLE_RATE} Hz mono")
    print(f"features: {args.features}, shape {feats.shape[0]} frames x {feats.shape[1]} channels")
    if args.out is not None:
        np.save(args.out, feats)
        print(f"saved: {args.out}")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register `features`."""
    p = sub.add_parser("features", help="features of one audio file")
    p.add_argument("file", help="an audio file (WAV, FLAC, OGG, ...)")
    p.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    p.add_argument("--out", type=npy_file, help="save the (frames, channels) float32 features as .npy "
                                                "(.npy is added to a name without it)")
    p.add_argument("--max-seconds", type=positive_float, default=30.0,
                   help="longest recording accepted (default 30)")
    p.set_defaults(func=_cli_features)
