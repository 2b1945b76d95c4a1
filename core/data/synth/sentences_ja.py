"""Sentences for the Japanese synthetic corpus: frequent words plus nonsense words that cover every mora.

A sentence is 3-6 frequent Japanese words (wordfreq's list, the 6,000 most frequent; kept: two
characters or more, only hiragana, katakana and kanji, not starting with a small kana, ``ー``,
``ッ`` or ``ン``), each drawn with weight ``(rank + 20) ** -0.6`` and joined by a random particle
(は が を に の と で も, or a comma), plus one or two nonsense hiragana words of 2-4 morae inserted
between them, ended by ``。``, ``です。``, ``でした。`` or ``ですか。``. The morae of the nonsense words
come from ``MORAE`` in a shuffled cycle (every mora once per cycle), so every mora of Japanese,
including the palatalised ones (きゃ ... ぴょ), ふぁ-ふぉ, てぃ, でぃ and the geminate っ, is spoken
about equally often, whatever the frequent words are. ``っ`` is never first or last in a word and
only comes before a mora that starts with a consonant (not before a vowel, ん or another っ); a word
never ends in は or へ (they would be read as the particles wa / e).

Why hiragana: Debian's Open JTalk (NAIST-jdic) reads unknown *katakana* words with small ャュョ
and loan-word morae letter by letter (キャ -> ``k i y a``, ファ -> ``f u a``, ヘ -> ``e``), unlike
pyopenjtalk; in hiragana both read all 109 morae alike (checked in the carrier これはかXとです).
Deterministic for a seed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

N_TOP_WORDS = 6000
RANK_EXPONENT = 0.6
PARTICLES = ("は", "が", "を", "に", "の", "と", "で", "も", "、")
ENDINGS = ("。", "です。", "でした。", "ですか。")
_SEIKYUU = (
    "アイウエオ カキクケコ サシスセソ タチツテト ナニヌネノ ハヒフヘホ マミムメモ ヤユヨ ラリルレロ ワ "
    "ガギグゲゴ ザジズゼゾ ダデド バビブベボ パピプペポ"
).replace(" ", "")
_YOUON = "キ シ チ ニ ヒ ミ リ ギ ジ ビ ピ".split()


def _hiragana(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)


MORAE: tuple[str, ...] = tuple(
    _hiragana(m)
    for m in (
        tuple(_SEIKYUU)
        + tuple(c + s for c in _YOUON for s in "ャュョ")
        + ("ファ", "フィ", "フェ", "フォ", "ツァ", "ティ", "ディ", "ン", "ッ")
    )
)
"""Every mora the nonsense words use: 66 plain, 33 palatalised, 7 loan-word morae, ん and っ."""

_JA_WORD = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff]{2,}$")
_BAD_START = set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮーんン")
_VOWELS = set("あいうえお")
_PARTICLE_LIKE = ("は", "へ")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, ...], np.ndarray]:
    from wordfreq import top_n_list

    words = tuple(w for w in top_n_list("ja", N_TOP_WORDS) if _JA_WORD.match(w) and w[0] not in _BAD_START)
    ranks = np.arange(len(words), dtype=np.float64)
    weights = (ranks + 20.0) ** -RANK_EXPONENT
    return words, weights / weights.sum()


class _MoraCycle:
    """Morae in a shuffled cycle: every mora once per ``len(MORAE)`` draws."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.queue: list[str] = []

    def next(self, ok=lambda m: True) -> str:
        for _ in range(2):
            if not self.queue:
                self.queue = [MORAE[i] for i in self.rng.permutation(len(MORAE))]
            for i, m in enumerate(self.queue):
                if ok(m):
                    return self.queue.pop(i)
            self.queue = []
        raise RuntimeError("no mora fits")  # unreachable: plain morae always fit


def _nonsense(cycle: _MoraCycle, n: int) -> str:
    """A hiragana word of ``n`` morae; っ and ん never first, っ never last or before a vowel/ん/っ,
    は and へ never last."""
    out: list[str] = []
    for k in range(n):
        last = k == n - 1
        prev_cl = bool(out) and out[-1] == "っ"

        def ok(m: str, first=(k == 0), last=last, prev_cl=prev_cl) -> bool:
            if first and m in ("ん", "っ"):
                return False
            if last and m in ("っ", *_PARTICLE_LIKE):
                return False
            return not (prev_cl and (m[0] in _VOWELS or m in ("ん", "っ")))

        out.append(cycle.next(ok))
    return "".join(out)


def make_sentences_ja(n: int, seed: int = 0) -> list[str]:
    """``n`` Japanese sentences (see the module docstring); the same for the same ``(n, seed)``."""
    words, p = _vocabulary()
    rng = np.random.default_rng([seed, 7])
    cycle = _MoraCycle(np.random.default_rng([seed, 8]))
    out = []
    for _ in range(n):
        parts = [words[i] for i in rng.choice(len(words), size=int(rng.integers(3, 7)), p=p)]
        for _ in range(int(rng.integers(1, 3))):
            parts.insert(int(rng.integers(0, len(parts) + 1)), _nonsense(cycle, int(rng.integers(2, 5))))
        text = parts[0]
        for w in parts[1:]:
            text += PARTICLES[int(rng.integers(len(PARTICLES)))] + w
        out.append(text + ENDINGS[int(rng.integers(len(ENDINGS)))])
    return out
