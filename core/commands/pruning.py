"""`python -m core prune MODEL --units input|hidden|filters ...`: argparse glue only.

Arguments are checked by argparse ``type=`` validators (one line, exit 2) and the output path
before any work; the maths is ``core.pruning.pruning_curve``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli import at_least
from core.pruning.common import ORDERS, UNITS, PruneError


def order_list(text: str) -> tuple[str, ...]:
    """``imp_asc,imp_desc,random`` -> a tuple of known orders (argparse type)."""
    names = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    bad = [n for n in names if n not in ORDERS]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"unknown order {bad[0]!r}; use a comma-separated list of {', '.join(ORDERS)}" if bad
            else "give at least one order")
    return names


def png_path(text: str):
    """A .png path whose folder exists and is writable (argparse type)."""
    from core.cli import CliError, writable_file

    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a .png file name")
    try:
        return writable_file(text)
    except CliError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def save_png(curve, path) -> None:
    """The curve as a PNG: the same Altair chart the pages draw (core.viz.units.curve_chart),
    rendered by vl-convert (no browser)."""
    import vl_convert

    from core.viz.units import curve_chart

    where = {"input": "input units", "hidden": "hidden units" + (f" of layer {curve.layer}" if curve.layer else
             " (all layers, same fraction)"), "filters": f"conv{curve.layer} filters"}[curve.units]
    title = curve.model + (("; FC retrained" if curve.retrained else "; no retraining") if curve.units == "filters"
                           else "")
    chart = curve_chart(curve.table(), curve.full_accuracy, title=title,
                        x_title=f"{where} deleted (of {curve.n_units})")
    Path(path).write_bytes(vl_convert.vegalite_to_png(chart.to_json(), scale=2))


def _progress(frac: float) -> None:
    print(f"\r{100 * frac:5.1f} %", end="", file=sys.stderr, flush=True)


def _cmd_prune(args: argparse.Namespace) -> int:
    import torch

    from core.models import load_model
    from core.pruning.curves import pruning_curve

    torch.set_num_threads(args.threads)
    model, info = load_model(args.model)
    if info.kind == "digits" and args.units != "filters":
        raise PruneError(f"The digits model {info.name} has conv filters to delete; use --units filters.")
    curve = pruning_curve(model, info, args.units, layer=args.layer, orders=args.orders, points=args.points,
                          retrain=not args.no_retrain, progress=None if args.json else _progress)
    if not args.json:
        print("", file=sys.stderr)
    if args.png is not None:
        save_png(curve, args.png)
    if args.json:
        print(json.dumps(curve.to_dict()))
        return 0
    orders = list(curve.curves)
    what = {"input": "input units", "hidden": f"hidden units of layer {curve.layer}" if curve.layer else
            "hidden units (all layers, same fraction each)",
            "filters": f"conv{curve.layer} filters, " + ("FC layers retrained after each deletion" if curve.retrained
                                                          else "no retraining")}[curve.units]
    print(f"{curve.model}: {what}, {curve.n_units} in all; accuracy on {curve.n_frames} held-out "
          f"examples (full model {curve.full_accuracy:.4f})")
    print(f"{'k':>6} {'frac':>6} " + " ".join(f"{o:>9}" for o in orders))
    for i, k in enumerate(curve.k):
        print(f"{k:>6} {curve.fraction[i]:>6.3f} " + " ".join(f"{curve.curves[o][i]:>9.4f}" for o in orders))
    return 0


def add_cli(subparsers) -> None:
    """Register ``prune``: accuracy against deleted units, for several deletion orders."""
    p = subparsers.add_parser("prune", help="accuracy as input units, hidden units or conv filters are deleted")
    p.add_argument("model", help="model folder or name under assets/models")
    p.add_argument("--units", required=True, choices=UNITS, help="what to delete (filters: the digit CNN)")
    p.add_argument("--layer", type=at_least(0),
                   help="hidden layer 1..n (default: all hidden layers, same fraction each); conv layer 1 or 2 "
                        "for filters (default 2)")
    p.add_argument("--orders", type=order_list, default=("imp_asc", "imp_desc", "random", "l1"),
                   help=f"comma-separated deletion orders of {', '.join(ORDERS)} (default imp_asc,imp_desc,random,l1;"
                        " variance: input units only)")
    p.add_argument("--points", type=at_least(2), default=30,
                   help="points of the curve, k spread evenly from 0 to all (default 30; more than units+1 = every k)")
    p.add_argument("--no-retrain", action="store_true", help="filters: no FC-only retraining after each deletion")
    p.add_argument("--json", action="store_true", help="print the curve as JSON")
    p.add_argument("--png", type=png_path, metavar="FILE", help="save the figure as a PNG")
    p.add_argument("--threads", type=at_least(1), default=2, help="torch threads (default 2)")
    p.set_defaults(func=_cmd_prune)
