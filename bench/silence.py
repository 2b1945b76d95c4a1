"""Does digital silence at a recording's ends move what the Your voice page shows?

    .venv/bin/python bench/silence.py [--real data/real_en] [--models speech_en_mfbank,...] [--pads 10,40,100]
        [--limit N]

For every recording of the real-speech set (``python -m core real-voices build``) and every model,
the page's two figures are computed as the page computes them: pocketsphinx aligns the recording to
its words (``core.align.align``), the network's posteriors (plain, and averaged over the VTLN warps:
``core.vtln.vtln_posteriors``) are compared with that alignment (``core.align.agreement``: the share
of frames whose top phone is the aligned one), and the warp VTLN chooses. Then the same with
``--pads`` milliseconds of exact zeros appended, and prepended. The page first cuts off digital
silence at the ends (``core.audio.trim_digital_silence``); ``--no-trim`` measures without that. Prints JSON per model and pad: the
mean and largest change of agreement (points, plain and VTLN), and how many recordings got another
warp. Target (issue 24): within 2 points and the same warp for 0-100 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRIM = True


def figures(net, info, x: np.ndarray, text: str) -> tuple[float, float, float]:
    from core.audio import trim_digital_silence
    from core.voice.align import agreement, align, phone_posteriors
    from core.voice.vtln import vtln_posteriors

    if TRIM:
        x = trim_digital_silence(x)  # what the page does first
    phones = align(x, text, "pocketsphinx").phones
    choice, averaged = vtln_posteriors(net, info, x)
    return (agreement(phone_posteriors(net, info, x), phones, info.phones)[0],
            agreement(averaged, phones, info.phones)[0], choice.warp)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", default=str(ROOT / "data/real_en"))
    ap.add_argument("--models", default="speech_en_mfbank")
    ap.add_argument("--pads", default="10,40,100", help="milliseconds of zeros")
    ap.add_argument("--limit", type=int, help="only the first N recordings")
    ap.add_argument("--no-trim", action="store_true",
                    help="keep digital silence (the page cuts it off first: core.audio.trim_digital_silence)")
    args = ap.parse_args()
    global TRIM
    TRIM = not args.no_trim

    from core.audio import load_audio
    from core.data import read_manifest
    from core.models import load_model

    rows = read_manifest(args.real)[: args.limit]
    pads = [int(p) for p in args.pads.split(",")]
    out = {"recordings": len(rows), "models": {}}
    for name in args.models.split(","):
        net, info = load_model(name)
        base, moved = [], {(p, w): [] for p in pads for w in ("end", "start")}
        for r in rows:
            x = load_audio(Path(args.real) / f"{r['id']}.wav", max_seconds=1e9)
            base.append(figures(net, info, x, r["text"]))
            for p in pads:
                z = np.zeros(16 * p, dtype=np.float32)
                moved[(p, "end")].append(figures(net, info, np.concatenate([x, z]), r["text"]))
                moved[(p, "start")].append(figures(net, info, np.concatenate([z, x]), r["text"]))
        b = np.array(base)
        res = {"utt_norm": info.features.utt_norm, "agreement": round(float(b[:, 0].mean()), 4),
               "agreement_vtln": round(float(b[:, 1].mean()), 4)}
        for (p, where), figs in moved.items():
            m = np.array(figs)
            d0, d1 = 100 * np.abs(m[:, 0] - b[:, 0]), 100 * np.abs(m[:, 1] - b[:, 1])
            res[f"{p}ms_{where}"] = {"mean_points": round(float(d0.mean()), 2), "max_points": round(float(d0.max()), 1),
                                     "mean_points_vtln": round(float(d1.mean()), 2),
                                     "max_points_vtln": round(float(d1.max()), 1),
                                     "warp_changed": int((m[:, 2] != b[:, 2]).sum())}
        out["models"][name] = res
        print(name, json.dumps(res), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
