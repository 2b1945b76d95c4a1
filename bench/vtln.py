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
the labels), the warps chosen. The same code as the page: ``core.vtln`` and ``core.align``.
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

from core.align import phone_posteriors  # noqa: E402
from core.audio import load_audio  # noqa: E402
from core.corpus import SPEAKERS, load_corpus  # noqa: E402
from core.models import load_model  # noqa: E402
from core.train import voice_utterances  # noqa: E402
from core.vtln import WARPS, pick  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--voices", default=",".join(SPEAKERS))
    ap.add_argument("--valid-corpus", default=str(ROOT / "data/corpus_en7_valid"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t_start, c_start = time.perf_counter(), time.process_time()
    out: dict = {"base": args.base, "valid_corpus": args.valid_corpus, "warps": list(WARPS), "voices": {}}
    corpora: dict = {}
    for voice in args.voices.split(","):
        net, info = load_model(Path(args.base.format(voice=voice, speaker=SPEAKERS.get(voice, voice))))
        if info.features not in corpora:
            corpora[info.features] = load_corpus(args.valid_corpus, info.features)
        valid = corpora[info.features]
        ends = np.append(np.asarray(valid.utt_starts)[1:], len(valid.labels))
        hits = np.zeros((0, len(WARPS)), bool)  # per frame: right under each warp
        tops = np.zeros((0, len(WARPS)))
        per_utt_hits, per_utt_warps = 0, {}
        for u in voice_utterances(valid, [voice]):
            y = valid.labels[valid.utt_starts[u] : ends[u]].astype(np.int64)
            x = load_audio(Path(args.valid_corpus) / f"{valid.utt_ids[u]}.wav")
            post = np.stack([phone_posteriors(net, info, x, warp=a) for a in WARPS], 1)  # (T, W, P)
            if len(post) != len(y):
                raise SystemExit(f"{valid.utt_ids[u]}: {len(post)} frames from the audio, {len(y)} labels")
            h, t = post.argmax(2) == y[:, None], post.max(2)
            hits, tops = np.concatenate([hits, h]), np.concatenate([tops, t])
            a = pick(WARPS, t.mean(0))
            per_utt_hits += int(h[:, WARPS.index(a)].sum())
            per_utt_warps[str(a)] = per_utt_warps.get(str(a), 0) + 1
        acc = hits.mean(0)
        chosen = pick(WARPS, tops.mean(0))
        best = int(np.argmax(acc))
        out["voices"][voice] = {
            "frames": int(len(hits)),
            "before": round(float(acc[WARPS.index(1.0)]), 4),
            "per_voice": round(float(acc[WARPS.index(chosen)]), 4),
            "per_voice_warp": chosen,
            "per_utterance": round(per_utt_hits / len(hits), 4),
            "per_utterance_warps": per_utt_warps,
            "oracle": round(float(acc[best]), 4),
            "oracle_warp": WARPS[best],
            "accuracy_by_warp": {str(a): round(float(v), 4) for a, v in zip(WARPS, acc, strict=True)},
            "mean_top_posterior_by_warp": {str(a): round(float(v), 4) for a, v in zip(WARPS, tops.mean(0), strict=True)},
        }
        r = out["voices"][voice]
        print(voice, r["before"], r["per_voice"], chosen, r["per_utterance"], r["oracle"], r["oracle_warp"],
              file=sys.stderr, flush=True)
    rows = out["voices"].values()
    out["mean"] = {k: round(float(np.mean([r[k] for r in rows])), 4)
                   for k in ("before", "per_voice", "per_utterance", "oracle")}
    out["min"] = {k: round(float(np.min([r[k] for r in rows])), 4)
                  for k in ("before", "per_voice", "per_utterance", "oracle")}
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    out["cpu_seconds"] = round(time.process_time() - c_start, 1)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
