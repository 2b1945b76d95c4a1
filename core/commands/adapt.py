"""`python -m core adapt MODEL --wav F1.wav --lab F1.lab [--wav F2.wav --text "..."] --out NEW`:
argument parsing, reading the recordings and printing around ``core.voice.adapt``.

Each ``--wav`` is followed by exactly one of ``--lab`` (an HTK/Festival .lab or a Praat .TextGrid)
or ``--text`` (a transcript, aligned by pocketsphinx through ``core.voice.align.align``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from core.audio import load_audio
from core.cli import CliError, positive_float, positive_int, writable_folder
from core.models import META_FILE, load_model, resolve_model_path
from core.phones import read_lab, read_textgrid
from core.voice.adapt import PARTS, AdaptConfig, AdaptError, adapt, save_adapted

MAX_SECONDS = 60.0


class _Wav(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None):
        items = list(getattr(namespace, "recordings", None) or [])
        namespace.recordings = [*items, [value, None]]


class _Label(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None):
        items = getattr(namespace, "recordings", None) or []
        if not items:
            parser.error(f"{option_string} {value!r} must come after the --wav it belongs to")
        if items[-1][1] is not None:
            parser.error(f"--wav {items[-1][0]} has two labels; give one --lab or --text after each --wav")
        items[-1][1] = (option_string, value)


def _labels(wav: str, how: tuple[str, str], audio):
    option, value = how
    if option == "--text":
        from core.voice.align import align

        return list(align(audio, value).phones)
    path = Path(value)
    return read_textgrid(path) if path.suffix.lower() == ".textgrid" else read_lab(path)


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split("+") if p.strip())
    bad = [p for p in parts if p not in PARTS]
    if not parts or bad:
        raise CliError(f"unknown part {bad[0] if bad else text!r}; join some of {', '.join(PARTS)} with '+'")
    return parts


def _cmd_adapt(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    recs = args.recordings or []
    if not recs:
        raise CliError("give at least one --wav with its --lab or --text")
    missing = [w for w, how in recs if how is None]
    if missing:
        raise CliError(f"--wav {missing[0]} needs a --lab or --text after it")
    src = resolve_model_path(args.model)
    out = Path(args.out)
    if out.resolve() == src.resolve():
        raise CliError(f"--out {out} is the model being adapted; write the adapted copy to a new folder")
    if (out / META_FILE).exists():
        raise CliError(f"--out {out} already holds a model; choose a new folder")
    model, info = load_model(src)
    data = []
    for wav, how in recs:
        audio = load_audio(wav, max_seconds=MAX_SECONDS)
        try:
            data.append((audio, _labels(wav, how, audio)))
        except ValueError as exc:
            raise AdaptError(f"{wav}: {exc}") from None
    cfg = AdaptConfig(parts=args.parts, lr=args.lr, max_epochs=args.max_epochs, seed=args.seed, kl=args.kl,
                      folds=args.folds)
    new, new_info, report = adapt(
        model,
        info,
        data,
        cfg,
        names=[w for w, _ in recs],
        progress=lambda e, n: print(f"adapt: epoch {e}/{n}", file=sys.stderr, flush=True),
    )
    saved = save_adapted(new, new_info, out)
    if args.json:
        print(json.dumps({**report.to_dict(), "out": str(saved)}, indent=1))
    else:
        print(report.line())
        if report.verdict() is not None:
            print(report.verdict())
        print(f"saved {saved}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register `adapt`."""
    p = subparsers.add_parser("adapt", help="fine-tune a copy of a speech model on a few labelled recordings")
    p.add_argument("model", help="model folder or name under assets/models (never changed)")
    p.add_argument("--wav", action=_Wav, dest="recordings", metavar="F.wav", help="a recording (repeat)")
    p.add_argument(
        "--lab",
        action=_Label,
        dest="recordings",
        metavar="F.lab",
        help="its labels: .lab (seconds or HTK units) or .TextGrid",
    )
    p.add_argument(
        "--text",
        action=_Label,
        dest="recordings",
        metavar="TEXT",
        help="or its transcript, aligned with pocketsphinx",
    )
    p.add_argument("--out", type=writable_folder, required=True, help="new model folder")
    p.add_argument(
        "--parts",
        type=_parts,
        default=AdaptConfig.parts,
        help="what to update, joined by '+': input (warp search + a linear map of every frame's "
        "channels), lhuc (a scale per hidden unit), output (last layer), biases, first (first layer), all "
        "(default input+lhuc)",
    )
    p.add_argument("--kl", type=float, default=AdaptConfig.kl,
                   help="share of each frame's target that is the model's own posterior (default %(default)s)")
    p.add_argument("--folds", type=int, default=AdaptConfig.folds,
                   help="cross-validation folds of the check (default %(default)s; 0: no check, "
                        "a fixed number of epochs on every recording, even one or two)")
    p.add_argument("--lr", type=positive_float, default=AdaptConfig.lr)
    p.add_argument("--max-epochs", type=positive_int, default=AdaptConfig.max_epochs)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--threads", type=positive_int, default=2, help="torch threads (default 2)")
    p.set_defaults(func=_cmd_adapt, recordings=None)
