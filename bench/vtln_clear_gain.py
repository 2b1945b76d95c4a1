"""Is the Your voice page's "uncertain warp" sentence right on voices it was not chosen on? One JSON object.

    .venv/bin/python bench/vtln_clear_gain.py [--base "data/bench_real_full/without_{voice}"] \
        [--corpus data/real_en] [--voices ktuberling_en,klettres_en,...]

``core.voice.vtln.CLEAR_GAIN`` was chosen on synthetic voices' gains: below it (the chosen warp's
mean top posterior over warp 1's) the page calls the chosen warp "an uncertain estimate of your
vocal tract". This checks the sentence out of sample, on the real speakers of the real-speech set
(``python -m core real-voices build``; pocketsphinx's labels), each classified by a model that never
heard that speaker (``--base``, ``{voice}`` replaced: the leave-one-source-out models of
``bench/real.py --save``), through the page's code (``core.voice.vtln.voice_warps``: every
recording under every warp of ``WARPS``).

For each recording whose own label-free choice is not warp 1 (the page says nothing at warp 1):

- **gain**: what the page compares with ``CLEAR_GAIN``;
- **agrees**: whether its warp equals the *speaker's* warp chosen without labels from the speaker's
  other recordings (``pick`` over their frames: what a user with more recordings would get). An
  estimate of a vocal tract is a property of the speaker; one recording's choice that another
  sample of the same voice does not repeat is an uncertain one;
- **steps**: how many steps of ``WARPS`` the two choices lie apart;
- **accuracy change**: the share of its speech frames (pocketsphinx's labels, not silence) whose top
  phone is the label, under its warp minus under warp 1.

Reported for the recordings under and at or over ``CLEAR_GAIN``: counts, the share that agrees
with the speaker's warp, the mean steps apart, the mean accuracy change, and the share whose
accuracy rose / fell. Nothing here chose ``CLEAR_GAIN``. docs/MODELS.md ("Is a small gain an
uncertain warp?") has the table.
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
from core.voice.vtln import CHOICE_STRIDE, CLEAR_GAIN, WARPS, pick, voice_warps  # noqa: E402

SOURCES = "ktuberling_en,klettres_en,klettres_en_gb,klettres_en_letters,alsa"


def recordings(vw, silence: int) -> list[dict]:
    """One row per recording of a ``VoiceWarps`` (module docstring)."""
    warps = list(vw.warps)
    starts = np.flatnonzero(np.diff(vw.frame_utt, prepend=-1))
    read = (np.arange(len(vw.frame_utt)) - np.repeat(starts, np.diff(np.append(starts, len(vw.frame_utt))))) \
        % CHOICE_STRIDE == 0
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

    under = [r["gain"] < CLEAR_GAIN for r in rows]
    out = {}
    for name, value in (("agrees_with_speaker", lambda r: float(r["steps"] == 0)), ("steps_apart", lambda r: r["steps"]),
                        ("accuracy_change", lambda r: r["accuracy_change"]),
                        ("averaged_change", lambda r: r["averaged_change"])):
        x = np.array([value(r) for r in rows], dtype=np.float64)
        a, b = x[np.array(under)], x[~np.array(under)]
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
