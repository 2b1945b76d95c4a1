"""Readings of Japanese text: words and their phonemes from pyopenjtalk-plus (offline, bundled dictionary).

- ``g2p(text)``: the phonemes of a whole text in ``core.phones.JAPANESE`` classes (pyopenjtalk's
  ``g2p``, devoiced vowels folded, ``pau`` -> ``sil``).
- ``readings(text)``: (word, phonemes) per word of pyopenjtalk's front end (MeCab words; symbols
  and punctuation dropped: they are where optional pauses go anyway). The phonemes are the
  whole-text ``g2p`` cut at the word lengths (each word's own reading, ``g2p`` of its ``pron``,
  gives the length), so context effects on the reading are kept; when the lengths do not add up
  (a reading that changes across a word boundary), each word's own reading is used.

pyopenjtalk prints a warning about ONNX Runtime on import; it is swallowed here. Calls go through a
lock (pyopenjtalk keeps one global engine).
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import warnings

from core.phones import JAPANESE
from core.text import N_, UserError

_LOCK = threading.Lock()
_PJT = None


class ReadingError(UserError):
    """Japanese text that cannot be read (pyopenjtalk missing, nothing to pronounce)."""


def _pyopenjtalk():
    global _PJT
    if _PJT is None:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pyopenjtalk
        except ImportError:
            raise ReadingError(
                N_("pyopenjtalk-plus is not installed; install it with: pip install pyopenjtalk-plus==0.4.1.post10")
            ) from None
        _PJT = pyopenjtalk
    return _PJT


def _fold(phones: str) -> list[str]:
    return [JAPANESE.to_phone(p) for p in phones.split()]


def g2p(text: str) -> list[str]:
    """Phonemes of ``text`` (``JAPANESE`` classes; pauses as ``sil``), as pyopenjtalk reads it."""
    pjt = _pyopenjtalk()
    with _LOCK:
        return _fold(pjt.g2p(str(text)))


def readings(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(word, phonemes without pauses) of every pronounced word of ``text`` (module docstring)."""
    pjt = _pyopenjtalk()
    with _LOCK:
        nodes = pjt.run_frontend(str(text))
        whole = [p for p in _fold(pjt.g2p(str(text))) if p != JAPANESE.silence]
        words = []
        for node in nodes:
            pron = str(node.get("pron", "")).replace("’", "")
            if node.get("pos") == "記号" or not pron.strip("、。 "):
                continue
            own = tuple(p for p in _fold(pjt.g2p(pron)) if p != JAPANESE.silence)
            if own:
                words.append((str(node["string"]), own))
    if sum(len(p) for _, p in words) == len(whole):
        out, k = [], 0
        for w, p in words:
            out.append((w, tuple(whole[k : k + len(p)])))
            k += len(p)
        return out
    return words


_LATIN = re.compile(r"[A-Za-z\uFF21-\uFF3A\uFF41-\uFF5A][A-Za-z\uFF21-\uFF3A\uFF41-\uFF5A'.-]*")


def latin_words(text: str) -> list[str]:
    """The runs of Latin letters (ASCII or full-width) in ``text``, each once, in order: a Japanese
    model's reading spells them letter by letter (``hello`` -> e i ch i i i e r u ...), which is
    rarely what was said."""
    return list(dict.fromkeys(m.group(0).rstrip("'.-") for m in _LATIN.finditer(str(text))))
