"""`python -m core SUBCOMMAND ...`: the command line of dnnlens.

The subcommands live in ``core/commands/`` (one module per group); each defines
``add_cli(subparsers)``, registering its subcommands with ``set_defaults(func=handler)``; a handler
takes the parsed arguments and returns an exit code. Numbers and
output paths are checked by argparse ``type=`` validators defined here (``at_least(n)``,
``positive_int``, ``positive_float``, ``writable_file``, ``writable_folder``, ``new_file``,
``npy_file``), so a bad value fails before any work.

Every bad input prints exactly one line on stderr, starting with ``error: ``, and gives exit code
2; never a traceback, never a usage block:

- argument errors (unknown choice, missing option, bad number) are reported by ``CliParser``, the
  parser class of the command and of every subcommand, which names the command's ``--help``;
- any ``ValueError`` (the base of every user-facing error type in core, ``CliError`` included) is
  printed as its message;
- any ``OSError`` (a folder that does not exist, a file that cannot be written) is printed with
  the path and the reason.

``--help`` prints the full help and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

# Modules that register subcommands, in the order they appear in --help.
CLI_MODULES = ("core.commands.features", "core.commands.corpus", "core.commands.train", "core.commands.importance",
               "core.commands.pruning", "core.commands.align", "core.commands.corpus_import", "core.commands.adapt",
               "core.commands.real", "core.commands.shards",
               "core.commands.methods", "core.commands.findings")


class CliError(argparse.ArgumentTypeError, ValueError):
    """A command-line argument a user can get wrong (a value out of range, an unusable path).

    An ``argparse.ArgumentTypeError``, so a ``type=`` validator that raises it becomes argparse's
    one-line ``error: argument --x: ...``; a ``ValueError`` like every user-facing error in core.
    """


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line naming the command's --help (exit code 2).

    ``add_subparsers`` hands its class down, so every subcommand (and ``train speech``) uses it.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {_one_line(message)} ({self.prog} --help shows the options)\n")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        # The innermost subcommand runs first: remember its name for errors found by the top parser.
        if not hasattr(namespace, "cli_prog"):
            namespace.cli_prog = self.prog
        return namespace, extras

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            prog = getattr(namespace, "cli_prog", self.prog)
            self.exit(2, f"error: unrecognized arguments: {_one_line(' '.join(extras))} "
                         f"({prog} --help shows the options)\n")
        return namespace


# --- argparse ``type=`` validators: a bad value is one line naming the option, before any work ---


def at_least(low: int) -> Callable[[str], int]:
    """``type=at_least(low)``: an int >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CliError(f"invalid int value: {text!r}") from None
        if value < low:
            raise CliError(f"must be at least {low}, not {value}")
        return value

    parse.__name__ = f"at_least_{low}"
    return parse


positive_int = at_least(1)
"""``type=positive_int``: an int >= 1."""


def positive_float(text: str) -> float:
    """``type=positive_float``: a float > 0 (not NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"invalid float value: {text!r}") from None
    if not value > 0:  # also refuses NaN
        raise CliError(f"must be positive, not {value:g}")
    return value


def probability_below_one(text: str) -> float:
    """``type=probability_below_one``: a float in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"invalid float value: {text!r}") from None
    if not 0.0 <= value < 1.0:  # also refuses NaN
        raise CliError(f"must be at least 0 and below 1, not {value:g}")
    return value


def _writable(out: Path, folder: bool, make_parents: bool) -> Path:
    if out.exists() and out.is_dir() != folder:
        raise CliError(f"cannot write {out}: it is {'a file' if folder else 'a folder'}.")
    base = out.parent
    while make_parents and not base.exists() and base != base.parent:
        base = base.parent  # the nearest folder that exists; the rest will be created
    if not base.exists():
        raise CliError(f"cannot write {out}: the folder {base} does not exist.")
    if not base.is_dir():
        raise CliError(f"cannot write {out}: {base} is not a folder.")
    if not os.access(base, os.W_OK | os.X_OK):
        raise CliError(f"cannot write {out}: the folder {base} is not writable.")
    return out


def writable_file(path: str | os.PathLike, make_parents: bool = False) -> Path:
    """``path`` as a Path if a file can be written there, else CliError with the reason.

    Its folder must exist (or, with ``make_parents``, the nearest existing ancestor) and be
    writable. Checked before long work starts, so a typo in an output path costs nothing.
    """
    return _writable(Path(path), folder=False, make_parents=make_parents)


def writable_folder(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it is, or can be created as, a writable folder (see writable_file)."""
    return _writable(Path(path), folder=True, make_parents=True)


def new_file(path: str | os.PathLike) -> Path:
    """``type=new_file``: ``writable_file`` whose missing folders will be created."""
    return writable_file(path, make_parents=True)


def npy_file(path: str | os.PathLike) -> Path:
    """``type=npy_file``: ``writable_file`` of the name ``np.save`` will use (.npy added if missing)."""
    return writable_file(path if str(path).endswith(".npy") else f"{path}.npy")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m core", description="dnnlens: what a deep neural network looks at.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in CLI_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # module not written yet
            raise
        if hasattr(mod, "add_cli"):
            mod.add_cli(sub)
    return parser


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or _one_line(exc)
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    if not paths:
        return f"error: {reason}"
    return f"error: cannot use {' -> '.join(paths)}: {reason}"


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 2 bad input, 130 interrupted, 141 the reader of
    its output stopped early)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argument error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:  # every user-facing error in core derives from ValueError
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (`... | head`): not an error of the command
        try:  # and no second complaint when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as exc:
        print(_os_message(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
