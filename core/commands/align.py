"""`python -m core align WAV --text "..."` and `python -m core recognize WAV`: a recording's phones.

``align`` prints one line per phone (``START END PHONE``), or with ``--json`` a list of
``{phone, start, end}``; ``--lab`` / ``--textgrid`` write the alignment as files.
``recognize`` prints the network's decoded phones with times and the mean posterior of each
(``--json``: a list of ``{phone, start, end, mean_posterior}``). The model is needed by
``recognize`` and by ``--aligner network`` only. Without ``--aligner``, an English model aligns
with pocketsphinx and a Japanese one (``--model speech_ja_mfbank``) with the network aligner, the
only one for Japanese (pocketsphinx has no Japanese acoustic model); the transcript is then read
by pyopenjtalk.
"""

from __future__ import annotations

import argparse
import json

from core.cli import new_file, positive_float

_DEFAULT_MODEL = "speech_en_mfbank"


def _model(name: str):
    from core.models import load_model

    return load_model(name)


def _cli_align(args: argparse.Namespace) -> int:
    from core.audio import check_audible, load_audio
    from core.models import read_model_info
    from core.voice.align import DEFAULT_ALIGNER, align, label_file_bytes

    signal = load_audio(args.wav, max_seconds=args.max_seconds)
    check_audible(signal)  # as the page: a silent file is refused (its times are the file's own, so not trimmed)
    aligner = args.aligner
    if aligner is None:
        english = read_model_info(args.model).phone_set.name == "en"
        aligner = DEFAULT_ALIGNER if english else "network"
    net = info = None
    if aligner == "network":
        net, info = _model(args.model)
    elif aligner == "pocketsphinx":
        info = read_model_info(args.model) if args.model != _DEFAULT_MODEL else None
    ali = align(signal, args.text, aligner, net=net, info=info)
    if args.lab is not None:
        args.lab.parent.mkdir(parents=True, exist_ok=True)
        args.lab.write_bytes(label_file_bytes(ali.phones, "lab"))
    if args.textgrid is not None:
        args.textgrid.parent.mkdir(parents=True, exist_ok=True)
        args.textgrid.write_bytes(label_file_bytes(ali.phones, "textgrid"))
    if args.json:
        print(json.dumps(ali.to_json()))
    else:
        for s in ali.phones:
            print(f"{s.start:.3f} {s.end:.3f} {s.phone}")
    return 0


def _cli_recognize(args: argparse.Namespace) -> int:
    from core.audio import SAMPLE_RATE, check_audible, load_audio
    from core.models.inference import phone_posteriors
    from core.voice.align import decode

    signal = load_audio(args.wav, max_seconds=args.max_seconds)
    check_audible(signal)  # as the page: a silent file is refused (its times are the file's own, so not trimmed)
    net, info = _model(args.model)
    post = phone_posteriors(net, info, signal)
    out = decode(post, len(signal) / SAMPLE_RATE, info.phones)
    if args.json:
        print(json.dumps([{"phone": d.segment.phone, "start": round(d.segment.start, 4),
                           "end": round(d.segment.end, 4), "mean_posterior": round(d.mean_posterior, 4)}
                          for d in out]))
    else:
        for d in out:
            print(f"{d.segment.start:.3f} {d.segment.end:.3f} {d.segment.phone} {d.mean_posterior:.3f}")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register `align` and `recognize`."""
    from core.voice.align import ALIGNERS, DEFAULT_ALIGNER

    p = sub.add_parser("align", help="forced alignment of a recording with its transcript")
    p.add_argument("wav", help="an audio file (WAV, FLAC, OGG, ...), at most 30 s")
    p.add_argument("--text", required=True,
                   help="what was said (English words in CMUdict; Japanese text for a Japanese model)")
    p.add_argument("--model", default=_DEFAULT_MODEL,
                   help="model (name or folder): its language, and the network aligner's posteriors")
    p.add_argument("--aligner", choices=ALIGNERS, default=None,
                   help=f"pocketsphinx (trained on real English speech; the default for English) or network "
                        f"(Viterbi on the model's log posteriors; the only one for Japanese). Default: "
                        f"{DEFAULT_ALIGNER} for an English model, network otherwise")
    p.add_argument("--lab", type=new_file, help="write the phones as a .lab file (START END PHONE, seconds)")
    p.add_argument("--textgrid", type=new_file, help="write the phones as a Praat TextGrid")
    p.add_argument("--json", action="store_true", help="print a JSON list of {phone, start, end}")
    p.add_argument("--max-seconds", type=positive_float, default=30.0, help="longest recording accepted (default 30)")
    p.set_defaults(func=_cli_align)

    r = sub.add_parser("recognize", help="the network's phones in a recording (no transcript)")
    r.add_argument("wav", help="an audio file (WAV, FLAC, OGG, ...), at most 30 s")
    r.add_argument("--model", default=_DEFAULT_MODEL, help="model name or folder (e.g. speech_ja_mfbank)")
    r.add_argument("--json", action="store_true", help="print a JSON list of {phone, start, end, mean_posterior}")
    r.add_argument("--max-seconds", type=positive_float, default=30.0, help="longest recording accepted (default 30)")
    r.set_defaults(func=_cli_recognize)
