"""core.augment: every step keeps the labels aligned, moves what it should by how much it should,
and a seed gives the same result; training with augmentation is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from core.features import FeatureConfig, extract, mel_centres_hz
from core.phones import PHONES, Segment, frame_labels
from core.train import augment as A
from core.train.augment import AugmentConfig, Augmenter, AugmentError, augment_utterance

SR = 16000
CFG = FeatureConfig()


def _burst(scale: float = 1.0) -> tuple[np.ndarray, list[Segment]]:
    """1.5 s: near-silence, a 0.5-1.0 s loud two-tone 'aa' (700 and 1200 Hz x scale), near-silence,
    with its segments."""
    rng = np.random.default_rng(0)
    t = np.arange(int(1.5 * SR)) / SR
    x = 1e-3 * rng.standard_normal(t.size)
    on = (t >= 0.5) & (t < 1.0)
    x[on] += 0.5 * np.sin(2 * np.pi * 700 * scale * t[on]) + 0.3 * np.sin(2 * np.pi * 1200 * scale * t[on])
    return x, [Segment(0.0, 0.5, "sil"), Segment(0.5, 1.0, "aa"), Segment(1.0, 1.5, "sil")]


def _agreement(feats: np.ndarray, labels: np.ndarray) -> float:
    """Share of frames where 'loud' (log energy above the midpoint) agrees with label 'aa'."""
    e = feats.max(axis=1)
    loud = e > (e.max() + e.min()) / 2
    return float(np.mean(loud == (labels == PHONES.index("aa"))))


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_scales_audio_and_labels(factor):
    x, segs = _burst()
    y, new = A.speed_perturb(x, segs, factor)
    assert len(y) == pytest.approx(len(x) / factor, abs=2)
    got = [t for s in new for t in (s.start, s.end)]
    assert got == pytest.approx([t / factor for s in segs for t in (s.start, s.end)])
    feats = extract(y)
    assert _agreement(feats, frame_labels(new, len(feats))) > 0.98
    # the tones moved too: to 700 and 1200 Hz x factor
    mid = int(0.75 / factor * 100)
    ref = extract(_burst(factor)[0])[75]
    assert np.argmax(feats[mid]) == np.argmax(ref) != np.argmax(extract(x)[75])


@pytest.mark.parametrize("warp", [0.9, 1.1])
@pytest.mark.parametrize("f0", [600.0, 1000.0, 2500.0])
def test_vtlp_moves_a_tone_by_the_factor(f0, warp):
    t = np.arange(SR) / SR
    warped = extract(np.sin(2 * np.pi * f0 * t), warp=warp).mean(axis=0)
    reference = extract(np.sin(2 * np.pi * f0 * warp * t)).mean(axis=0)
    plain = extract(np.sin(2 * np.pi * f0 * t)).mean(axis=0)
    assert abs(int(warped.argmax()) - int(reference.argmax())) <= 1  # filter edges are rounded to FFT bins
    assert warped.argmax() != plain.argmax()
    hz = mel_centres_hz()
    assert abs(np.log(hz[warped.argmax()] / (f0 * warp))) < 0.08  # the nearest band to factor x f0


def test_vtlp_warp_one_is_the_plain_filterbank():
    x, _ = _burst()
    for kind in ("mfbank", "mfcc"):
        cfg = FeatureConfig(kind=kind)
        np.testing.assert_allclose(extract(x, cfg, fast=True), extract(x, cfg), atol=1e-4)


def test_reverb_keeps_onset_and_level():
    x, segs = _burst()
    rir = A.room_impulse(np.random.default_rng(1), 0.4, 5.0, SR)
    assert rir[0] == 1.0 and np.sum(rir[1:] ** 2) == pytest.approx(10**-0.5)
    y = A.reverberate(x, rir)
    assert len(y) == len(x) and np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)))

    def first_loud(sig):
        e = extract(sig).max(axis=1)
        return int(np.argmax(e > (e.max() + e.min()) / 2))

    assert first_loud(y) == first_loud(x)  # no delay: the direct path is at lag 0
    labels = frame_labels(segs, len(extract(y)))
    assert abs(first_loud(y) - int(np.argmax(labels == PHONES.index("aa")))) <= 1


@pytest.mark.parametrize("kind", ["white", "pink", "babble"])
@pytest.mark.parametrize("snr", [10.0, 30.0])
def test_noise_at_the_asked_snr(kind, snr):
    x, _ = _burst()
    rng = np.random.default_rng(2)
    noise = A.coloured_noise(rng, len(x), kind) if kind != "babble" else np.resize(_burst()[0][::-1], len(x))
    y = A.add_noise(x, noise, snr)
    n = y - x
    assert 10 * np.log10(np.mean(x**2) / np.mean(n**2)) == pytest.approx(snr, abs=1e-9)


def test_pink_noise_falls_3db_per_octave():
    n = A.coloured_noise(np.random.default_rng(3), 2**18, "pink")
    p = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(len(n), 1 / SR)
    band = lambda lo: p[(f >= lo) & (f < 2 * lo)].mean()  # noqa: E731
    assert 10 * np.log10(band(500) / band(1000)) == pytest.approx(3.0, abs=0.3)
    w = A.coloured_noise(np.random.default_rng(3), 2**18, "white")
    pw = np.abs(np.fft.rfft(w)) ** 2
    assert abs(10 * np.log10(pw[(f >= 500) & (f < 1000)].mean() / pw[(f >= 1000) & (f < 2000)].mean())) < 0.3


def test_gain_shifts_every_log_energy_and_tilt_tilts():
    x, _ = _burst()
    f = extract(x)
    g = extract(x * 10 ** (6 / 20))
    np.testing.assert_allclose(g - f, np.log(10 ** (6 / 10)), atol=1e-4)
    t = np.arange(SR) / SR
    for hz, expected in ((1000.0, 0.0), (2000.0, 3.0), (4000.0, 6.0)):
        tone = np.sin(2 * np.pi * hz * t)
        y = A.spectral_tilt(tone, 3.0, SR)
        assert 20 * np.log10(np.std(y) / np.std(tone)) == pytest.approx(expected, abs=0.05)


def test_spec_masks_set_means_and_keep_labels():
    feats = np.random.default_rng(4).standard_normal((200, 40)).astype(np.float32)
    out = A.spec_masks(feats, np.random.default_rng(5), 2, 8, 2, 6)
    changed_rows = np.flatnonzero(np.all(out == feats.mean(axis=0), axis=1))
    changed_cols = np.flatnonzero(np.all(out != feats, axis=0))
    assert out.shape == feats.shape and (len(changed_rows) > 0 or len(changed_cols) > 0)
    assert len(changed_rows) <= 16 and len(changed_cols) <= 12


def test_whole_utterance_stays_aligned_and_seeded():
    x, segs = _burst()
    cfg = AugmentConfig(
        p=1.0,
        kinds=("speed", "reverb", "tilt", "gain", "noise", "vtlp"),
        snr_db=(25.0, 30.0),
        rt60=(0.15, 0.2),
        drr_db=(10.0, 15.0),
    )
    pool = [x[::-1].copy()]
    a = augment_utterance(x, segs, cfg, CFG, np.random.default_rng(7), pool)
    b = augment_utterance(x, segs, cfg, CFG, np.random.default_rng(7), pool)
    c = augment_utterance(x, segs, cfg, CFG, np.random.default_rng(8), pool)
    assert set(a.applied) == set(cfg.kinds)
    np.testing.assert_array_equal(a.feats, b.feats)
    assert not np.array_equal(a.feats, c.feats) or a.feats.shape != c.feats.shape
    s = a.applied["speed"]
    assert a.segments[1].start == pytest.approx(0.5 / s, abs=0.006)
    assert len(a.labels) == len(a.feats) and _agreement(a.feats, a.labels) > 0.95


def test_switching_a_step_off_leaves_the_others_draws():
    x, segs = _burst()
    full = augment_utterance(x, segs, AugmentConfig(p=1.0), CFG, np.random.default_rng(3), [x])
    no_speed = augment_utterance(
        x, segs, AugmentConfig(p=1.0, kinds=("vtlp", "gain")), CFG, np.random.default_rng(3), [x]
    )
    assert (
        no_speed.applied["vtlp"] == full.applied["vtlp"] and no_speed.applied["gain"] == full.applied["gain"]
    )
    off = augment_utterance(x, segs, AugmentConfig(kinds=()), CFG, np.random.default_rng(3))
    np.testing.assert_allclose(off.feats, extract(x), atol=1e-4)
    assert off.applied == {}


def test_epochs_are_seeded(tmp_path):
    from test_train import make_corpus

    from core.data import read_manifest

    folder = make_corpus(tmp_path / "c", n_utts=4)
    ids = [r["id"] for r in read_manifest(folder)]
    aug = Augmenter(folder, ids, AugmentConfig(), CFG)
    e1, e2 = aug.epoch(np.random.default_rng(1)), aug.epoch(np.random.default_rng(1))
    np.testing.assert_array_equal(e1.feats, e2.feats)
    np.testing.assert_array_equal(e1.labels, e2.labels)
    assert len(e1.utt_starts) == 4 and e1.feats.shape[0] == len(e1.labels)
    assert not np.array_equal(aug.epoch(np.random.default_rng(2)).feats[:50], e1.feats[:50])


@pytest.mark.parametrize("spec, match", [("speed,wobble", "Unknown augmentation 'wobble'")])
def test_bad_config_is_one_message(spec, match):
    with pytest.raises(AugmentError, match=match):
        AugmentConfig.parse(spec)
    with pytest.raises(AugmentError, match="speed range"):
        AugmentConfig(speed=(1.2, 0.9))
    assert AugmentConfig.parse("none").kinds == () and AugmentConfig.parse("all").kinds == A.KINDS


def test_training_with_augmentation_is_deterministic(tmp_path):
    from test_train import make_corpus

    from core.data import load_corpus
    from core.train import SpeechTrainConfig, train_speech

    folder = make_corpus(tmp_path / "c", n_utts=6)
    frames = load_corpus(folder, CFG)
    cfg = SpeechTrainConfig(width=16, layers=1, epochs=2, batch_size=64, lr=3e-3, seed=0)
    runs = [
        train_speech(frames, cfg, features=CFG, augment=AugmentConfig(), corpus_dir=folder) for _ in range(2)
    ]
    for pa, pb in zip(runs[0].model.parameters(), runs[1].model.parameters(), strict=True):
        assert torch_equal(pa, pb)
    assert runs[0].meta["training"]["augment"]["kinds"] == list(A.KINDS)
    clean = train_speech(frames, cfg, features=CFG)
    assert clean.meta["training"]["augment"] is None
    assert not all(
        torch_equal(a, b) for a, b in zip(clean.model.parameters(), runs[0].model.parameters(), strict=True)
    )


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))


def test_japanese_corpus_trains_with_augmentation_in_its_own_phone_set(tmp_path):
    """`train speech --augment all` on a tiny Open JTalk corpus (issue 13): the augmenter reads the
    labels in the corpus's Japanese phone set, speed keeps them aligned (scaled by the factor),
    babble is made of the other utterances, and the model comes out with the 35 Japanese classes."""
    from core.cli import main
    from core.data import load_corpus, read_manifest
    from core.data.synth.openjtalk import synthesize_ja
    from core.models import load_model
    from core.phones import JAPANESE

    folder = tmp_path / "ja"
    synthesize_ja(folder, 3, seed=3, workers=1)
    ids = [r["id"] for r in read_manifest(folder)]
    clean = load_corpus(folder, CFG)
    assert clean.phone_set is JAPANESE
    cfg = AugmentConfig(p=1.0, kinds=("speed", "noise", "vtlp"), noises=("babble",), snr_db=(25.0, 30.0))
    aug = Augmenter(folder, ids, cfg, CFG)
    assert aug.phone_set is JAPANESE
    for u in range(len(ids)):
        a = aug.utterance(u, np.random.default_rng(u))
        f = a.applied["speed"]
        assert a.applied["noise"][0] == "babble" and "vtlp" in a.applied
        assert [s.phone for s in a.segments] == [s.phone for s in aug.segments[u]]
        np.testing.assert_allclose([s.end for s in a.segments], [s.end / f for s in aug.segments[u]], atol=1e-3)
        # frame t of the faster/slower utterance shows what clean frame ~t*f showed, in Japanese indices
        lo, hi = clean.utt_starts[u], (clean.utt_starts[u + 1] if u + 1 < len(ids) else len(clean.labels))
        ref = clean.labels[lo:hi]
        back = ref[np.clip(np.rint(np.arange(len(a.labels)) * f).astype(int), 0, len(ref) - 1)]
        assert len(a.labels) == len(a.feats) and np.mean(a.labels == back) > 0.9
        assert {JAPANESE.phones[i] for i in a.labels} == {JAPANESE.phones[i] for i in ref}

    out = tmp_path / "model"
    argv = ["train", "speech", "--corpus", str(folder), "--out", str(out), "--width", "16", "--layers", "1",
            "--epochs", "2", "--batch-size", "64", "--threads", "1", "--seed", "0", "--augment", "all"]
    assert main(argv) == 0
    net, info = load_model(out)
    assert info.phone_set is JAPANESE and tuple(info.phones) == JAPANESE.phones and net.n_classes == len(JAPANESE)
    assert info.training["augment"]["kinds"] == list(A.KINDS)
