"""How well a corpus's labels sit on its audio, judged by an independent aligner: pocketsphinx's
English acoustic model (trained on real speech) aligns each utterance to its text, and every
label boundary that both agree on (same phones either side, ``core.align.boundary_errors``) gives
an error in ms. Used to check eSpeak NG's phoneme-event timings against the voices whose labels
are the synthesiser's own segment times; one JSON object.

    .venv/bin/python bench/labels.py --json --corpus data/corpus_en7_valid --per-voice 20
    .venv/bin/python bench/labels.py --json --corpus data/corpus_espeak_valid --per-voice 20

Output: per voice and for all voices pooled, utterances pocketsphinx aligned, boundaries matched, median and 90th percentile error (ms), fraction
within 20 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from core.data import read_manifest  # noqa: E402
from core.phones import read_lab  # noqa: E402
from core.voice.align import align_pocketsphinx, boundary_errors  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--per-voice", type=int, default=20, help="utterances per voice (the first ones)")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    by_voice: dict[str, list[dict]] = {}
    for row in read_manifest(corpus):
        by_voice.setdefault(row["voice"], []).append(row)
    out = {"corpus": str(args.corpus), "per_voice": args.per_voice, "voices": {}}
    pooled = []
    for voice, rows in by_voice.items():
        errs, aligned = [], 0
        for row in rows[: args.per_voice]:
            x, _ = sf.read(str(corpus / f"{row['id']}.wav"), dtype="float32")
            try:
                al = align_pocketsphinx(x, row["text"])
            except Exception:  # noqa: BLE001 - an utterance pocketsphinx cannot align is counted out
                continue
            aligned += 1
            errs.append(boundary_errors(read_lab(corpus / f"{row['id']}.lab"), al.phones))
        e = np.concatenate(errs) * 1000 if errs else np.zeros(0)
        pooled.append(e)
        out["voices"][voice] = _summary(aligned, e)
    out["all"] = _summary(sum(v["utterances_aligned"] for v in out["voices"].values()), np.concatenate(pooled))
    print(json.dumps(out, indent=None if args.json else 1))
    return 0


def _summary(aligned: int, e: np.ndarray) -> dict:
    return {
        "utterances_aligned": aligned,
        "boundaries": int(e.size),
        "median_ms": round(float(np.median(e)), 1) if e.size else None,
        "p90_ms": round(float(np.percentile(e, 90)), 1) if e.size else None,
        "within_20ms": round(float(np.mean(e < 20)), 3) if e.size else None,
    }


if __name__ == "__main__":
    sys.exit(main())
