"""Regenerate assets/samples: short sentences with /s/, /sh/, /b/, /d/ in clear contexts.

    .venv/bin/python scripts/make_samples.py        (needs Festival: packages.txt)

Each sample is <id>.wav (16 kHz mono 16-bit) + <id>.lab (start end phone, seconds) written by
Festival with exact phoneme timings; the texts are listed in assets/samples/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.corpus import synthesize_texts  # noqa: E402

SAMPLES = [
    ("she_sells", "kal", "She sells sea shells on the sea shore."),
    ("bad_dog", "slt", "Bob had a bad dog and a big bed."),
    ("sue_showed", "ked", "Sue showed Dad the blue shoes."),
    ("big_deal", "slt", "The boys said it was a big deal."),
    ("fish_dish", "kal", "A fresh fish dish, sir?"),
]


def main() -> int:
    out = ROOT / "assets" / "samples"
    paths = synthesize_texts(out, SAMPLES)
    lines = ["# Sample recordings", "", "Synthesised by Festival (`scripts/make_samples.py`), with exact phoneme",
             "timings in the .lab files (`start end phone`, seconds).", "", "| file | voice | text |", "|---|---|---|"]
    lines += [f"| {uid}.wav | {voice} | {text} |" for uid, voice, text in SAMPLES]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for p in paths:
        print(p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
