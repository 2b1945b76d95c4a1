"""Choosing an unheard voice's frequency warp without labels (test-time VTLN); one JSON object.

    .venv/bin/python bench/vtln.py --base "data/bench_voices/cmn300k6/lovo_{speaker}_cmn" \
        [--voices kal,ked,...] [--valid-corpus data/corpus_en7_valid]

For each voice V, the base model that never heard V (``--base``, ``{voice}`` / ``{speaker}``
replaced, e.g. the leave-one-speaker-out models of ``bench/voices.py --save``) classifies V's
utterances in ``--valid-corpus``, read from their WAV files as a user's recording is, under each
warp of ``core.vtln.WARPS`` (``core.align.phone_posteriors(..., warp=)``: the features' filterbank
reads every channel at alpha times its frequency). Without labels, ``core.vtln.pick`` keeps the
warp with the highest mean top posterior: over all of V's frames (``per_voice``, what a user with
several recordings could get) and over each utterance alone (``per_utterance``, what the Your
voice page does with one recording). Reported per voice: frame accuracy at warp 1 (``before``),
with the warp chosen per voice and per utterance, with the best warp in hindsight (``oracle``, uses
the labels), the warps chosen, and with each utterance's posteriors averaged over the warps
(``averaged``: what the Your voice page shows, ``core.vtln.vtln_posteriors``, sharpness
``core.vtln.WEIGHT_SHARPNESS``). ``--sharpness 0,5,...`` adds ``averaged_by_sharpness`` (the
study that chose the sharpness, on voices no table tests:

    .venv/bin/python bench/vtln.py --base assets/models/speech_en_mfbank \
        --voices espeak_m1,espeak_m3,... --valid-corpus data/corpus_espeak_valid --sharpness 0,5,10,20,40,80

``--base`` without ``{voice}`` is one model for every voice). The same code as the page and as
``python -m core evaluate MODEL --corpus DIR --vtln``: ``core.vtln`` (``voice_warps``) and ``core.align``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data import DEFAULT_VOICES, SPEAKERS  # noqa: E402
from core.models import load_model  # noqa: E402
from core.voice.vtln import WARPS, WEIGHT_SHARPNESS, voice_warps  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--voices", default=",".join(DEFAULT_VOICES))
    ap.add_argument("--valid-corpus", default=str(ROOT / "data/corpus_en7_valid"))
    ap.add_argument("--sharpness", default="", help="comma-separated sharpness values to compare")
    args = ap.parse_args()
    grid = tuple(float(b) for b in args.sharpness.split(",") if b.strip())
    sharp = tuple(dict.fromkeys((WEIGHT_SHARPNESS, *grid)))
    torch.set_num_threads(1)
    t_start, c_start = time.perf_counter(), time.process_time()
    out: dict = {"base": args.base, "valid_corpus": args.valid_corpus, "warps": list(WARPS), "voices": {}}
    for voice in args.voices.split(","):
        net, info = load_model(Path(args.base.format(voice=voice, speaker=SPEAKERS.get(voice, voice))))
        vw = voice_warps(net, info, args.valid_corpus, voice, sharpness=sharp)
        per_utt, per_utt_warps = vw.per_utterance()
        out["voices"][voice] = {
            "frames": int(len(vw.hits)),
            "before": round(vw.accuracy(1.0), 4),
            "per_voice": round(vw.accuracy(vw.chosen), 4),
            "per_voice_warp": vw.chosen,
            "per_utterance": round(per_utt, 4),
            "per_utterance_warps": {str(a): n for a, n in per_utt_warps.items()},
            "oracle": round(vw.accuracy(vw.best), 4),
            "oracle_warp": vw.best,
            "averaged": round(vw.averaged(), 4),
            **({"averaged_by_sharpness": {str(b): round(vw.averaged(b), 4) for b in grid}} if grid else {}),
            "accuracy_by_warp": {str(a): round(vw.accuracy(a), 4) for a in WARPS},
            "mean_top_posterior_by_warp": {str(a): round(float(v), 4) for a, v in zip(WARPS, vw.tops.mean(0), strict=True)},
        }
        r = out["voices"][voice]
        print(voice, r["before"], r["per_voice"], vw.chosen, r["per_utterance"], r["averaged"], r["oracle"], vw.best,
              file=sys.stderr, flush=True)
    rows = out["voices"].values()
    out["mean"] = {k: round(float(np.mean([r[k] for r in rows])), 4)
                   for k in ("before", "per_voice", "per_utterance", "averaged", "oracle")}
    if grid:
        out["mean"]["averaged_by_sharpness"] = {str(b): round(float(np.mean([r["averaged_by_sharpness"][str(b)] for r in rows])), 4)
                                                for b in grid}
    out["min"] = {k: round(float(np.min([r[k] for r in rows])), 4)
                  for k in ("before", "per_voice", "per_utterance", "averaged", "oracle")}
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    out["cpu_seconds"] = round(time.process_time() - c_start, 1)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
