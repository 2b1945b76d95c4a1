"""core.phone_errors against a brute-force edit distance, and the Your voice page's table."""

from __future__ import annotations

import itertools

import pytest

from core.phone_errors import GAP, phone_errors, phone_sequence
from core.phones import Segment
from tests.test_real import _levenshtein


def test_sequence_drops_silence_and_merges_repeats():
    segs = [Segment(0, 1, "sil"), Segment(1, 2, "s"), Segment(2, 3, "s"), Segment(3, 4, "sil"), Segment(4, 5, "s"),
            Segment(5, 6, "iy")]
    assert phone_sequence(segs) == ["s", "iy"]  # s s sil s: one /s/ once silence is dropped


@pytest.mark.parametrize("pair", [("s iy", "s iy"), ("sh iy", "s iy"), ("s iy l z", "s l z"), ("s", "t s ih"),
                                  ("", "s"), ("aa b", "")])
def test_counts_and_rows(pair):
    a, b = (x.split() for x in pair)
    e = phone_errors(a, b)
    assert e.edits == _levenshtein(a, b)
    assert [r[0] for r in e.rows if r[0] != GAP] == a and [r[1] for r in e.rows if r[1] != GAP] == b
    assert all((r[2] == "ok") == (r[0] == r[1]) for r in e.rows)
    assert e.n_expected == len(a) and (e.per == e.edits / len(a) if a else e.per != e.per)


def test_every_short_pair_against_brute_force():
    alphabet = ["s", "sh", "iy"]
    seqs = [list(p) for n in range(4) for p in itertools.product(alphabet, repeat=n)]
    for a in seqs:
        for b in seqs:
            assert phone_errors(a, b).edits == _levenshtein(a, b), (a, b)
