"""Japanese synthesis (Open JTalk), its sentences, and the Japanese corpus as frames."""

from __future__ import annotations

import difflib
import filecmp

import numpy as np
import pytest
import soundfile as sf

from core.data import CorpusFrames, load_corpus, read_manifest
from core.data.synth.openjtalk import (
    ALPHAS,
    HALF_TONES,
    SynthError,
    plan,
    read_trace,
    synthesize_ja,
    synthesize_texts_ja,
    to_classes,
)
from core.data.synth.sentences_ja import MORAE, make_sentences_ja
from core.features import FeatureConfig, n_frames_for
from core.phones import JAPANESE, read_lab
from core.voice.align.readings_ja import g2p


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("ja")
    synthesize_ja(out, 3, seed=3)
    return out


def _speech(segs):
    """Phones without the leading and trailing silence."""
    phones = [s.phone for s in segs]
    while phones and phones[0] == "sil":
        phones.pop(0)
    while phones and phones[-1] == "sil":
        phones.pop()
    return phones


def test_phones_match_pyopenjtalk_g2p(corpus, tmp_path):
    rows = read_manifest(corpus)
    assert [r["id"] for r in rows] == ["ja_s3_00000", "ja_s3_00001", "ja_s3_00002"]
    # Debian's dictionary (NAIST-jdic) and pyopenjtalk-plus's differ on a few words (e.g. rendaku:
    # も立て is "mo d a t e" in one, "mo t a t e" in the other), so corpus sentences of frequent words
    # agree phone by phone, almost everywhere; docs/MODELS.md gives the share over the whole corpus.
    same = total = 0
    for r in rows:
        ours, theirs = _speech(read_lab(corpus / f"{r['id']}.lab", phone_set=JAPANESE)), g2p(r["text"])
        sm = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
        same += sum(b.size for b in sm.get_matching_blocks())
        total += max(len(ours), len(theirs))
    assert same / total > 0.97
    # chosen words: /s/ vs /sh/, /b/ vs /d/, palatalised consonants, N, cl, long vowels; and
    # nonsense words of every mora (hiragana: read letter by letter by both): exactly the same
    texts = [
        "しんぶんときっぷをさがしました。りょこうでバスとでんしゃにのった。",
        "、".join(
            "か" + "".join(MORAE[i : i + 3]).replace("っ", "っか") + "と" for i in range(0, len(MORAE), 3)
        ),
    ]
    synthesize_texts_ja(tmp_path, [(f"t{i}", t) for i, t in enumerate(texts)])
    for i, text in enumerate(texts):
        assert _speech(read_lab(tmp_path / f"t{i}.lab", phone_set=JAPANESE)) == g2p(text)
    assert {"sh", "s", "b", "d", "ry", "N", "cl"} <= set(g2p(texts[0]))
    assert set(g2p(texts[1])) == set(JAPANESE.phones)  # every class of the phone set is heard


def test_timings_increase_and_lie_inside_the_audio(corpus):
    for r in read_manifest(corpus):
        segs = read_lab(corpus / f"{r['id']}.lab", phone_set=JAPANESE)
        info = sf.info(str(corpus / f"{r['id']}.wav"))
        assert info.samplerate == 16000 and info.channels == 1
        duration = info.frames / info.samplerate
        assert segs[0].start == 0.0
        for a, b in zip(segs, segs[1:], strict=False):
            assert a.end == pytest.approx(b.start, abs=1e-6)  # contiguous
            assert b.start > a.start
        assert all(s.end > s.start for s in segs)
        # the last end is the audio's end (resampling rounds the length to a sample)
        assert segs[-1].end == pytest.approx(duration, abs=2 / 16000)
        assert float(r["seconds"]) == pytest.approx(duration, abs=1e-4)


def test_same_seed_identical_files(corpus, tmp_path):
    synthesize_ja(tmp_path, 3, seed=3, workers=1)
    names = sorted(p.name for p in corpus.iterdir() if not p.name.startswith("."))
    assert names == sorted(p.name for p in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(corpus, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == 3 * 2 + 2


def test_manifest_names_the_settings(corpus):
    rows = read_manifest(corpus)
    for r, u in zip(rows, plan(3, 3, ("mei_normal",)), strict=True):
        assert (
            r["voice"]
            == u.setting
            == f"mei_normal_a{round(float(r['alpha']) * 100)}_fm{int(r['half_tones']):+d}"
        )
        assert float(r["alpha"]) in ALPHAS and int(r["half_tones"]) in HALF_TONES
        assert r["text"] == u.text


def test_corpus_loads_with_the_japanese_phone_set(corpus, tmp_path):
    cfg = FeatureConfig()
    frames = load_corpus(corpus, cfg)
    assert frames.phone_set is JAPANESE
    assert frames.labels.max() < len(JAPANESE) and len(frames) == sum(
        n_frames_for(sf.info(str(corpus / f"{r['id']}.wav")).frames, cfg) for r in read_manifest(corpus)
    )
    # every frame's label is the phone of the .lab segment holding its centre
    first = read_lab(corpus / "ja_s3_00000.lab", phone_set=JAPANESE)
    for t in range(0, int(frames.utt_starts[1]), 7):
        centre = t * 0.01 + 0.0125
        seg = next((s for s in first if s.start <= centre < s.end), first[-1])
        assert JAPANESE.phones[frames.labels[t]] == seg.phone
    # the frames npz names its phone set and reads back as Japanese
    again = CorpusFrames.load(frames.save(tmp_path / "v.npz"))
    assert again.phone_set is JAPANESE and np.array_equal(again.labels, frames.labels)
    assert load_corpus(corpus, cfg).phone_set is JAPANESE  # from the cache


def test_sentences_cover_every_mora_and_are_deterministic():
    texts = make_sentences_ja(80, seed=4)
    assert texts == make_sentences_ja(80, seed=4) and texts != make_sentences_ja(80, seed=5)
    joined = "".join(texts)
    assert [m for m in MORAE if m not in joined] == []
    assert all(t.endswith("。") for t in texts)


def test_read_trace_takes_the_phone_between_minus_and_plus(tmp_path):
    trace = tmp_path / "t.txt"
    trace.write_text(
        "[Text analysis result]\nx\n\n[Output label]\n"
        "0 2400000 xx^xx-sil+ky=o/A:xx\n2400000 3250000 xx^sil-ky+o=o/A:0\n3250000 3850000 sil^ky-o+U=s/A:0\n"
        "3850000 4000000 ky^o-U+pau=s/A:0\n4000000 5000000 o^U-pau+sil=xx/A:xx\n5000000 6000000 U^pau-sil+xx=xx/A:xx\n"
        "\n[Global parameter]\n",
        encoding="utf-8",
    )
    raw = read_trace(trace)
    assert [s.phone for s in raw] == ["sil", "ky", "o", "U", "pau", "sil"]
    assert (raw[1].start, raw[1].end) == (0.24, 0.325)
    classes = to_classes(raw)
    assert [(s.phone, s.start, s.end) for s in classes] == [
        ("sil", 0.0, 0.24),
        ("ky", 0.24, 0.325),
        ("o", 0.325, 0.385),
        ("u", 0.385, 0.4),
        ("sil", 0.4, 0.6),
    ]


def test_bad_requests(tmp_path):
    with pytest.raises(SynthError, match="at least 1"):
        synthesize_ja(tmp_path, 0)
    with pytest.raises(SynthError, match="Unknown Japanese voice"):
        synthesize_ja(tmp_path, 1, voices=("nobody",))
    assert not (tmp_path / "manifest.csv").exists()


def test_every_hts_voice_pyopenjtalk_plus_ships_is_found_and_spoken(tmp_path, monkeypatch):
    """voice_files() lists every HTS voice file in pyopenjtalk-plus's htsvoice folder (its
    LICENSE_*.htsvoice texts left out; 0.4.1.post10 ships one voice, mei_normal: docs/MODELS.md),
    and a corpus without --voices takes turns over all of them."""
    import importlib.util
    import shutil
    from pathlib import Path

    from core.data.synth import openjtalk as corpus_ja

    folder = Path(next(iter(importlib.util.find_spec("pyopenjtalk").submodule_search_locations))) / "htsvoice"
    shipped = sorted(folder.glob("*.htsvoice"))
    voices = corpus_ja.voice_files()
    assert set(voices.values()) == {p for p in shipped if p.read_bytes()[:8] == b"[GLOBAL]"}
    assert voices and not any(n.startswith("LICENSE") for n in voices)
    assert "mei_normal" in voices
    # two voices on disk (a copy of the shipped one under another name): both speak, in turn
    two = {"mei_normal": voices["mei_normal"], "second": tmp_path / "second.htsvoice"}
    shutil.copyfile(voices["mei_normal"], two["second"])
    monkeypatch.setattr(corpus_ja, "voice_files", lambda: two)
    synthesize_ja(tmp_path / "c", 2, seed=3, workers=1)
    rows = read_manifest(tmp_path / "c")
    assert [r["voice"].rsplit("_a", 1)[0] for r in rows] == ["mei_normal", "second"]
