"""How often Open JTalk's spoken phonemes (the corpus labels) equal pyopenjtalk-plus's g2p of the text.

    .venv/bin/python scripts/ja_reading_agreement.py data/corpus_ja_train data/corpus_ja_valid

Prints, per corpus: utterances whose phonemes (leading / trailing silence left out) are exactly
g2p's, and the share of phonemes matched (difflib over the longer sequence). Figures:
docs/MODELS.md. The two differ where Debian's NAIST-jdic and pyopenjtalk-plus's dictionary read a
word differently (rendaku, particles).
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import read_manifest  # noqa: E402
from core.phones import JAPANESE, read_lab  # noqa: E402
from core.voice.align.readings_ja import g2p  # noqa: E402


def agreement(corpus: str) -> tuple[int, int, float]:
    """(utterances exactly equal, utterances, share of phonemes matched)."""
    rows = read_manifest(corpus)
    exact = same = total = 0
    for r in rows:
        lab = [s.phone for s in read_lab(Path(corpus) / f"{r['id']}.lab", phone_set=JAPANESE)]
        while lab and lab[0] == JAPANESE.silence:
            lab.pop(0)
        while lab and lab[-1] == JAPANESE.silence:
            lab.pop()
        ref = g2p(r["text"])
        exact += lab == ref
        blocks = difflib.SequenceMatcher(None, lab, ref, autojunk=False).get_matching_blocks()
        same += sum(b.size for b in blocks)
        total += max(len(lab), len(ref))
    return exact, len(rows), same / total


if __name__ == "__main__":
    for corpus in sys.argv[1:]:
        exact, n, share = agreement(corpus)
        print(f"{corpus}: {exact}/{n} utterances identical ({exact / n:.1%}), {share:.2%} of phonemes matched")
