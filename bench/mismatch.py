"""How well ``core.align.silent_speech_share`` tells a wrong transcript from a right one (the Your
voice page asks about the transcript when pocketsphinx puts ``MISMATCH_SHARE`` or more of the
speech in silence); one JSON object.

    .venv/bin/python bench/mismatch.py --json --corpus data/corpus_en7_valid --per-voice 4
    .venv/bin/python bench/mismatch.py --json --corpus data/corpus_espeak_valid --per-voice 4
    .venv/bin/python bench/mismatch.py --json --corpus data/corpus_en7_valid --skip 4 --per-voice 8
    .venv/bin/python bench/mismatch.py --json --corpus data/real_en --per-voice 1000

For the first ``--per-voice`` utterances of each voice of the corpus (after the first ``--skip``), pocketsphinx aligns the
recording to its own text (right) and to the text of the next utterance of the manifest (wrong: other
words, about as long). Output per voice and pooled: the shares with the right and the wrong
transcripts, how many right ones the page would question (false alarms) and how many wrong ones it
would (caught); alignments pocketsphinx could not make (the page shows an error then) are counted apart, right and wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import load_audio  # noqa: E402
from core.data import read_manifest  # noqa: E402
from core.voice.align import MISMATCH_SHARE, AlignError, align, silent_speech_share  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--per-voice", type=int, default=4)
    ap.add_argument("--skip", type=int, default=0,
                    help="leave out the first SKIP utterances of each voice (those MISMATCH_SHARE was chosen on: "
                         "--skip 4 gives out-of-sample figures)")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    rows = read_manifest(corpus)
    per_voice: dict[str, dict] = {}
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        voice = row["voice"]
        seen[voice] = seen.get(voice, 0) + 1
        if not args.skip < seen[voice] <= args.skip + args.per_voice:
            continue
        out = per_voice.setdefault(voice, {"right": [], "wrong": [], "not_aligned_right": 0, "not_aligned_wrong": 0})
        x = load_audio(corpus / f"{row['id']}.wav", max_seconds=float("inf"))
        other = rows[(i + 1) % len(rows)]["text"]
        for kind, text in (("right", row["text"]), ("wrong", other)):
            try:
                out[kind].append(round(silent_speech_share(x, align(x, text, "pocketsphinx")), 4))
            except AlignError:  # the page shows pocketsphinx's failure as an error instead
                out[f"not_aligned_{kind}"] += 1

    def summary(right: list[float], wrong: list[float]) -> dict:
        return {
            "right_max": max(right, default=None),
            "wrong_min": min(wrong, default=None),
            "false_alarms": sum(s >= MISMATCH_SHARE for s in right),
            "right_n": len(right),
            "caught": sum(s >= MISMATCH_SHARE for s in wrong),
            "wrong_n": len(wrong),
        }

    result = {
        "corpus": str(corpus),
        "per_voice_utterances": args.per_voice,
        "skipped_per_voice": args.skip,
        "threshold": MISMATCH_SHARE,
        "voices": {v: {**d, **summary(d["right"], d["wrong"])} for v, d in per_voice.items()},
        "all": summary([s for d in per_voice.values() for s in d["right"]],
                       [s for d in per_voice.values() for s in d["wrong"]]),
        "not_aligned_right": sum(d["not_aligned_right"] for d in per_voice.values()),
        "not_aligned_wrong": sum(d["not_aligned_wrong"] for d in per_voice.values()),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
