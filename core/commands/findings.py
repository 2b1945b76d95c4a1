"""`python -m core findings [--json] [--write | --check] [--cards ...]`: the seed paper's claims, our figures
and the verdicts (``core.findings``), as a table or JSON.

Without ``--write`` the cheap cards (pairs, Fig 4) are computed now on the models and the cards
computed ahead (the deletion curves) are read from the shipped file, each marked with its date and
"models changed" when a model's checksum differs from the one the file records. ``--write``
computes the chosen cards (default: all) now and writes them into the shipped file with the
command, the date, the models' checksums and the fingerprints of their validation sets and of the
card's code (re-run it after the models are retrained or that code changes). ``--check`` computes
the cards now and says which differ from the shipped file (``core.findings.differences``) or were
computed by other code or on other models; exit 1 if any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.cli import new_file


def card_list(text: str) -> tuple[str, ...]:
    """``s_sh,fig8`` -> known card keys (argparse type)."""
    import argparse

    from core.findings import CLAIMS

    names = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    bad = [n for n in names if n not in CLAIMS]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"unknown card {bad[0]!r}; use a comma-separated list of {', '.join(CLAIMS)}"
            if bad
            else "give a card"
        )
    return names


def _cmd_findings(args) -> int:
    import torch

    from core import findings as F

    torch.set_num_threads(args.threads)
    root = Path(args.models) if args.models else None
    keys = list(args.cards or F.CLAIMS)

    def say(key: str) -> None:
        print(f"computing {key} ...", file=sys.stderr, flush=True)

    if args.check:
        shipped = F.read_shipped(args.out)
        if shipped is None:
            print(f"no findings file at {args.out or F.SHIPPED_PATH}: run `{F.COMMAND}`", file=sys.stderr)
            return 1
        found = F.compute(keys, root, progress=say)
        diff = F.differences(shipped, found)
        diff += [f"{k}: its code changed since the file was written (re-run `{F.COMMAND}`)"
                 for k in keys if F.code_changed(shipped, k)]
        diff += [f"{k}: the weights or validation set of {', '.join(m)} changed since the file was written"
                 for k in keys if (m := F.stale_models(shipped, k, root))]
        for line in diff:
            print(line)
        print(f"{len(keys) - len({d.split(':')[0] for d in diff})} of {len(keys)} cards as shipped", file=sys.stderr)
        return 1 if diff else 0
    if args.write:
        found = F.compute(keys, root, progress=say)
        path = F.write_shipped(found, root, args.out)
        print(f"wrote {path}", file=sys.stderr)
        source = {k: "computed now" for k in found}
    else:
        live = [k for k in keys if not F.CLAIMS[k].ahead]
        found = F.compute(live, root, progress=say)
        source = {k: "computed now" for k in found}
        shipped = F.read_shipped(args.out)
        for k in keys:
            if k in found:
                continue
            if shipped is None or k not in shipped.findings:
                source[k] = f"not computed: run `{F.COMMAND}`"
                continue
            found[k] = shipped.findings[k]
            stale = F.stale_models(shipped, k, root)
            source[k] = f"shipped {shipped.written[k].date}" + (f"; models changed: {', '.join(stale)}" if stale else "")
    rows = []
    for k in keys:
        c = F.CLAIMS[k]
        f = found.get(k)
        rows.append(
            {
                "key": k,
                "title": c.title,
                "claim": c.claim,
                "figure": f.figure if f else None,
                "verdict": f.verdict if f else None,
                "rule": c.rule,
                "source": source[k],
                "values": F._jsonable(f.values) if f else None,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        print(f"{r['title']}: {r['verdict'] or '-'}  [{r['source']}]")
        print(f"  claim:  {r['claim']}")
        print(f"  ours:   {r['figure'] or '-'}")
        print(f"  rule:   {r['rule']}")
        noise = F.interval_text(r["values"] or {})
        if noise:
            print(f"  noise:  {noise}")
    return 0


def add_cli(subparsers) -> None:
    """Register ``findings``."""
    p = subparsers.add_parser("findings", help="the seed paper's claims, our figures and the verdicts")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument(
        "--write",
        action="store_true",
        help="compute the cards now and write them into the shipped file (assets/findings/findings.json)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="compute the cards now and compare them with the shipped file: one line per card whose result, "
        "code, weights or validation set differ; exit 1 if any (make check-findings)",
    )
    p.add_argument(
        "--cards", type=card_list, help="comma-separated card keys (default all; an unknown key lists them)"
    )
    p.add_argument("--models", help="models folder (default assets/models)")
    p.add_argument(
        "--out",
        type=new_file,
        help="the findings file to read or write (default assets/findings/findings.json)",
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.set_defaults(func=_cmd_findings)
