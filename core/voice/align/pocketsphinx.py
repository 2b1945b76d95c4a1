"""Forced alignment by pocketsphinx 5 (its English acoustic model, trained on real speech): the
default aligner of a student's English recording (``core.voice.align``'s docstring)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.audio import SAMPLE_RATE
from core.models.inference import AlignError
from core.phones import SILENCE, PhoneError, Segment, to_phone
from core.text import N_
from core.voice.align.pronunciation import Word, pronounce
from core.voice.align.segments import FRAME_STEP, MIN_FRAMES, Alignment, _check_length


def _decoder(words: Sequence[Word]):
    """A pocketsphinx decoder for one alignment, whose dictionary holds only the transcript's
    words (every CMUdict pronunciation, alternatives named ``word(2)`` ... as in pocketsphinx's own
    dictionary, so it still chooses among them) and which loads no language model (forced
    alignment does not use one).

    One decoder per alignment: a decoder keeps state from one utterance to the next (resetting
    its cepstral mean, switching its noise removal or CMN off did not make a reused one give the
    same boundaries as a fresh one; measured on 8 utterances), so reusing one would make a
    recording's alignment depend on the recordings aligned before it, another user's included.
    Built this way it takes 10-30 ms instead of about 0.6 s with the default dictionary (135,000
    words) and language model, and gives the same alignments (tests/test_align.py).
    """
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise AlignError(N_("pocketsphinx is not installed; install it with: pip install pocketsphinx==5.1.1")) from None
    lines = []
    for word in {w.text: w for w in words}.values():
        for k, pron in enumerate(word.arpabet):
            name = word.text if k == 0 else f"{word.text}({k + 1})"
            lines.append(f"{name} {' '.join(re.sub(r'[0-9]', '', p) for p in pron)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "words.dict"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="ERROR", lm=None, dict=str(path))


def _ps_phone(name: str, stressed: Sequence[str] | None, k: int) -> str:
    if name.upper() == "SIL":
        return SILENCE
    if stressed is not None and k < len(stressed):
        return to_phone(stressed[k])
    return to_phone(name)


def align_pocketsphinx(signal: np.ndarray, text: str, *, duration: float | None = None) -> Alignment:
    """Forced alignment of ``text`` in a 16 kHz mono signal by pocketsphinx (``core.voice.align``'s docstring)."""
    import time

    t0 = time.perf_counter()
    words = pronounce(text)
    signal = np.asarray(signal, dtype=np.float32)
    duration = len(signal) / SAMPLE_RATE if duration is None else duration
    n_frames = int(len(signal) // (SAMPLE_RATE * FRAME_STEP))
    _check_length(sum(len(w.phones) for w in words), n_frames, MIN_FRAMES)
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    d = _decoder(words)
    try:
        d.set_align_text(" ".join(w.text for w in words))
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        d.set_alignment()
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        result = [(w.name, w.start, w.duration, [(p.name, p.start, p.duration) for p in w])
                  for w in (d.get_alignment() or [])]
    except (RuntimeError, ValueError) as exc:
        raise AlignError(
            N_(
                "pocketsphinx could not align the transcript with this recording; check that the "
                "transcript is what was said ({detail})."
            ),
            detail=exc,
        ) from None
    if not result:
        raise AlignError(N_("pocketsphinx could not align the transcript with this recording; check that "
                            "the transcript is what was said."))
    by_text = {w.text: w for w in words}
    phones: list[Segment] = []
    word_segs: list[Segment] = []
    for wname, wstart, wdur, plist in result:
        base = re.sub(r"\(\d+\)$", "", wname)
        stressed = None
        if base in by_text:
            plain = [p.upper() for p, _, _ in plist]
            stressed = next((v for v in by_text[base].arpabet
                             if [re.sub(r"\d", "", a) for a in v] == plain), None)
            word_segs.append(Segment(wstart * FRAME_STEP, min(duration, (wstart + wdur) * FRAME_STEP), base))
        for k, (pname, pstart, pdur) in enumerate(plist):
            start = min(duration, pstart * FRAME_STEP)
            end = min(duration, (pstart + pdur) * FRAME_STEP)
            try:
                phone = _ps_phone(pname, stressed, k)
            except PhoneError:
                phone = SILENCE  # noise models (+NSN+ ...) are not speech
            if phones and phones[-1].phone == SILENCE == phone:
                phones[-1] = Segment(phones[-1].start, end, SILENCE)
            else:
                phones.append(Segment(start, end, phone))
    if phones and phones[-1].end < duration:  # pocketsphinx drops the last partial frame
        phones[-1] = Segment(phones[-1].start, duration, phones[-1].phone)
    return Alignment(tuple(phones), tuple(word_segs), "pocketsphinx", duration, time.perf_counter() - t0)
