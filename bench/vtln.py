"""Choosing an unheard voice's frequency warp without labels (test-time VTLN); one JSON object.

    .venv/bin/python bench/vtln.py --base "data/bench_voices/cmn300k6/lovo_{speaker}_cmn" \
        [--voices kal,ked,...] [--valid-corpus data/corpus_en7_valid] [--per utterance|voice]

For each voice V, the base model that never heard V (``--base``, ``{voice}`` / ``{speaker}``
replaced, e.g. the leave-one-speaker-out models of ``bench/voices.py --save``) classifies V's
utterances in ``--valid-corpus`` after each warp of ``core.adapt.WARPS`` (``warp_matrix``: every
MFBANK channel reads the log energy at alpha times its centre frequency). Without labels, the warp
whose mean top posterior over V's frames is the highest is chosen (per voice, or per utterance with
``--per utterance``). Reported per voice: accuracy at warp 1 (``before``), with the chosen warp
(``chosen``) and with the best warp in hindsight (``oracle``, uses the labels), the warps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.adapt import WARPS, warp_matrix  # noqa: E402
from core.corpus import SPEAKERS, load_corpus  # noqa: E402
from core.models import load_model  # noqa: E402
from core.train import speech_logits, utterance_frames, voice_utterances  # noqa: E402


def softmax_top(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(1, keepdims=True)).max(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--voices", default=",".join(SPEAKERS))
    ap.add_argument("--valid-corpus", default=str(ROOT / "data/corpus_en7_valid"))
    ap.add_argument("--per", choices=("voice", "utterance"), default="voice")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out: dict = {"base": args.base, "per": args.per, "warps": list(WARPS), "voices": {}}
    corpora: dict = {}
    for voice in args.voices.split(","):
        path = Path(args.base.format(voice=voice, speaker=SPEAKERS.get(voice, voice)))
        net, info = load_model(path)
        if info.features not in corpora:
            corpora[info.features] = load_corpus(args.valid_corpus, info.features)
        valid = corpora[info.features]
        utts = voice_utterances(valid, [voice])
        idx = utterance_frames(valid, utts)
        y = valid.labels[idx].astype(np.int64)
        utt_of = valid.frame_utt[idx]
        pred, conf = {}, {}
        for a in WARPS:
            warped = dataclasses.replace(valid, feats=(valid.feats @ warp_matrix(info.features, a).T).astype(np.float32))
            lg = speech_logits(net, info, warped, idx)
            pred[a], conf[a] = lg.argmax(1), softmax_top(lg)
        acc = {a: float((pred[a] == y).mean()) for a in WARPS}
        if args.per == "voice":
            best = max(WARPS, key=lambda a: conf[a].mean())
            chosen = acc[best]
            chosen_warps = {str(best): len(utts)}
        else:
            hits, chosen_warps = 0, {}
            for u in np.unique(utt_of):
                m = utt_of == u
                best = max(WARPS, key=lambda a: conf[a][m].mean())
                hits += int((pred[best][m] == y[m]).sum())
                chosen_warps[str(best)] = chosen_warps.get(str(best), 0) + 1
            chosen = hits / len(y)
        oracle = max(WARPS, key=lambda a: acc[a])
        out["voices"][voice] = {
            "frames": int(len(y)),
            "before": round(acc[1.0], 4),
            "chosen": round(chosen, 4),
            "chosen_warps": chosen_warps,
            "oracle": round(acc[oracle], 4),
            "oracle_warp": oracle,
            "accuracy_by_warp": {str(a): round(v, 4) for a, v in acc.items()},
        }
        print(voice, out["voices"][voice]["before"], out["voices"][voice]["chosen"], chosen_warps,
              out["voices"][voice]["oracle"], oracle, file=sys.stderr, flush=True)
    rows = out["voices"].values()
    out["mean"] = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in ("before", "chosen", "oracle")}
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
