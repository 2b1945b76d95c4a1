"""`python -m core import-corpus --format timit|textgrid SRC DIR`: argument parsing and printing
around ``core.data.importers``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.cli import writable_folder
from core.data.importers import FORMATS, import_corpus


def _cmd_import(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(f"import-corpus: {done}/{total} utterances, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    res = import_corpus(
        args.src, args.out, args.format, tier=args.tier, audio_dir=args.audio, progress=report
    )
    print(
        f"wrote {res.utterances} utterances ({res.seconds / 60:.1f} min of audio, {len(res.voices)} voices) "
        f"to {res.manifest}"
    )
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register `import-corpus`."""
    p = subparsers.add_parser(
        "import-corpus", help="turn a TIMIT or TextGrid (MFA) corpus into a corpus folder"
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        required=True,
        help="timit: .WAV + .PHN (TIMIT layout); textgrid: audio + Praat TextGrids with a phones tier",
    )
    p.add_argument("src", type=Path, help="the corpus to import (e.g. TIMIT/ or MFA's output folder)")
    p.add_argument("out", type=writable_folder, metavar="DIR", help="new corpus folder to write")
    p.add_argument("--audio", type=Path, help="textgrid: the folder with the audio (default SRC)")
    p.add_argument("--tier", help="textgrid: the tier with the phones (default: 'phones' or '... - phones')")
    p.set_defaults(func=_cmd_import)
