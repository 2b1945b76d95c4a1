"""eSpeak NG voices (core.espeak, core.corpus): IPA names to phones, the timing rules, labels of
real synthesis against a known pronunciation and against the audio, seeding, a missing library."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core import data as corpus
from core.data import ESPEAK_VOICES, CorpusError, read_manifest, synthesize
from core.data.synth import espeak
from core.data.synth.espeak import EspeakError, events_to_segments, ipa_phones
from core.phones import PHONES, read_lab

# espeak-ng's en-us pronunciation, checked by ear-independent means: each word's phones as eSpeak
# emits them (IPA) mapped by IPA_TO_PHONE
TEXT = "She sells sea shells."
EXPECTED = ["sh", "iy", "s", "eh", "l", "z", "s", "iy", "sh", "eh", "l", "z"]


def _require_espeak() -> None:
    """espeak-ng is a test dependency (packages-dev.txt, installed by `make test`): fail, never skip."""
    assert espeak.available(), "espeak-ng is not installed: run `make test` (it installs packages-dev.txt)"


def test_ipa_names_map_to_phones():
    assert ipa_phones("ʃ") == ["sh"]
    assert ipa_phones("iː") == ["iy"] and ipa_phones("i") == ["iy"]
    assert ipa_phones("ɑːɹ") == ["aa", "r"]  # two phonemes in one event
    assert ipa_phones("aɪɚ") == ["ay", "er"]
    assert ipa_phones("tʃ") == ["ch"] and ipa_phones("dʒ") == ["jh"]
    assert ipa_phones("ɾ") == ["t"]
    assert all(p in PHONES for p in espeak.IPA_TO_PHONE.values())
    with pytest.raises(EspeakError, match="'ʘ'"):
        ipa_phones("ʘ")


def test_event_rules():
    sr = 1000
    # silence before the first event; a zero-length l takes the second half of the vowel before;
    # a two-phoneme name shares its span; an empty name is a pause; the tail is silence
    events = [("s", 100), ("ɛ", 200), ("l", 400), ("z", 400), ("ɑːɹ", 500), ("", 700), ("p", 800)]
    segs = events_to_segments(events, 1000, sr)
    assert segs == [
        (0.0, 0.1, "sil"),
        (0.1, 0.2, "s"),
        (0.2, 0.3, "eh"),
        (0.3, 0.4, "l"),
        (0.4, 0.5, "z"),
        (0.5, 0.6, "aa"),
        (0.6, 0.7, "r"),
        (0.7, 0.8, "sil"),
        (0.8, 1.0, "p"),
    ]
    # adjacent silences merge; events past the audio are clipped to it
    segs = events_to_segments([("", 0), ("", 50), ("t", 60), ("", 2000)], 100, sr)
    assert segs == [(0.0, 0.06, "sil"), (0.06, 0.1, "t")]
    with pytest.raises(EspeakError, match="backwards"):
        events_to_segments([("s", 50), ("t", 10)], 100, sr)


def test_speak_phones_and_boundaries():
    _require_espeak()
    sp = espeak.speak(TEXT, "en-us+f2")
    assert sp.audio.dtype == np.int16 and sp.audio.size > espeak.SAMPLE_RATE // 2
    assert [p for _, _, p in sp.segments if p != "sil"] == EXPECTED
    starts = [a for a, _, _ in sp.segments]
    assert starts[0] == 0.0 and all(b > a for a, b in zip(starts, starts[1:], strict=False))
    assert all(b > a for a, b, _ in sp.segments)
    assert abs(sp.segments[-1][1] - sp.audio.size / espeak.SAMPLE_RATE) < 1e-9


def test_labels_follow_the_audio():
    """The labels sit on the sounds: /s/ and /sh/ frames cross zero far more often than vowels."""
    _require_espeak()
    sp = espeak.speak("She sells sea shells by the sea shore, says Sasha.", "en-us+m3")
    x = sp.audio.astype(np.float64)
    rate = {}
    for a, b, p in sp.segments:
        seg = x[int(a * espeak.SAMPLE_RATE) : int(b * espeak.SAMPLE_RATE)]
        if seg.size > 200:
            rate.setdefault(p, []).append(np.mean(np.abs(np.diff(np.sign(seg))) > 0))
    fric = np.mean(rate["s"] + rate["sh"])
    vowel = np.mean(rate["iy"] + rate["eh"])
    assert fric > 3 * vowel, (fric, vowel)


def test_unknown_voice_is_one_message():
    _require_espeak()
    with pytest.raises(EspeakError, match="no voice 'xx-nonexistent'"):
        espeak.speak("hello", "xx-nonexistent")


def test_synth_espeak_corpus(tmp_path):
    _require_espeak()
    voices = ESPEAK_VOICES[:3]
    synthesize(tmp_path / "a", 6, seed=5, voices=voices)
    rows = read_manifest(tmp_path / "a")
    assert [r["voice"] for r in rows] == [*voices, *voices]
    assert {r["engine"] for r in rows} == {"espeak"}
    for r in rows:
        wav = tmp_path / "a" / f"{r['id']}.wav"
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels) == (16000, 1)
        segs = read_lab(wav.with_suffix(".lab"))
        assert segs[0].start == 0.0 and all(s.end > s.start for s in segs)
        assert all(abs(a.end - b.start) < 1e-6 for a, b in zip(segs, segs[1:], strict=False))
        assert abs(segs[-1].end - info.duration) < 1e-3
        assert abs(float(r["seconds"]) - info.duration) < 1e-3
    # seeded: the same files with one worker
    synthesize(tmp_path / "b", 6, seed=5, voices=voices, workers=1)
    for r in rows:
        for ext in (".wav", ".lab"):
            a = (tmp_path / "a" / f"{r['id']}{ext}").read_bytes()
            assert a == (tmp_path / "b" / f"{r['id']}{ext}").read_bytes(), r["id"] + ext


def test_missing_library_is_one_message(tmp_path, monkeypatch):
    monkeypatch.setattr(espeak, "LIBRARY", "libespeak-ng-missing.so.9")
    out = tmp_path / "never"
    with pytest.raises(CorpusError, match="apt-get install espeak-ng"):
        synthesize(out, 2, voices=("espeak_f1",))
    assert not out.exists()


def test_default_voices_are_the_recorded_ones():
    assert corpus.DEFAULT_VOICES == tuple(v for v in corpus.VOICES if corpus.SPEAKERS[v] != "espeak")
    assert set(ESPEAK_VOICES) == {v for v in corpus.VOICES if corpus.SPEAKERS[v] == "espeak"}
