"""Adapting to an unheard voice (core.adapt), leave one voice out; one JSON object.

    nice -n 10 .venv/bin/python bench/adapt.py --json [--voices kal,ked,slt] [--frames 150000]
        [--epochs 3] [--n-adapt 10] [--parts input+output,input,output,biases] [--threads 1]

For each held-out voice V of ``data/corpus_en_train`` (kal, ked, slt; ``--train-corpus`` /
``--valid-corpus`` for others, e.g. the seven-voice ``data/corpus_en7_train`` / ``_valid``):

1. a speech model (the shipped architecture, MFBANK, 7 x 512 sigmoid, phone targets) is trained
   without V on the first utterances of the other voices, in corpus order, until ``--frames``
   frames (10 % of them held out by ``train_speech``), ``--epochs`` epochs, seed 0. It is kept in
   ``data/bench_adapt/`` and reused by later runs with the same settings. With ``--base PATTERN``
   the base model is read instead from PATTERN with ``{voice}`` / ``{speaker}`` replaced (e.g. the
   leave-one-speaker-out models of ``bench/voices.py --save DIR``: ``DIR/lovo_{speaker}_cmn``);
   the corpora are read with that model's features (its per-utterance normalisation too);
2. ``core.adapt.adapt`` adapts it on the first ``--n-adapt`` utterances of V in
   ``corpus_en_train`` (read from their .wav and .lab files as a user's would be), once per
   ``--parts`` choice, default settings otherwise;
3. frame accuracy on every utterance of V in ``data/corpus_en_valid`` (other sentences) is
   measured before and after (``core.train.speech_logits`` with the adapted normaliser).

Per voice: ``train_frames``, ``train_seconds`` (when trained in this run), ``before`` and per
variant ``after``: ``accuracy``, ``adapt_seconds`` (wall clock of ``adapt`` with ``--threads`` torch
threads), ``adapt_cpu_seconds`` (CPU time of this process, less sensitive to the machine's load),
``warp`` chosen, ``epochs_run``, ``best_epoch``, accuracy on the check recordings. ``--vtln``
adds ``before_vtln_averaged`` and ``accuracy_vtln_averaged``: the same test utterances read from
their WAV files, the posteriors averaged over the VTLN warps (``core.vtln.vtln_posteriors``) of the
base model and of the adapted copy.
``load_avg_1min``: how busy the 2-core machine was.

``--real SOURCE`` (issue 24): adapting to a *real* voice instead. The model (``--base``, default the
shipped ``speech_en_mfbank``) is adapted on ``--n-adapt`` recordings of SOURCE in the real-speech set
(``--real-dir``, default data/real_en; a seeded choice, ``--seed``) with their pocketsphinx labels,
with the default ``AdaptConfig``, and measured on every *other* recording of SOURCE
(``core.data.real.score_recording``: agreement on non-silence frames, plain and VTLN-averaged),
before and after; for each of ``--n-list`` (default 1,2,10).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import load_audio  # noqa: E402
from core.data import SPEAKERS, CorpusFrames, load_corpus  # noqa: E402
from core.features import FeatureConfig  # noqa: E402
from core.models import load_model, save_model  # noqa: E402
from core.phones import read_lab  # noqa: E402
from core.train import SpeechTrainConfig, speech_logits, train_speech, utterance_frames  # noqa: E402
from core.voice.adapt import AdaptConfig, adapt  # noqa: E402
from core.voice.vtln import vtln_posteriors  # noqa: E402

TRAIN = ROOT / "data" / "corpus_en_train"
VALID = ROOT / "data" / "corpus_en_valid"
CACHE = ROOT / "data" / "bench_adapt"


def subset(frames: CorpusFrames, utts: np.ndarray) -> CorpusFrames:
    """A CorpusFrames of the utterances ``utts`` (indices, in order)."""
    idx = utterance_frames(frames, utts)
    starts = np.asarray(frames.utt_starts)
    ends = np.append(starts[1:], len(frames.labels))
    sizes = (ends - starts)[utts]
    return CorpusFrames(
        feats=frames.feats[idx],
        labels=frames.labels[idx],
        states=frames.states[idx],
        utt_starts=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        frame_utt=np.repeat(np.arange(len(utts), dtype=np.int32), sizes),
        utt_ids=tuple(frames.utt_ids[u] for u in utts),
        voices=tuple(frames.voices[u] for u in utts),
        cfg=frames.cfg,
    )


def adapt_options(options: list[str]) -> dict:
    """AdaptConfig keyword arguments of a variant's '@' options ('nowarp', 'lr=1e-3', ...)."""
    fields = {f.name: f.type for f in dataclasses.fields(AdaptConfig)}
    out: dict = {}
    for opt in options:
        if opt == "nowarp":
            out["warps"] = ()
            continue
        name, _, value = opt.partition("=")
        if name not in fields or name in ("parts", "warps") or not value:
            raise SystemExit(f"bad adaptation option {opt!r}")
        out[name] = float(value) if name in ("lr", "l2", "kl", "min_gain") else int(value)
    return out


def lovo_model(train: CorpusFrames, voice: str, budget: int, epochs: int) -> tuple[object, object, dict]:
    out = CACHE / f"lovo_{voice}_{budget}_{epochs}"
    others = np.flatnonzero(np.asarray(train.voices) != voice)
    sizes = np.diff(np.append(np.asarray(train.utt_starts), len(train.labels)))[others]
    chosen = others[: int(np.searchsorted(np.cumsum(sizes), budget)) + 1]
    info: dict = {"train_utterances": int(len(chosen)), "train_frames": int(sizes[: len(chosen)].sum())}
    if not (out / "model.json").is_file():
        t0 = time.perf_counter()
        res = train_speech(
            subset(train, chosen), SpeechTrainConfig(epochs=epochs, seed=0), features=train.cfg
        )
        save_model(res.model, out, res.meta)
        info["train_seconds"] = round(time.perf_counter() - t0, 1)
    net, minfo = load_model(out)
    info["heldout_accuracy"] = minfo.metrics.get("heldout_accuracy")
    return net, minfo, info


def real_main(args) -> int:
    """``--real SOURCE``: adapt to n recordings of a real voice, measure on its other recordings."""
    from core.audio import load_audio
    from core.data import read_manifest
    from core.data.real import RealScore, score_recording
    from core.models import load_model
    from core.phones import read_lab
    from core.voice.adapt import AdaptConfig, adapt

    folder = Path(args.real_dir)
    rows = [r for r in read_manifest(folder) if r["voice"] == args.real]
    recs = [(load_audio(folder / f"{r['id']}.wav", max_seconds=1e9), read_lab(folder / f"{r['id']}.lab")) for r in rows]
    net, info = load_model(args.base or "speech_en_mfbank")
    order = np.random.default_rng(args.seed).permutation(len(recs))

    def measure(model, minfo, test) -> dict:
        total = RealScore()
        for i in test:
            total.add(score_recording(model, minfo, *recs[i]))
        return total.figures()

    out = {"source": args.real, "recordings": len(recs), "model": info.name, "seed": args.seed, "runs": {}}
    variant = args.parts.split("@") if args.parts else ["+".join(AdaptConfig().parts)]
    config = AdaptConfig(parts=tuple(variant[0].split("+")), **adapt_options(variant[1:]))
    out["config"] = dataclasses.asdict(config)
    for n in [int(k) for k in args.n_list.split(",")]:
        fit, test = order[:n], order[n:]
        t0 = time.monotonic()
        new, new_info, rep = adapt(net, info, [recs[i] for i in fit], config)
        before, after = measure(net, info, test), measure(new, new_info, test)
        out["runs"][str(n)] = {"before": before, "after": after, "seconds": round(time.monotonic() - t0, 1),
                               "warp": rep.warp, "best_epoch": rep.best_epoch, "check_recordings": rep.check_recordings,
                               "reverted": rep.reverted, "check_before": rep.check_before, "check_after": rep.check_after,
                               "gain": round(after["agreement"] - before["agreement"], 4),
                               "gain_vtln": round(after["agreement_vtln"] - before["agreement_vtln"], 4)}
        print(n, json.dumps(out["runs"][str(n)]), file=sys.stderr, flush=True)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--voices", default="kal,ked,slt")
    ap.add_argument("--frames", type=int, default=150_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n-adapt", type=int, default=10)
    ap.add_argument(
        "--parts",
        default=None,
        help="variants: parts joined by '+', then options: '@nowarp' (no warp search), '@lr=1e-3', "
        "'@l2=0.01', '@kl=0.5', '@max_epochs=20', '@folds=3', '@min_gain=0' (any AdaptConfig number); "
        "default input+output,input+output@nowarp,input,output (with --real: one variant, default the "
        "AdaptConfig defaults)",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vtln", action="store_true",
                    help="also the accuracy with VTLN averaging (core.vtln.vtln_posteriors, as the Your voice "
                         "page) before and after adapting, each test utterance read from its WAV file")
    ap.add_argument("--train-corpus", default=str(TRAIN), help="the adaptation recordings come from here")
    ap.add_argument("--valid-corpus", default=str(VALID), help="accuracy on the voice's utterances here")
    ap.add_argument(
        "--base",
        default="",
        help="base model folder per voice instead of training one, '{speaker}' / '{voice}' replaced "
        "(e.g. data/bench_voices/cmn300k6/lovo_{speaker}_cmn from bench/voices.py --save)",
    )
    ap.add_argument("--real", metavar="SOURCE", help="adapt to a real voice of the real-speech set (see above)")
    ap.add_argument("--real-dir", default=str(ROOT / "data/real_en"))
    ap.add_argument("--n-list", default="1,2,10", help="with --real: numbers of adaptation recordings")
    ap.add_argument("--seed", type=int, default=0, help="with --real: the choice of adaptation recordings")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.real:
        return real_main(args)
    train_dir, valid_dir = Path(args.train_corpus), Path(args.valid_corpus)
    voices = args.voices.split(",")
    base = {v: Path(args.base.format(voice=v, speaker=SPEAKERS.get(v, v))) for v in voices} if args.base else {}
    cfg = load_model(base[voices[0]])[1].features if base else FeatureConfig()  # the corpus as the model reads it
    train, valid = load_corpus(train_dir, cfg), load_corpus(valid_dir, cfg)
    result: dict = {
        "train_corpus": str(train_dir),
        "valid_corpus": str(valid_dir),
        "base": args.base or None,
        "frames_budget": args.frames,
        "epochs": args.epochs,
        "n_adapt": args.n_adapt,
        "threads": args.threads,
        "adapt_config": dataclasses.asdict(AdaptConfig()),
        "voices": {},
    }
    for voice in voices:
        if base:
            net, info = load_model(base[voice])
            row = {"base_model": str(base[voice]), "train_frames": info.data.get("train_frames"),
                   "train_voices": info.data.get("voices"), "heldout_accuracy": info.metrics.get("heldout_accuracy")}
            assert voice not in (row["train_voices"] or []), f"{base[voice]} heard {voice}"
        else:
            net, info, row = lovo_model(train, voice, args.frames, args.epochs)
        mine = [u for u, v in zip(train.utt_ids, train.voices, strict=True) if v == voice][: args.n_adapt]
        recs = [(load_audio(train_dir / f"{u}.wav"), read_lab(train_dir / f"{u}.lab")) for u in mine]
        test_u = np.flatnonzero(np.asarray(valid.voices) == voice)
        test_idx = utterance_frames(valid, test_u)
        y = valid.labels[test_idx].astype(np.int64)

        def acc(model, minfo, test_idx=test_idx, y=y) -> float:
            return round(float((speech_logits(model, minfo, valid, test_idx).argmax(1) == y).mean()), 4)

        def acc_vtln(model, minfo, test_u=test_u) -> float:
            right = total = 0
            for u in test_u:
                a, b = valid.utt_starts[u], (valid.utt_starts[u + 1] if u + 1 < len(valid.utt_starts) else len(valid.labels))
                post = vtln_posteriors(model, minfo, load_audio(valid_dir / f"{valid.utt_ids[u]}.wav",
                                                                max_seconds=float("inf")))[1]
                right += int((post.argmax(1) == valid.labels[a:b]).sum())
                total += b - a
            return round(float(right) / float(total), 4)

        row.update(
            test_utterances=int(len(test_u)),
            test_frames=int(len(test_idx)),
            before=acc(net, info),
            **({"before_vtln_averaged": acc_vtln(net, info)} if args.vtln else {}),
            adapt_frames=0,
            after={},
        )
        for variant in (args.parts or "input+output,input+output@nowarp,input,output").split(","):
            parts, *options = variant.split("@")
            cfg = AdaptConfig(parts=tuple(parts.split("+")), **adapt_options(options))
            t0, c0 = time.perf_counter(), time.process_time()
            new, new_info, rep = adapt(net, info, recs, cfg)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            row["adapt_frames"] = rep.fit_frames + rep.check_frames
            row["after"][variant] = {
                "accuracy": acc(new, new_info),
                "adapt_seconds": round(secs, 2),
                "adapt_cpu_seconds": round(cpu, 2),
                "warp": rep.warp,
                "epochs_run": rep.epochs_run,
                "best_epoch": rep.best_epoch,
                "check_before": round(rep.check_before, 4),
                "check_after": round(rep.check_after, 4),
                **({"accuracy_vtln_averaged": acc_vtln(new, new_info)} if args.vtln else {}),
            }
            print(voice, variant, row["before"], row["after"][variant], file=sys.stderr, flush=True)
        result["voices"][voice] = row
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
