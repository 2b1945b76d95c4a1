"""Accuracy and speed of the forced aligners (core.align) on held-out synthesised speech; one JSON object.

    .venv/bin/python bench/align.py --json [--model NAME] [--keep DIR]

Held-out utterances: Harvard sentences (not in the training corpus, whose sentences are built from
frequent words by core.sentences), spoken by each Festival voice (kal, ked, slt) through
``core.corpus.synthesize_texts``, which writes the exact phone labels Festival used. The reference
boundaries are those labels; errors are ``core.align.boundary_errors`` (boundaries between matched
phones; ``scored`` counts them, ``boundaries`` counts all).

Figures per aligner: ``median_error_ms``, ``within_30ms`` (share of scored boundaries),
``seconds_per_10s_audio`` (alignment time per 10 s of audio, back to back, after one
alignment has loaded CMUdict and pocketsphinx's acoustic model: each pocketsphinx alignment
builds its own decoder, 10-30 ms, inside the timed call; the network aligner's time includes
computing the posteriors). The top-level keys repeat the default aligner's figures. ``posteriors_s_per_10s``:
features + spliced network posteriors per 10 s of audio (what the page needs before drawing);
``vtln_s_per_10s``: VTLN as the Your voice page does it (``core.vtln.vtln_posteriors``: features and
posteriors of every frame under 10 warps, the choice and the weighted average;
``vtln_one_warp_s_per_10s``: the page before the average, the choice on every third frame then the
posteriors under the chosen warp), ``vtln_warps`` the warps
chosen (the voices are training voices: near 1); ``load_avg_1min``: how busy the 2-core machine was (figures vary with it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import SAMPLE_RATE, load_audio  # noqa: E402
from core.data import synthesize_texts  # noqa: E402
from core.models import load_model  # noqa: E402
from core.phones import read_lab  # noqa: E402
from core.voice import align as A  # noqa: E402
from core.voice.vtln import choose_warp, vtln_posteriors  # noqa: E402

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
)
VOICES = ("kal", "ked", "slt")


def run(model: str, keep: Path | None) -> dict:
    net, info = load_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        items = [(f"{v}_{i:02d}", v, s) for v in VOICES for i, s in enumerate(SENTENCES)]
        wavs = synthesize_texts(folder, items)
        data = []
        for (_, _, text), wav in zip(items, wavs, strict=True):
            x = load_audio(wav)
            data.append((x, text, read_lab(wav.with_suffix(".lab"))))
    audio_s = sum(len(x) for x, _, _ in data) / SAMPLE_RATE
    A.align_pocketsphinx(data[0][0], data[0][1])  # loads CMUdict and the acoustic model's files
    t0 = time.perf_counter()
    for x, _, _ in data:
        A.phone_posteriors(net, info, x)
    post_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warps = []
    for x, _, _ in data:
        warps.append(vtln_posteriors(net, info, x)[0].warp)
    vtln_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for x, _, _ in data:  # the page before the average: the choice, then the posteriors at that warp
        A.phone_posteriors(net, info, x, warp=choose_warp(net, info, [x]).warp)
    one_warp_s = time.perf_counter() - t0
    out: dict = {"model": model, "utterances": len(data), "audio_s": round(audio_s, 2),
                 "posteriors_s_per_10s": round(post_s / audio_s * 10, 4),
                 "vtln_s_per_10s": round(vtln_s / audio_s * 10, 4),
                 "vtln_one_warp_s_per_10s": round(one_warp_s / audio_s * 10, 4),
                 "vtln_warps": {str(a): warps.count(a) for a in sorted(set(warps))}, "aligners": {}}
    for name in A.ALIGNERS:
        errs, n_bound, spent = [], 0, 0.0
        for x, text, ref in data:
            t0 = time.perf_counter()
            if name == "network":
                ali = A.align(x, text, name, posteriors=A.phone_posteriors(net, info, x), info=info)
            else:
                ali = A.align(x, text, name)
            spent += time.perf_counter() - t0
            errs.append(A.boundary_errors(ref, ali.phones))
            n_bound += len(ref) - 1
        e = np.concatenate(errs)
        out["aligners"][name] = {
            "median_error_ms": round(float(np.median(e)) * 1000, 2),
            "within_30ms": round(float(np.mean(e <= 0.030)), 4),
            "mean_error_ms": round(float(np.mean(e)) * 1000, 2),
            "scored": int(len(e)),
            "boundaries": int(n_bound),
            "seconds_per_10s_audio": round(spent / audio_s * 10, 4),
        }
    out.update({k: out["aligners"][A.DEFAULT_ALIGNER][k]
                for k in ("median_error_ms", "within_30ms", "seconds_per_10s_audio")})
    out["default_aligner"] = A.DEFAULT_ALIGNER
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object (the default)")
    ap.add_argument("--model", default="speech_en_mfbank")
    ap.add_argument("--keep", type=Path, help="keep the synthesised WAV/.lab files in this folder")
    args = ap.parse_args()
    print(json.dumps(run(args.model, args.keep), indent=1))


if __name__ == "__main__":
    main()
