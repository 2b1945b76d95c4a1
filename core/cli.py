"""`python -m core SUBCOMMAND ...`: the command line of dnnlens.

Each core module that offers commands defines ``add_cli(subparsers)``, registering its
subcommands with ``set_defaults(func=handler)``; a handler takes the parsed arguments and returns
an exit code. Any ``ValueError`` (the base of every user-facing error type in core) is printed as
one line on stderr and gives exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that register subcommands, in the order they appear in --help.
CLI_MODULES = ("features", "corpus", "train", "importance", "pruning")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core", description="dnnlens: what a deep neural network looks at."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in CLI_MODULES:
        try:
            mod = importlib.import_module(f"core.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"core.{name}":
                continue  # module not written yet
            raise
        if hasattr(mod, "add_cli"):
            mod.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:  # every user-facing error in core derives from ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
