"""What a small VTLN gain says about a real voice: the Your voice page's sentence, checked on real speakers; one JSON object.

    .venv/bin/python bench/vtln_clear_gain.py [--base "data/bench_real_full/without_{voice}"] \
        [--corpus data/real_en] [--voices ktuberling_en,klettres_en,...]

``core.voice.vtln.CLEAR_GAIN`` (0.01) was chosen on synthetic voices' gains (the chosen warp's mean
top posterior over warp 1's). Until commit 14e8a0c the Your voice page said, under it, "so this
estimate of your vocal tract is uncertain". This looks at what the gain tells on voices that did
not choose it: the real-speech set's sources (``python -m core real-voices build``; pocketsphinx's
labels; a source is one package folder, a speaker or a speaker group), each classified by a model
that never heard that source (``--base``, ``{voice}`` replaced: the leave-one-source-out models of
``bench/real.py --save``), through the page's code (``core.voice.vtln.voice_warps``: every
recording under every warp of ``WARPS``).

For each recording whose own label-free choice is not warp 1 (the page says nothing at warp 1):

- **gain**: what the page compares with ``CLEAR_GAIN``;
- **agrees**: whether its warp equals its *source's* warp, chosen without labels from the source's
  other recordings (``pick`` over their frames: what a user with more recordings would get);
- **steps**: how many steps of ``WARPS`` the two lie apart (and its own warp from warp 1);
- **accuracy change**: the share of its speech frames (pocketsphinx's labels, not silence) whose top
  phone is the label, under its warp alone and with the page's average over the warps, minus under
  warp 1.

Reported for the recordings under and at or over ``CLEAR_GAIN``, over all and per source: counts,
the share that agrees with the source's warp, the mean steps apart, the mean accuracy changes and
the shares of recordings whose accuracy rose / fell; and the differences under minus over with 95 %
bootstrap intervals that resample recordings within each group (they treat the recordings as
independent; the groups mix the sources differently, hence the per-source figures). Nothing here
chose ``CLEAR_GAIN``; the page's present sentence was written from these figures. docs/MODELS.md
("Is a small gain an uncertain warp?") has the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.models import load_model  # noqa: E402
from core.voice.vtln import CLEAR_GAIN, WARPS, pick, voice_warps  # noqa: E402

SOURCES = "ktuberling_en,klettres_en,klettres_en_gb,klettres_en_letters,alsa"


def recordings(vw, silence: int) -> list[dict]:
    """One row per recording of a ``VoiceWarps`` (module docstring)."""
    warps = list(vw.warps)
    read = vw.choice_frames()
    speech = vw.labels != silence
    rows = []
    for u in np.unique(vw.frame_utt):
        m = vw.frame_utt == u
        conf = vw.tops[m & read].mean(0)
        own = pick(warps, conf)
        others = ~m & read
        speaker = pick(warps, vw.tops[others].mean(0)) if others.any() else float("nan")
        s = m & speech
        acc = vw.hits[s].mean(0) if s.any() else np.full(len(warps), np.nan)
        rows.append({"gain": float(conf[warps.index(own)] - conf[warps.index(1.0)]), "warp": own,
                     "steps_from_1": abs(warps.index(own) - warps.index(1.0)),
                     "speaker_warp": speaker, "steps": abs(warps.index(own) - warps.index(speaker))
                     if speaker == speaker else None,
                     "accuracy_change": float(acc[warps.index(own)] - acc[warps.index(1.0)]),
                     "averaged_change": float(vw.avg_hits[s, 0].mean() - acc[warps.index(1.0)]) if s.any() else np.nan,
                     "speech_frames": int(s.sum())})
    return rows


def summary(rows: list[dict]) -> dict:
    if not rows:
        return {"recordings": 0}
    agree = [r["steps"] == 0 for r in rows if r["steps"] is not None]
    steps = [r["steps"] for r in rows if r["steps"] is not None]
    change = np.array([r["accuracy_change"] for r in rows if r["speech_frames"]])
    averaged = np.array([r["averaged_change"] for r in rows if r["speech_frames"]])
    return {"recordings": len(rows), "agrees_with_speaker": round(float(np.mean(agree)), 3),
            "mean_steps_apart": round(float(np.mean(steps)), 2),
            "mean_steps_from_1": round(float(np.mean([r["steps_from_1"] for r in rows])), 2),
            "mean_accuracy_change": round(float(change.mean()), 4),
            "accuracy_rose": round(float((change > 0).mean()), 3),
            "accuracy_fell": round(float((change < 0).mean()), 3),
            "mean_averaged_change": round(float(averaged.mean()), 4),
            "averaged_rose": round(float((averaged > 0).mean()), 3),
            "averaged_fell": round(float((averaged < 0).mean()), 3)}


def differences(rows: list[dict]) -> dict:
    """Under minus over ``CLEAR_GAIN``: the difference of the means of each figure, with its 95 %
    percentile interval from 1,000 seeded bootstrap resamples of the recordings within each group
    (``scipy.stats.bootstrap``; ``core.findings.uncertainty``'s N_BOOT and LEVEL)."""
    from scipy.stats import bootstrap

    from core.findings.uncertainty import LEVEL, N_BOOT

    rows = [r for r in rows if r["steps"] is not None]  # a source of one recording has no other to agree with
    under = np.array([r["gain"] < CLEAR_GAIN for r in rows], dtype=bool)
    out = {}
    for name, value in (("agrees_with_speaker", lambda r: float(r["steps"] == 0)), ("steps_apart", lambda r: r["steps"]),
                        ("steps_from_1", lambda r: r["steps_from_1"]),
                        ("accuracy_change", lambda r: r["accuracy_change"]),
                        ("averaged_change", lambda r: r["averaged_change"])):
        x = np.array([value(r) for r in rows], dtype=np.float64)
        a, b = x[under], x[~under]
        if len(a) < 2 or len(b) < 2:
            continue
        ci = bootstrap((a, b), lambda p, q, axis=-1: p.mean(axis) - q.mean(axis), n_resamples=N_BOOT,
                       confidence_level=LEVEL, method="percentile", random_state=0).confidence_interval
        out[name] = [round(float(a.mean() - b.mean()), 4), round(float(ci.low), 4), round(float(ci.high), 4)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=str(ROOT / "data/bench_real_full/without_{voice}"))
    ap.add_argument("--corpus", default=str(ROOT / "data/real_en"))
    ap.add_argument("--voices", default=SOURCES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    out: dict = {"base": args.base, "corpus": args.corpus, "clear_gain": CLEAR_GAIN, "warps": list(WARPS),
                 "voices": {}}
    rows_all: list[dict] = []
    for voice in args.voices.split(","):
        net, info = load_model(Path(args.base.format(voice=voice)))
        vw = voice_warps(net, info, args.corpus, voice)
        rows = recordings(vw, list(info.phones).index(info.phone_set.silence))
        warped = [r for r in rows if r["warp"] != 1.0]
        out["voices"][voice] = {"recordings": len(rows), "chosen_not_1": len(warped),
                                "speaker_warp_all": vw.chosen,
                                "under": summary([r for r in warped if r["gain"] < CLEAR_GAIN]),
                                "over": summary([r for r in warped if r["gain"] >= CLEAR_GAIN])}
        rows_all += warped
        print(voice, json.dumps(out["voices"][voice]), file=sys.stderr, flush=True)
    out["all"] = {"under": summary([r for r in rows_all if r["gain"] < CLEAR_GAIN]),
                  "over": summary([r for r in rows_all if r["gain"] >= CLEAR_GAIN])}
    out["under_minus_over"] = differences([r for r in rows_all if r["speech_frames"]])
    out["gains"] = sorted(round(r["gain"], 4) for r in rows_all)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
