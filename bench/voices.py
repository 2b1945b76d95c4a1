"""Leave one voice out: for each voice, a speech model trained without it (and without the other
voice of the same recorded speaker, ``core.corpus.SPEAKERS``), measured on that voice; one JSON object.

    .venv/bin/python bench/voices.py --json [--features mfbank] [--configs base,cmn,aug,cmn+aug]
        [--voices kal,ked,...] [--max-frames 150000] [--epochs 3] [--jobs 2]

Training data: ``--train-corpus`` (default data/corpus_en7_train, all seven voices), whole
utterances of the remaining voices in a seeded order up to ``--max-frames`` frames
(``SpeechTrainConfig.max_frames``), the shipped architecture (7 x 512 sigmoid) and recipe
(Adam 1e-3, cosine, batch 512) for ``--epochs`` epochs, one torch thread per run. Test data: every
utterance of the left-out voice in ``--valid-corpus`` (default data/corpus_en7_valid, other
sentences). ``--keep-speaker`` leaves only the voice itself out (its speaker's other voice stays).
``--dropout P`` drops hidden units in training. ``--save DIR`` keeps each run's model as ``DIR/lovo_<speaker or voice>_<config>`` (the base
models of ``bench/adapt.py --base``).

A config is ``+``-joined parts: ``base`` (nothing), ``cmn`` / ``cmvn`` (``FeatureConfig.utt_norm``),
``aug`` (every ``core.augment`` kind), ``only:K`` (augmentation K alone, e.g. ``only:speed``),
``no:K`` (every kind but K), ``p=0.8`` (probability of each kind), ``vtlp=0.85:1.25`` /
``speed=0.9:1.15`` (ranges). Voices of one speaker share one training run (the same voices are
left out). Output: ``runs`` (one row per voice x config: accuracy, frames, seconds of its run), ``table`` (config -> voice -> accuracy, plus ``mean`` and ``min``), the settings, and
``load_avg_1min`` before and after (the machine is shared; times vary with it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.data import DEFAULT_VOICES, SPEAKERS, load_corpus  # noqa: E402
from core.features import UTT_NORMS, FeatureConfig  # noqa: E402
from core.train import SpeechTrainConfig, train_speech, utterance_frames, voice_utterances  # noqa: E402
from core.train.augment import KINDS, AugmentConfig  # noqa: E402

_CORPORA: dict = {}


def parse_config(name: str) -> tuple[str, AugmentConfig | None]:
    """(utt_norm, augmentation or None) of a config name such as ``cmn+aug`` or ``only:speed``."""
    norm, kinds, extra = "none", None, {}
    for part in name.split("+"):
        key, _, val = part.partition("=")
        if key == "p" and val:
            extra["p"] = float(val)
        elif key in ("speed", "vtlp") and ":" in val:
            lo, hi = val.split(":")
            extra[key] = (float(lo), float(hi))
        elif part in UTT_NORMS:
            norm = part
        elif part == "aug":
            kinds = KINDS
        elif part.startswith("only:") and part[5:] in KINDS:
            kinds = (part[5:],)
        elif part.startswith("no:") and part[3:] in KINDS:
            kinds = tuple(k for k in KINDS if k != part[3:])
        elif part != "base":
            raise SystemExit(f"bench/voices.py: unknown config part {part!r} in {name!r}.")
    return norm, None if kinds is None else AugmentConfig(kinds=kinds, **extra)


def _corpora(train_dir: str, valid_dir: str, cfg: FeatureConfig):
    key = (train_dir, valid_dir, cfg)
    if key not in _CORPORA:
        _CORPORA[key] = (load_corpus(train_dir, cfg), load_corpus(valid_dir, cfg))
    return _CORPORA[key]


def one_run(args: argparse.Namespace, speaker: str, config: str) -> list[dict]:
    """Train without every voice of ``speaker`` (or only that voice with --keep-speaker) and
    measure each of its voices (one row per voice)."""
    torch.set_num_threads(1)
    norm, augment = parse_config(config)
    feats = FeatureConfig(kind=args.features, utt_norm=norm)
    train, valid = _corpora(args.train_corpus, args.valid_corpus, feats)
    tested = [
        v for v in args.voice_list if (v == speaker if args.keep_speaker else SPEAKERS.get(v, v) == speaker)
    ]
    held = set(tested) if args.keep_speaker else {v for v in SPEAKERS if SPEAKERS[v] == speaker}
    voices = sorted(v for v in set(train.voices) if v not in held)
    cfg = SpeechTrainConfig(
        features=args.features,
        epochs=args.epochs,
        seed=args.seed,
        max_frames=args.max_frames,
        width=args.width,
        layers=args.layers,
        dropout=args.dropout,
    )
    t0 = time.monotonic()
    res = train_speech(
        train,
        cfg,
        features=feats,
        valid=valid,
        voices=voices,
        valid_voices=tested,
        augment=augment,
        corpus_dir=args.train_corpus,
    )
    seconds = round(time.monotonic() - t0, 1)
    if args.save:
        from core.models import save_model

        save_model(res.model, Path(args.save) / f"lovo_{speaker}_{config}", res.meta)
    rows = []
    for v in tested:
        idx = utterance_frames(valid, voice_utterances(valid, [v]))
        logits = _logits_for(res, valid, idx, feats)
        rows.append(
            {
                "voice": v,
                "config": config,
                "train_voices": voices,
                "train_frames": res.meta["data"]["train_frames"],
                "test_frames": int(len(idx)),
                "accuracy": round(float((logits.argmax(1) == valid.labels[idx]).mean()), 4),
                "per_epoch_all_tested": [round(h.heldout_acc, 4) for h in res.history],
                "seconds": seconds,
            }
        )
    return rows


def _logits_for(res, frames, idx: np.ndarray, feats: FeatureConfig) -> np.ndarray:
    from core.features import SplicedFrames
    from core.train.loop import _logits

    norm = res.meta["normalizer"]
    view = SplicedFrames(
        norm.apply(np.asarray(frames.feats, dtype=np.float32)), frames.utt_starts, feats.context
    )
    return _logits(res.model, (view[idx[i : i + 4096]] for i in range(0, len(idx), 4096)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the only output)")
    ap.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    ap.add_argument("--dropout", type=float, default=0.0, help="hidden-unit dropout in training (SpeechTrainConfig)")
    ap.add_argument("--train-corpus", default=str(ROOT / "data/corpus_en7_train"))
    ap.add_argument("--valid-corpus", default=str(ROOT / "data/corpus_en7_valid"))
    ap.add_argument("--voices", default=",".join(DEFAULT_VOICES), help="voices to leave out, one at a time (default: the seven recorded ones)")
    ap.add_argument("--configs", default="base,cmn,aug,cmn+aug")
    ap.add_argument("--max-frames", type=int, default=150_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--layers", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time (one torch thread each)")
    ap.add_argument("--keep-speaker", action="store_true", help="leave out only the voice, not its speaker")
    ap.add_argument("--save", default="", help="keep each run's model in DIR/lovo_<left out>_<config> (bench/adapt.py --base)")
    args = ap.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    voices = [v for v in args.voices.split(",") if v]
    for c in configs:
        parse_config(c)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    for norm in dict.fromkeys(parse_config(c)[0] for c in configs):  # build the caches once, before forking
        _corpora(args.train_corpus, args.valid_corpus, FeatureConfig(kind=args.features, utt_norm=norm))
    args.voice_list = voices
    speakers = list(dict.fromkeys(v if args.keep_speaker else SPEAKERS.get(v, v) for v in voices))
    jobs = [(s, c) for c in configs for s in speakers]
    runs = []
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(one_run, args, s, c) for s, c in jobs]
        for fut in futures:
            rows = fut.result()
            runs += rows
            for r in rows:
                print(json.dumps(r), file=sys.stderr, flush=True)
    table = {}
    for c in configs:
        accs = {r["voice"]: r["accuracy"] for r in runs if r["config"] == c}
        vals = np.array(list(accs.values()))
        table[c] = {**accs, "mean": round(float(vals.mean()), 4), "min": round(float(vals.min()), 4)}
    out = {
        "features": args.features,
        "train_corpus": args.train_corpus,
        "valid_corpus": args.valid_corpus,
        "max_frames": args.max_frames,
        "epochs": args.epochs,
        "width": args.width,
        "layers": args.layers,
        "dropout": args.dropout,
        "leave_out": "voice" if args.keep_speaker else "speaker (SPEAKERS)",
        "table": table,
        "runs": runs,
        "seconds": round(time.monotonic() - t0, 1),
        "load_avg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(out, indent=1) if args.json else json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
