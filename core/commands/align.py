"""`python -m core align WAV --text "..."` and `python -m core recognize WAV`: a recording's phones.

``align`` prints one line per phone (``START END PHONE``), or with ``--json`` a list of
``{phone, start, end}``; ``--lab`` / ``--textgrid`` write the alignment as files.
``recognize`` prints the network's decoded phones with times and the mean posterior of each
(``--json``: a list of ``{phone, start, end, mean_posterior}``). The model is needed by
``recognize`` and by ``--aligner network`` only.
"""

from __future__ import annotations

import argparse
import json

from core.cli import new_file, positive_float


def _model(name: str):
    from core.models import load_model

    return load_model(name)


def _cli_align(args: argparse.Namespace) -> int:
    from core.align import align, label_file_bytes
    from core.audio import load_audio

    signal = load_audio(args.wav, max_seconds=args.max_seconds)
    net = info = None
    if args.aligner == "network":
        net, info = _model(args.model)
    ali = align(signal, args.text, args.aligner, net=net, info=info)
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
    from core.align import decode, phone_posteriors
    from core.audio import SAMPLE_RATE, load_audio

    signal = load_audio(args.wav, max_seconds=args.max_seconds)
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
    from core.align import ALIGNERS, DEFAULT_ALIGNER

    p = sub.add_parser("align", help="forced alignment of a recording with its transcript")
    p.add_argument("wav", help="an audio file (WAV, FLAC, OGG, ...), at most 30 s")
    p.add_argument("--text", required=True, help="what was said (English words in CMUdict)")
    p.add_argument("--model", default="speech_en_mfbank", help="model for --aligner network (name or folder)")
    p.add_argument("--aligner", choices=ALIGNERS, default=DEFAULT_ALIGNER,
                   help="pocketsphinx (trained on real speech, default) or network (Viterbi on the "
                        "model's log posteriors)")
    p.add_argument("--lab", type=new_file, help="write the phones as a .lab file (START END PHONE, seconds)")
    p.add_argument("--textgrid", type=new_file, help="write the phones as a Praat TextGrid")
    p.add_argument("--json", action="store_true", help="print a JSON list of {phone, start, end}")
    p.add_argument("--max-seconds", type=positive_float, default=30.0, help="longest recording accepted (default 30)")
    p.set_defaults(func=_cli_align)

    r = sub.add_parser("recognize", help="the network's phones in a recording (no transcript)")
    r.add_argument("wav", help="an audio file (WAV, FLAC, OGG, ...), at most 30 s")
    r.add_argument("--model", default="speech_en_mfbank", help="model name or folder")
    r.add_argument("--json", action="store_true", help="print a JSON list of {phone, start, end, mean_posterior}")
    r.add_argument("--max-seconds", type=positive_float, default=30.0, help="longest recording accepted (default 30)")
    r.set_defaults(func=_cli_recognize)
