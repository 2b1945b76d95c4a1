"""English speech with phoneme timings from eSpeak NG (Debian's ``espeak-ng``), through its C library.

eSpeak NG is a formant synthesiser: no recorded speaker is behind it, but its voice variants
(``espeak-ng-data/voices/!v``: formant scales, pitch range, breathiness, the Klatt engine) and its
accents give speakers of both sexes that no Festival or flite voice covers. ``core.data.synth`` uses
it for the ``espeak_*`` voices.

Timings: ``espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, PHONEME_EVENTS | PHONEME_IPA)``
makes the synth callback receive an event of type ``PHONEME`` (7) when each phoneme starts,
with its IPA name and its ``sample`` (at the library's 22,050 Hz). A phoneme lasts until the
next one starts; audio before the first and after the last phoneme, and phonemes with an empty
name (eSpeak's pauses), are silence. Two fixes, both needed by what eSpeak emits:

- eSpeak builds a post-vocalic /l/ (``sells``) inside the vowel before it, and then emits its
  event at the same sample as the next phoneme's: a phoneme of zero length takes the second half
  of the span of the phoneme before it.
- Some events name two phonemes in one (``ɑːɹ`` in ``car``, ``əl`` in ``little``, ``aɪɚ``): the
  name is cut into units (``IPA_UNITS``, longest first) and the span is shared equally among them.

Each unit maps to the English phone set by ``IPA_TO_PHONE`` (``ɾ`` -> t as TIMIT's flap, ``ʔ`` -> t,
``x`` -> k, ``ʍ`` -> w); a name with an unknown unit is an error naming it, never a guessed label.

The library is loaded with ``ctypes`` (it is not thread-safe and keeps global state): synthesis
runs in a child process that calls ``_main(BATCH.json)`` (``_CHILD``; ``python -m
core.data.synth.espeak BATCH.json`` does the same), one per batch of utterances
(``_run_espeak_batch``); ``speak`` is the same code in the calling process.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio import SAMPLE_RATE as _CORPUS_RATE
from core.data.frames import CorpusError
from core.data.synth.plan import ESPEAK_WPM, VOICES, _Utt, _warp_to_16k, write_utterance
from core.phones import Segment, write_lab

LIBRARY = "libespeak-ng.so.1"
SAMPLE_RATE = 22050  # the rate espeak_Initialize reports for this library
APT_PACKAGE = "espeak-ng"

# espeak_EVENT_TYPE and options (speak_lib.h)
_EV_LIST_TERMINATED, _EV_PHONEME = 0, 7
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS, _INITIALIZE_PHONEME_IPA = 0x0001, 0x0002
_RATE, _PITCH, _RANGE = 1, 3, 4
# What a child process runs on a batch file (a module of the package it is in could not be run
# with -m without Python warning that the package had already imported it).
_CHILD = "import sys; from core.data.synth.espeak import _main; sys.exit(_main(sys.argv[1]))"

IPA_TO_PHONE: dict[str, str] = {
    # vowels (US and UK/Scottish accents)
    "iː": "iy", "i": "iy", "eː": "ey", "e:": "ey", "a:": "aa", "ɪ": "ih", "ᵻ": "ih", "ɪə": "ih", "eɪ": "ey", "e": "ey", "ɛ": "eh",
    "eə": "eh", "ɛː": "eh", "æ": "ae", "a": "ae", "aː": "aa", "ɑː": "aa", "ɑ": "aa", "ɒ": "aa",
    "ʌ": "ah", "ɐ": "ax", "ə": "ax", "ɚ": "er", "ɜː": "er", "ɜ": "er", "ɔː": "ao", "ɔ": "ao",
    "oː": "ao", "oʊ": "ow", "əʊ": "ow", "o": "ow", "ʊ": "uh", "ʊə": "uh", "uː": "uw", "u": "uw",
    "ʉ": "uw", "ʉː": "uw", "aɪ": "ay", "ɑɪ": "ay", "ʌɪ": "ay", "ɔɪ": "oy", "oɪ": "oy", "aʊ": "aw",
    "ʌʊ": "aw",
    # consonants
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "ɡ": "g", "g": "g", "tʃ": "ch", "dʒ": "jh",
    "f": "f", "v": "v", "θ": "th", "ð": "dh", "s": "s", "z": "z", "ʃ": "sh", "ʒ": "zh", "h": "hh",
    "m": "m", "n": "n", "ŋ": "ng", "l": "l", "ɫ": "l", "ɹ": "r", "r": "r", "ɾ": "t", "ʔ": "t",
    "w": "w", "ʍ": "w", "j": "y", "x": "k", "n̩": "n", "l̩": "l", "m̩": "m",
}
# Units a name is cut into, longest first; marks that do not change the phone are dropped.
IPA_UNITS = tuple(sorted(IPA_TO_PHONE, key=len, reverse=True))
_DROPPED = "ˈˌ̃ʰ̪ʲ"


class EspeakError(RuntimeError):
    """eSpeak NG is missing, has no such voice, or emitted something this module cannot label."""


def ipa_phones(name: str) -> list[str]:
    """The English phones of one eSpeak IPA phoneme name (``"ɑːɹ"`` -> ``["aa", "r"]``)."""
    s = "".join(c for c in name if c not in _DROPPED)
    out: list[str] = []
    while s:
        for unit in IPA_UNITS:
            if s.startswith(unit):
                out.append(IPA_TO_PHONE[unit])
                s = s[len(unit) :]
                break
        else:
            raise EspeakError(f"eSpeak NG phoneme {name!r} has a unit with no English phone: {s!r}.")
    return out


def events_to_segments(events: list[tuple[str, int]], n_samples: int, sr: int = SAMPLE_RATE) -> list[tuple[float, float, str]]:
    """(start s, end s, phone) segments covering ``[0, n_samples / sr)`` from phoneme events
    ``(IPA name, start sample)`` in order; the rules of the module docstring."""
    evs = [(name, min(max(int(s), 0), n_samples)) for name, s in events]
    starts = [s for _, s in evs]
    if any(b < a for a, b in zip(starts, starts[1:], strict=False)):
        raise EspeakError("eSpeak NG phoneme events went backwards in time.")
    # spans [start, next start); a zero-length phoneme takes the second half of the one before
    spans = []
    for i, (name, s) in enumerate(evs):
        e = evs[i + 1][1] if i + 1 < len(evs) else n_samples
        spans.append([name, s, e])
    for i in range(1, len(spans)):
        if spans[i][2] <= spans[i][1] and spans[i][0] and spans[i - 1][2] - spans[i - 1][1] >= 2:
            prev = spans[i - 1]
            mid = (prev[1] + prev[2]) // 2
            spans[i][1], spans[i][2] = mid, prev[2]
            prev[2] = mid
    segs: list[tuple[int, int, str]] = []

    def add(a: int, b: int, phone: str) -> None:
        if b <= a:
            return
        if segs and segs[-1][2] == phone == "sil":
            segs[-1] = (segs[-1][0], b, "sil")
        else:
            segs.append((a, b, phone))

    add(0, spans[0][1] if spans else n_samples, "sil")
    for name, a, b in spans:
        if b <= a:
            continue
        phones = ipa_phones(name) if name else ["sil"]
        cuts = np.linspace(a, b, len(phones) + 1).round().astype(int)
        for p, x, y in zip(phones, cuts[:-1], cuts[1:], strict=True):
            add(int(x), int(y), p)
    return [(a / sr, b / sr, p) for a, b, p in segs]


@dataclass(frozen=True)
class Spoken:
    audio: np.ndarray  # (n,) int16 at SAMPLE_RATE
    segments: list[tuple[float, float, str]]


class _Engine:
    """The loaded library with its callback; one per process."""

    def __init__(self) -> None:
        try:
            self.lib = ctypes.CDLL(LIBRARY)
        except OSError:
            raise EspeakError(
                f"eSpeak NG is not installed; install it with: sudo apt-get install {APT_PACKAGE}."
            ) from None

        class _Id(ctypes.Union):
            _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

        class _Event(ctypes.Structure):
            _fields_ = [
                ("type", ctypes.c_int),
                ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int),
                ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int),
                ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p),
                ("id", _Id),
            ]

        proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[str, int]] = []

        def callback(wav, n, ev):  # noqa: ANN001
            if n > 0 and wav:
                self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while ev[i].type != _EV_LIST_TERMINATED:
                if ev[i].type == _EV_PHONEME:
                    self.events.append((ev[i].id.string.decode("utf-8", "replace"), int(ev[i].sample)))
                i += 1
            return 0

        self._callback = proto(callback)  # kept alive as long as the engine
        sr = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA
        )
        if sr != SAMPLE_RATE:
            raise EspeakError(f"eSpeak NG did not start (espeak_Initialize returned {sr}).")
        self.lib.espeak_SetSynthCallback(self._callback)
        self.voice = None

    def speak(self, text: str, voice: str, rate: int, pitch: int, range_: int) -> Spoken:
        if voice != self.voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"eSpeak NG has no voice {voice!r} (espeak-ng --voices lists them).")
            self.voice = voice
        for param, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, range_)):
            self.lib.espeak_SetParameter(param, int(value), 0)
        self.chunks, self.events = [], []
        data = text.encode("utf-8")
        if self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 0, None, None) != 0:
            raise EspeakError(f"eSpeak NG could not speak {text[:40]!r}.")
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        if audio.size == 0 or not self.events:
            raise EspeakError(f"eSpeak NG produced no speech for {text[:40]!r}.")
        return Spoken(audio.astype(np.int16), events_to_segments(self.events, audio.size))


_ENGINE: _Engine | None = None


def speak(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, range_: int = 50) -> Spoken:
    """Speak ``text`` with eSpeak NG's ``voice`` (e.g. ``"en-us+f2"``); words per minute ``rate``,
    base ``pitch`` and pitch ``range_`` on eSpeak's 0-100 scales."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE.speak(text, voice, rate, pitch, range_)


def available() -> bool:
    """Whether the library can be loaded."""
    try:
        ctypes.CDLL(LIBRARY)
    except OSError:
        return False
    return True


def _main(batch: str) -> int:
    """Speak a batch: ``BATCH.json`` holds ``{"dir": D, "utts": [{"uid", "voice", "text", "rate",
    "pitch", "range"}, ...]}``; writes ``D/<uid>.raw`` (int16 samples) and ``D/<uid>.json``
    (segments). Errors: one line on stderr, exit code 2."""
    spec = json.loads(Path(batch).read_text(encoding="utf-8"))
    out = Path(spec["dir"])
    try:
        for u in spec["utts"]:
            sp = speak(u["text"], u["voice"], u["rate"], u["pitch"], u["range"])
            sp.audio.tofile(out / f"{u['uid']}.raw")
            (out / f"{u['uid']}.json").write_text(json.dumps(sp.segments), encoding="utf-8")
    except EspeakError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def _run_espeak_batch(voice: str, utts: Sequence[_Utt], out_dir: Path, program: str) -> list[tuple[_Utt, float]]:
    """One child process per batch, ``_CHILD`` on ``BATCH.json`` (the library keeps global state and
    is not thread-safe); labels from its phoneme events (the rules of the module docstring)."""
    name = VOICES[voice][0]
    done = []
    with tempfile.TemporaryDirectory(prefix="dnnlens_espeak_") as tmp_name:
        tmp = Path(tmp_name)
        spec = {
            "dir": str(tmp),
            "utts": [
                {
                    "uid": u.uid,
                    "voice": name,
                    "text": u.text,
                    "rate": round(ESPEAK_WPM / u.stretch),
                    "pitch": round(u.f0_mean),
                    "range": round(u.f0_std),
                }
                for u in utts
            ],
        }
        (tmp / "batch.json").write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
        proc = subprocess.run(
            [program, "-c", _CHILD, str(tmp / "batch.json")],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            err = proc.stderr.strip().splitlines()
            raise CorpusError(f"eSpeak NG failed on voice {voice} ({err[-1] if err else proc.returncode}).")
        for u in utts:
            raw = np.fromfile(tmp / f"{u.uid}.raw", dtype=np.int16)
            segs = [Segment(a, b, p) for a, b, p in json.loads((tmp / f"{u.uid}.json").read_text(encoding="utf-8"))]
            done.append((u, write_utterance(out_dir, u, _warp_to_16k(raw, SAMPLE_RATE, u.warp_pct), segs)))
    return done


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
