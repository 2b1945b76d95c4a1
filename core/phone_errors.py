"""Phone error rate: a decoded phone sequence against the expected one, aligned.

``phone_sequence`` turns segments into the sequence that is compared: silences dropped, repeats of
the same phone merged (a decoder that splits one /s/ in two has not said two /s/). ``phone_errors``
aligns two sequences with the fewest edits (Levenshtein, rapidfuzz's ``opcodes``) and counts
substitutions, deletions (expected, not decoded) and insertions (decoded, not expected); the phone
error rate is their sum over the expected length, so it exceeds 1 when many phones are inserted
(e.g. decoded in a recording's silence). Used by the real-speech figures (``core.data.real``) and
the Your voice page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GAP = "–"
"""What stands opposite a deleted or inserted phone in an aligned row."""


def phone_sequence(segments: Iterable, silence: str = "sil") -> list[str]:
    """The phones of ``segments`` (objects with ``.phone``) without silences, repeats merged."""
    seq = [s.phone for s in segments if s.phone != silence]
    return [p for i, p in enumerate(seq) if i == 0 or p != seq[i - 1]]


@dataclass(frozen=True)
class PhoneErrors:
    """``rows``: (expected, decoded, op) per aligned position, op "ok" | "sub" | "del" | "ins" (a gap
    is ``GAP``); the counts; ``n_expected`` the length of the expected sequence."""

    rows: tuple[tuple[str, str, str], ...]
    substitutions: int
    deletions: int
    insertions: int
    n_expected: int

    @property
    def edits(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def per(self) -> float:
        """Edits over the expected length (NaN when nothing was expected)."""
        return self.edits / self.n_expected if self.n_expected else float("nan")


def phone_errors(expected: Sequence[str], decoded: Sequence[str]) -> PhoneErrors:
    """``decoded`` aligned to ``expected`` with the fewest edits (module docstring)."""
    from rapidfuzz.distance import Levenshtein

    expected, decoded = list(expected), list(decoded)
    rows: list[tuple[str, str, str]] = []
    for op in Levenshtein.opcodes(expected, decoded):
        a, b = expected[op.src_start:op.src_end], decoded[op.dest_start:op.dest_end]
        if op.tag == "equal":
            rows += [(x, x, "ok") for x in a]
        elif op.tag == "replace":
            rows += [(x, y, "sub") for x, y in zip(a, b, strict=True)]
        elif op.tag == "delete":
            rows += [(x, GAP, "del") for x in a]
        else:
            rows += [(GAP, y, "ins") for y in b]
    count = {k: sum(1 for r in rows if r[2] == k) for k in ("sub", "del", "ins")}
    return PhoneErrors(tuple(rows), count["sub"], count["del"], count["ins"], len(expected))
