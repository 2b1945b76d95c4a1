"""Regenerate assets/samples: short sentences with /s/, /sh/, /b/, /d/ in clear contexts.

    .venv/bin/python scripts/make_samples.py            English and Japanese
    .venv/bin/python scripts/make_samples.py ja         only the Japanese ones (or: en)

(needs Festival and Open JTalk: packages-dev.txt). Each sample is <id>.wav (16 kHz mono 16-bit) +
<id>.lab (start end phone, seconds) written by the synthesiser with exact phoneme timings; the
texts are listed in assets/samples/README.md (rewritten every time, both languages). English:
Festival voices; Japanese (``ja_*``): Open JTalk with pyopenjtalk-plus's voice at its own settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data import synthesize_texts  # noqa: E402
from core.data.synth.openjtalk import synthesize_texts_ja, voice_files  # noqa: E402

SAMPLES = [
    ("she_sells", "kal", "She sells sea shells on the sea shore."),
    ("bad_dog", "slt", "Bob had a bad dog and a big bed."),
    ("sue_showed", "ked", "Sue showed Dad the blue shoes."),
    ("big_deal", "slt", "The boys said it was a big deal."),
    ("fish_dish", "kal", "A fresh fish dish, sir?"),
]
SAMPLES_JA = [  # /s/ vs /sh/ and /b/ vs /d/ words, in hiragana / katakana (read the same by every dictionary)
    ("ja_sushi_shio", "すしとしおをさしあげます。"),
    ("ja_shika_sakana", "しかとさかながすきです。"),
    ("ja_budou_dango", "ぶどうとだんごをたべた。"),
    ("ja_basu_densha", "バスとでんしゃでかえります。"),
]


def main(langs: list[str]) -> int:
    out = ROOT / "assets" / "samples"
    paths = []
    if "en" in langs:
        paths += synthesize_texts(out, SAMPLES)
    ja_voice = next(iter(voice_files()), "mei_normal")
    if "ja" in langs:
        paths += synthesize_texts_ja(out, SAMPLES_JA, ja_voice)
    lines = ["# Sample recordings", "", "Synthesised by Festival and, for `ja_*`, Open JTalk (`scripts/make_samples.py`),",
             "with exact phoneme timings in the .lab files (`start end phone`, seconds).", "",
             "| file | voice | text |", "|---|---|---|"]
    lines += [f"| {uid}.wav | {voice} | {text} |" for uid, voice, text in SAMPLES]
    lines += [f"| {uid}.wav | {ja_voice} | {text} |" for uid, text in SAMPLES_JA]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for p in paths:
        print(p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["en", "ja"]))
