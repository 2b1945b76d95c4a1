"""core.corpus_import: tiny TIMIT-layout and MFA TextGrid corpora written here, imported, and read
back frame by frame against the labels (brute force per frame centre); bad layouts."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
import soundfile as sf
from praatio import textgrid
from praatio.utilities.constants import Interval

from core.cli import main
from core.data import load_corpus
from core.data.importers import TIMIT_TO_PHONE, CorpusImportError, fold_timit, import_corpus
from core.features import FeatureConfig
from core.phones import PHONES, to_phone

CFG = FeatureConfig()
RELEASES = {"b", "d", "g", "p", "t", "k", "ch", "jh"}
# (speaker path, utterance, .PHN rows in samples at 16 kHz)
TIMIT_UTTS = [
    (
        "TRAIN/DR1/FABC0",
        "SA1",
        [
            (0, 3000, "h#"),
            (3000, 4000, "sh"),
            (4000, 6000, "iy"),
            (6000, 6500, "tcl"),
            (6500, 7000, "t"),
            (7000, 7600, "q"),
            (7600, 9000, "ix"),
            (9000, 9400, "kcl"),
            (9400, 10400, "s"),
            (10400, 11000, "pau"),
            (11000, 12800, "h#"),
        ],
    ),
    (
        "TEST/DR2/MXYZ0",
        "SX10",
        [
            (0, 2500, "h#"),
            (2500, 3300, "dcl"),
            (3300, 4100, "jh"),
            (4100, 6000, "ux"),
            (6000, 6900, "dx"),
            (6900, 8800, "axr"),
            (8800, 9700, "el"),
            (9700, 11000, "nx"),
            (11000, 11300, "epi"),
            (11300, 12000, "hv"),
            (12000, 13600, "eng"),
            (13600, 16000, "h#"),
        ],
    ),
]


def _timit_frame_oracle(rows, n_frames: int, rate: int) -> np.ndarray:
    """Per frame: the TIMIT row holding its centre, folded by the table; a closure takes the release
    after it, a q the row after it (independent of fold_timit's segment building)."""
    out = np.empty(n_frames, dtype=np.int64)
    for t in range(n_frames):
        c = (t * CFG.winstep + CFG.winlen / 2) * rate
        k = next((i for i, r in enumerate(rows) if r[0] <= c < r[1]), len(rows) - 1)
        while rows[k][2] == "q":
            k += 1
        lab = rows[k][2]
        if lab.endswith("cl") and k + 1 < len(rows) and rows[k + 1][2] in RELEASES:
            lab = rows[k + 1][2]
        out[t] = PHONES.index(TIMIT_TO_PHONE[lab])
    return out


def _noise(n: int, seed: int) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def write_timit(root, sphere: bool = True):
    for k, (spk, utt, rows) in enumerate(TIMIT_UTTS):
        d = root / spk
        d.mkdir(parents=True)
        n = rows[-1][1]
        if sphere and k == 0:
            sf.write(d / f"{utt}.WAV", _noise(n, k), 16000, format="NIST", subtype="PCM_16")
        else:  # a converted copy: RIFF data under the .WAV name
            sf.write(d / f"{utt}.WAV", _noise(n, k), 16000, format="WAV", subtype="PCM_16")
        (d / f"{utt}.PHN").write_text("".join(f"{a} {b} {p}\n" for a, b, p in rows))
        (d / f"{utt}.TXT").write_text(f"0 {n} She had your dark suit.\n")
    return root


def test_fold_timit_follows_the_table():
    rows = [(a / 16000, b / 16000, p) for a, b, p in TIMIT_UTTS[0][2]]
    segs = fold_timit(rows, "x.PHN")
    assert [(round(s.start * 16000), round(s.end * 16000), s.phone) for s in segs] == [
        (0, 3000, "sil"),
        (3000, 4000, "sh"),
        (4000, 6000, "iy"),
        (6000, 7000, "t"),
        (7000, 9000, "ih"),
        (9000, 9400, "k"),
        (9400, 10400, "s"),
        (10400, 12800, "sil"),
    ]
    assert len(TIMIT_TO_PHONE) == 60 and set(TIMIT_TO_PHONE.values()) <= set(PHONES)  # 61 with q


def test_import_timit_gives_the_frames_the_labels_say(tmp_path):
    src = write_timit(tmp_path / "TIMIT")
    res = import_corpus(src, tmp_path / "out", "timit")
    assert res.utterances == 2 and res.voices == ("fabc0", "mxyz0")
    rows = list(csv.DictReader(open(tmp_path / "out" / "manifest.csv", encoding="utf-8")))
    assert [r["id"] for r in rows] == ["test_dr2_mxyz0_sx10", "train_dr1_fabc0_sa1"]
    assert rows[0]["text"] == "She had your dark suit." and rows[0]["voice"] == "mxyz0"
    frames = load_corpus(tmp_path / "out", CFG)
    by_id = {spk.split("/")[-1].lower(): (utt, r) for spk, utt, r in TIMIT_UTTS}
    for u, uid in enumerate(frames.utt_ids):
        a = frames.utt_starts[u]
        b = frames.utt_starts[u + 1] if u + 1 < len(frames.utt_ids) else len(frames.labels)
        utt, timit_rows = by_id[uid.split("_")[2]]
        expect = _timit_frame_oracle(timit_rows, b - a, 16000)
        np.testing.assert_array_equal(frames.labels[a:b], expect)
        # the audio is the same samples (16 kHz in, 16 kHz out; 16-bit rounding only)
        spk = next(s for s, t, _ in TIMIT_UTTS if t == utt)
        orig, _ = sf.read(src / spk / f"{utt}.WAV", dtype="float32")
        new, sr = sf.read(tmp_path / "out" / f"{uid}.wav", dtype="float32")
        assert sr == 16000 and np.max(np.abs(orig - new)) < 1e-4


def _textgrid(path, words, phones, xmax):
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("words", [Interval(*w) for w in words], 0.0, xmax))
    tg.addTier(textgrid.IntervalTier("phones", [Interval(*p) for p in phones], 0.0, xmax))
    path.parent.mkdir(parents=True, exist_ok=True)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


MFA_PHONES = [
    (0.0, 0.31, "sil"),
    (0.31, 0.42, "SH"),
    (0.42, 0.6, "IY1"),
    (0.6, 0.7, "spn"),
    (0.7, 0.83, "AH0"),
    (0.83, 0.97, "N"),
    (1.1, 1.2, "sp"),
]


def _tg_frame_oracle(phones, n_frames: int) -> np.ndarray:
    """Per frame centre: the interval holding it (gaps and blanks are silence), mapped by to_phone."""
    out = np.empty(n_frames, dtype=np.int64)
    for t in range(n_frames):
        c = t * CFG.winstep + CFG.winlen / 2
        lab = next((p for a, b, p in phones if a <= c < b), "")
        out[t] = PHONES.index(to_phone(lab) if lab else "sil")
    return out


def test_import_textgrid_resamples_and_keeps_the_frames(tmp_path):
    mfa, audio = tmp_path / "aligned", tmp_path / "corpus"
    # speaker folder, 44.1 kHz stereo FLAC at the same relative path
    _textgrid(mfa / "spk1" / "u1.TextGrid", [(0.31, 0.6, "she"), (0.7, 0.97, "an")], MFA_PHONES, 1.25)
    t = np.arange(int(1.25 * 44100)) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t)
    (audio / "spk1").mkdir(parents=True)
    sf.write(audio / "spk1" / "u1.flac", np.stack([tone, tone], 1), 44100)
    # a TextGrid whose audio lies elsewhere under the audio folder (found by its name), 8 kHz
    _textgrid(mfa / "spk2" / "u2.TextGrid", [(0.31, 0.6, "she")], MFA_PHONES[:3], 0.8)
    (audio / "other" / "deep").mkdir(parents=True)
    sf.write(audio / "other" / "deep" / "u2.wav", _noise(6400, 3), 8000)
    res = import_corpus(mfa, tmp_path / "out", "textgrid", audio_dir=audio)
    assert res.utterances == 2 and res.voices == ("spk1", "spk2")
    rows = {r["id"]: r for r in csv.DictReader(open(tmp_path / "out" / "manifest.csv", encoding="utf-8"))}
    assert rows["spk1_u1"]["text"] == "she an" and rows["spk1_u1"]["voice"] == "spk1"
    new, sr = sf.read(tmp_path / "out" / "spk1_u1.wav", dtype="float32")
    assert sr == 16000 and abs(len(new) - 1.25 * 16000) <= 1
    spec = np.abs(np.fft.rfft(new))
    assert abs(np.fft.rfftfreq(len(new), 1 / 16000)[spec.argmax()] - 1000) < 2  # the tone stays at 1 kHz
    frames = load_corpus(tmp_path / "out", CFG)
    for u, uid in enumerate(frames.utt_ids):
        a = frames.utt_starts[u]
        b = frames.utt_starts[u + 1] if u + 1 < len(frames.utt_ids) else len(frames.labels)
        phones = MFA_PHONES if uid == "spk1_u1" else MFA_PHONES[:3]
        np.testing.assert_array_equal(frames.labels[a:b], _tg_frame_oracle(phones, b - a))


def _expect_error(tmp_path, src, fmt, match, **kw):
    out = tmp_path / "never"
    with pytest.raises(CorpusImportError, match=match):
        import_corpus(src, out, fmt, **kw)
    assert not out.exists()  # nothing written


def test_bad_timit_layouts_name_the_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _expect_error(tmp_path, empty, "timit", r"holds no TIMIT \.PHN")
    src = write_timit(tmp_path / "T1")
    (src / "TRAIN/DR1/FABC0/SA1.WAV").unlink()
    _expect_error(tmp_path, src, "timit", r"SA1\.PHN has no audio file SA1\.WAV")
    src = write_timit(tmp_path / "T2")
    (src / "TEST/DR2/MXYZ0/SX10.PHN").write_text("0 100 h#\n100 oops sh\n")
    _expect_error(tmp_path, src, "timit", r"SX10\.PHN, line 2: expected")
    src = write_timit(tmp_path / "T3")
    (src / "TEST/DR2/MXYZ0/SX10.PHN").write_text("0 100 h#\n100 200 zz\n")
    _expect_error(tmp_path, src, "timit", r"SX10\.PHN: unknown TIMIT phone 'zz'")
    src = write_timit(tmp_path / "T4")
    (src / "TEST/DR2/MXYZ0/SX10.PHN").write_text("0 100 h#\n100 99000 sh\n")
    _expect_error(
        tmp_path, src, "timit", r"SX10\.PHN ends at 6\.188 s but its audio SX10\.WAV lasts 1\.000 s"
    )
    src = write_timit(tmp_path / "T5")
    wav = src / "TRAIN/DR1/FABC0/SA1.WAV"
    head = wav.read_bytes()
    wav.write_bytes(
        head[:1024].replace(b"sample_coding -s3 pcm", b"sample_coding -s26 pcm,embedded-shorten-v2")
        + head[1024:]
    )
    _expect_error(tmp_path, src, "timit", r"SA1\.WAV could not be read .*sph2pipe")
    # an existing corpus is never overwritten
    good = write_timit(tmp_path / "T6")
    import_corpus(good, tmp_path / "done", "timit")
    before = (tmp_path / "done" / "manifest.csv").read_bytes()
    with pytest.raises(CorpusImportError, match="already holds a corpus"):
        import_corpus(good, tmp_path / "done", "timit")
    assert (tmp_path / "done" / "manifest.csv").read_bytes() == before


def test_bad_textgrid_layouts_name_the_file(tmp_path):
    src = tmp_path / "g1"
    _textgrid(src / "a.TextGrid", [], MFA_PHONES, 1.25)
    _expect_error(tmp_path, src, "textgrid", r"a\.TextGrid has no audio file a\.wav")
    sf.write(src / "a.wav", _noise(20000, 1), 16000)
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("words", [Interval(0.1, 0.5, "she")], 0.0, 1.25))
    tg.save(str(src / "a.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    _expect_error(tmp_path, src, "textgrid", r"a\.TextGrid has no phones tier; its interval tiers are: words")
    _textgrid(src / "a.TextGrid", [], [(0.0, 0.3, "sil"), (0.3, 0.5, "ʃ")], 1.25)
    _expect_error(tmp_path, src, "textgrid", r"a\.TextGrid: .*'ʃ'.*english_us_arpa")
    (src / "a.TextGrid").write_text("not a textgrid")
    _expect_error(tmp_path, src, "textgrid", r"a\.TextGrid is not a readable Praat TextGrid")
    _textgrid(src / "a.TextGrid", [], MFA_PHONES, 1.25)
    _expect_error(tmp_path, src, "timit", "holds no TIMIT")
    _expect_error(tmp_path, src, "textgrid", r"a\.TextGrid", tier="phonemes")


def test_cli_import_then_train_on_it(tmp_path, capsys):
    src = write_timit(tmp_path / "TIMIT")
    assert main(["import-corpus", "--format", "timit", str(src), str(tmp_path / "c")]) == 0
    assert "wrote 2 utterances" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                "speech",
                "--corpus",
                str(tmp_path / "c"),
                "--out",
                str(tmp_path / "m"),
                "--width",
                "8",
                "--layers",
                "1",
                "--epochs",
                "1",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert (tmp_path / "m" / "model.json").is_file()
    capsys.readouterr()
    assert main(["import-corpus", "--format", "timit", str(src), str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already holds a corpus" in err and len(err.splitlines()) == 1


def _hand_corpus(d, uid: str, voice: str):
    """One utterance of noise labelled sil / s / iy / sil, in the synthesiser's manifest layout."""
    d.mkdir(parents=True)
    sf.write(d / f"{uid}.wav", _noise(16000, 7), 16000, subtype="PCM_16")
    (d / f"{uid}.lab").write_text("0.0 0.3 sil\n0.3 0.5 s\n0.5 0.8 iy\n0.8 1.0 sil\n")
    (d / "manifest.csv").write_text(f"id,voice,engine,text,seconds\n{uid},{voice},festival,see.,1.0000\n")
    return d


def test_join_corpus_reads_as_both_corpora(tmp_path, capsys):
    """join-corpus: an imported TIMIT corpus and a synthesised one read as one corpus, frame for frame
    the two loaded apart; manifests united column by column; bad joins name the problem, write nothing."""
    write_timit(tmp_path / "TIMIT")
    assert main(["import-corpus", "--format", "timit", str(tmp_path / "TIMIT"), str(tmp_path / "real")]) == 0
    synth = _hand_corpus(tmp_path / "synth", "en_s1_00000", "kal")
    assert main(["join-corpus", str(tmp_path / "real"), str(synth), "--out", str(tmp_path / "both")]) == 0
    assert "3 utterances from 2 corpora" in capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "both" / "manifest.csv", encoding="utf-8")))
    assert [r["voice"] for r in rows] == ["mxyz0", "fabc0", "kal"]
    assert rows[0]["engine"] == "" and rows[2]["engine"] == "festival" and rows[2]["source"] == ""
    assert (tmp_path / "both" / "en_s1_00000.wav").is_symlink()
    both = load_corpus(tmp_path / "both", CFG)
    parts = [load_corpus(tmp_path / "real", CFG), load_corpus(synth, CFG)]
    np.testing.assert_array_equal(both.labels, np.concatenate([p.labels for p in parts]))
    np.testing.assert_array_equal(both.feats, np.concatenate([p.feats for p in parts]))
    assert both.utt_ids == parts[0].utt_ids + parts[1].utt_ids
    shutil.copytree(tmp_path / "real", tmp_path / "real2")  # the same utterances in another folder
    for args, msg in [
        ([str(synth), str(synth)], "synth is named twice"),
        ([str(synth), str(tmp_path / "real"), str(tmp_path / "real2")], "'test_dr2_mxyz0_sx10' is in both"),
        ([str(synth), str(tmp_path / "TIMIT")], "has no manifest.csv"),
        ([str(synth)], "at least two corpora"),
    ]:
        assert main(["join-corpus", *args, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and msg in err and len(err.splitlines()) == 1
        assert not (tmp_path / "bad").exists()
    (tmp_path / "ja").mkdir()
    _hand_corpus(tmp_path / "ja" / "c", "ja_s1_00000", "mei")
    (tmp_path / "ja" / "c" / "corpus.json").write_text('{"lang": "ja", "phone_set": "ja"}')
    (tmp_path / "ja" / "c" / "ja_s1_00000.lab").write_text("0.0 0.3 sil\n0.3 0.5 s\n0.5 0.8 i\n0.8 1.0 sil\n")
    assert main(["join-corpus", str(synth), str(tmp_path / "ja" / "c"), "--out", str(tmp_path / "bad")]) == 2
    assert "ja phone set" in capsys.readouterr().err
    assert main(["join-corpus", str(synth), str(tmp_path / "real"), "--out", str(tmp_path / "both")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
