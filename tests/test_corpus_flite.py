"""flite voices in core.data.synth (flite.py): labels against CMUdict, boundaries, manifest, a missing voice."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from core.cli import main
from core.data.corpus import read_manifest
from core.data.frames import CorpusError
from core.data.synth import flite, plan, run
from core.data.synth.run import synthesize, synthesize_texts
from core.phones import PHONES, read_lab, to_phone
from core.voice.align import pronounce

FLITE_VOICES = ("flite_awb", "flite_rms", "flite_slt", "flite_kal16")
# words with a single CMUdict pronunciation (flite speaks through its cmulex, from CMUdict)
TEXT = "She sells thick yellow jam, cheap fish, big red shoes."


def _require_flite() -> None:
    """flite is a test dependency (packages-dev.txt, installed by `make test`): fail, never skip."""
    assert shutil.which("flite"), "flite is not installed: run `make test` (it installs packages-dev.txt)"


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    _require_flite()
    out = tmp_path_factory.mktemp("flite")
    items = [(f"u_{v}", v, TEXT) for v in FLITE_VOICES]
    return out, synthesize_texts(out, items)


def test_flite_phones_match_cmudict(spoken):
    expected = [to_phone(p) for w in pronounce(TEXT) for p in w.phones]
    for wav in spoken[1]:
        got = [s.phone for s in read_lab(wav.with_suffix(".lab")) if s.phone != "sil"]
        assert got == expected, wav.name


def test_flite_boundaries_increase_inside_the_audio(spoken):
    for wav in spoken[1]:
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels) == (16000, 1)
        segs = read_lab(wav.with_suffix(".lab"))
        assert segs[0].start == 0.0
        assert all(s.end > s.start for s in segs)
        assert all(abs(a.end - b.start) < 1e-6 for a, b in zip(segs, segs[1:], strict=False))
        assert abs(segs[-1].end - info.duration) < 1e-3, wav.name
        assert segs[0].phone == "sil" and segs[-1].phone == "sil"
        # the loud part of the audio lies inside the spoken (non-silence) segments
        x, sr = sf.read(str(wav))
        loud = np.flatnonzero(np.abs(x) > 0.1 * np.abs(x).max()) / sr
        spoken_span = (segs[1].start, segs[-2].end)
        assert spoken_span[0] - 0.05 <= loud[0] and loud[-1] <= spoken_span[1] + 0.05


def test_segments_clip_to_the_audio():
    segs = flite._flite_segments("pau:0.2 s:0.5 iy:0.9 pau:1.3", 1.0, "u")
    assert [(s.start, s.end, s.phone) for s in segs] == [
        (0.0, 0.2, "sil"),
        (0.2, 0.5, "s"),
        (0.5, 0.9, "iy"),
        (0.9, 1.0, "sil"),
    ]
    segs = flite._flite_segments("pau:0.2 s:0.5", 0.8, "u")
    assert segs[-1].end == 0.8 and segs[-1].phone == "sil"
    with pytest.raises(CorpusError, match="unexpected segment"):
        flite._flite_segments("pau:0.2 nonsense", 1.0, "u")


def test_corpus_with_every_voice_names_voice_and_engine(tmp_path):
    _require_flite()
    synthesize(tmp_path, 7, seed=3, voices=plan.DEFAULT_VOICES[3:] + ("kal", "ked", "slt"))
    rows = read_manifest(tmp_path)
    assert [r["voice"] for r in rows] == [*FLITE_VOICES, "kal", "ked", "slt"]
    assert [r["engine"] for r in rows] == ["flite"] * 4 + ["festival"] * 3
    for r in rows:
        segs = read_lab(tmp_path / f"{r['id']}.lab")
        assert all(s.phone in PHONES for s in segs)
        tol = 1e-3 if r["engine"] == "flite" else 0.05  # Festival's last pause may stop short of the audio
        assert abs(segs[-1].end - float(r["seconds"])) < tol


def test_same_seed_same_flite_files(tmp_path):
    _require_flite()
    a, b = tmp_path / "a", tmp_path / "b"
    synthesize(a, 4, seed=9, voices=FLITE_VOICES)
    synthesize(b, 4, seed=9, voices=FLITE_VOICES, workers=1)
    for p in sorted(a.iterdir()):
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name


def test_voice_not_installed_is_one_clear_message(tmp_path, monkeypatch, capsys):
    _require_flite()
    monkeypatch.setattr(run, "flite_voices", lambda flite: ["kal", "slt"])
    with pytest.raises(CorpusError, match=r"no voice 'awb' \(it lists kal, slt\); install Debian's flite"):
        synthesize(tmp_path / "x", 2, voices=("flite_awb",))
    assert not (tmp_path / "x").exists()  # nothing written
    assert main(["synth", "--utts", "2", "--out", str(tmp_path / "y"), "--voices", "flite_awb"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_flite_program_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(run.shutil, "which", lambda name: None if name == "flite" else "/usr/bin/" + name)
    with pytest.raises(
        CorpusError, match="Flite is not installed; install it with: sudo apt-get install flite"
    ):
        synthesize(tmp_path, 2, voices=("flite_rms",))
    with pytest.raises(CorpusError, match="Unknown voice.*flite_bob"):
        synthesize(tmp_path, 2, voices=("flite_bob",))
