"""`python -m core real-voices build --out DIR [--sources a,b]`: the real-speech set (core.data.real)."""

from __future__ import annotations

import argparse
import json
import sys


def _cmd_build(args: argparse.Namespace) -> int:
    from core.data.real import build

    names = [s for s in (args.sources or "").split(",") if s] or None

    def progress(done: int, total: int) -> None:
        if done == total or done % 20 == 0:
            print(f"  aligned {done} of {total} recordings", file=sys.stderr)

    rep = build(args.out, names, progress=progress)
    if args.json:
        print(json.dumps({"folder": str(rep.folder), "recordings": rep.written, "seconds": round(rep.seconds, 2),
                          "sources": rep.sources, "skipped": [list(s) for s in rep.skipped],
                          "missing": list(rep.missing)}, indent=1))
        return 0
    print(f"{rep.folder}: {rep.written} real recordings, {rep.seconds:.1f} s, labelled by pocketsphinx")
    for name, n in rep.sources.items():
        print(f"  {name:>20}  {n} recordings")
    for f, why in rep.skipped:
        print(f"  skipped {f}: {why}")
    if rep.missing:
        print(f"  not installed: {', '.join(rep.missing)}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``real-voices build``."""
    from core.data.real import SOURCE_NAMES

    r = subparsers.add_parser("real-voices", help="a labelled set of real English speech from Debian's packages")
    sub = r.add_subparsers(dest="real_command", required=True)
    b = sub.add_parser("build", help="align the packages' recordings with pocketsphinx and write a corpus folder")
    b.add_argument("--out", required=True, help="a new folder")
    b.add_argument("--sources", help=f"comma-separated, default all: {','.join(SOURCE_NAMES)}")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_cmd_build)
