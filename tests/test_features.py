"""core.features against python_speech_features called directly, splicing, normalisation, meaning."""

from __future__ import annotations

import numpy as np
import pytest
import python_speech_features as psf

from core.features import (
    FeatureConfig,
    FeatureError,
    Normalizer,
    SplicedFrames,
    extract,
    input_meaning,
    mel_centres_hz,
    n_frames_for,
    splice,
)


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(12345) / 16000
    return (0.3 * np.sin(2 * np.pi * 700 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_mfbank_equals_psf(signal):
    ours = extract(signal, FeatureConfig(kind="mfbank"))
    ref = psf.logfbank(signal, 16000, 0.025, 0.01, nfilt=40, nfft=512, lowfreq=0, highfreq=8000)
    assert ours.shape == (n_frames_for(signal.size), 40) == ref.shape
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


def test_mfcc_equals_psf(signal):
    ours = extract(signal, FeatureConfig(kind="mfcc"))
    ref = psf.mfcc(signal, 16000, 0.025, 0.01, numcep=13, nfilt=26, nfft=512, lowfreq=0,
                   highfreq=8000, appendEnergy=True)
    assert ours.shape == ref.shape == (n_frames_for(signal.size), 13)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


def test_silence_is_finite():
    assert np.all(np.isfinite(extract(np.zeros(4000, dtype=np.float32))))


@pytest.mark.parametrize("bad", [np.zeros(100), np.zeros((2, 8000))])
def test_extract_refuses(bad):
    with pytest.raises(FeatureError):
        extract(bad)


def test_config_dims_and_round_trip():
    cfg = FeatureConfig()
    assert (cfg.n_channels, cfg.n_context_frames, cfg.input_dim) == (40, 35, 1400)
    assert FeatureConfig(kind="mfcc").input_dim == 455
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(FeatureError, match="Unknown feature kind"):
        FeatureConfig(kind="plp")  # type: ignore[arg-type]


def test_splice_shape_and_edges():
    feats = np.arange(5 * 3, dtype=np.float32).reshape(5, 3)  # 5 frames, 3 channels
    s = splice(feats, context=2)
    assert s.shape == (5, 15)
    maps = s.reshape(5, 5, 3)  # (frame, offset, channel)
    # centre offset is the frame itself
    np.testing.assert_array_equal(maps[:, 2], feats)
    # frame 0, offsets -2 and -1 repeat the first frame; frame 4, offsets +1, +2 repeat the last
    np.testing.assert_array_equal(maps[0, 0], feats[0])
    np.testing.assert_array_equal(maps[0, 1], feats[0])
    np.testing.assert_array_equal(maps[4, 3], feats[4])
    np.testing.assert_array_equal(maps[4, 4], feats[4])
    np.testing.assert_array_equal(maps[2, 0], feats[0])
    np.testing.assert_array_equal(maps[2, 4], feats[4])


def test_lazy_equals_eager_per_utterance():
    rng = np.random.default_rng(1)
    lengths = [7, 1, 12, 3]
    utts = [rng.standard_normal((n, 4)).astype(np.float32) for n in lengths]
    starts = np.cumsum([0] + lengths[:-1])
    view = SplicedFrames(np.concatenate(utts), starts, context=3)
    eager = np.concatenate([splice(u, 3) for u in utts])
    assert len(view) == sum(lengths) and view.dim == 7 * 4
    np.testing.assert_array_equal(view[np.arange(len(view))], eager)
    idx = rng.permutation(len(view))[:9]
    np.testing.assert_array_equal(view[idx], eager[idx])
    np.testing.assert_array_equal(view[2:9], eager[2:9])


def test_lazy_does_not_copy_features():
    feats = np.zeros((100, 40), dtype=np.float32)
    view = SplicedFrames(feats, np.array([0, 50]))
    assert view.feats is feats


@pytest.mark.parametrize("starts", [[1, 5], [0, 5, 5], [0, 200]])
def test_lazy_refuses_bad_starts(starts):
    with pytest.raises(FeatureError, match="Utterance starts"):
        SplicedFrames(np.zeros((100, 2)), np.array(starts))


def test_normalizer_fit_apply_invert():
    rng = np.random.default_rng(2)
    feats = (rng.standard_normal((500, 3)) * [1, 5, 0.1] + [10, -3, 0]).astype(np.float32)
    norm = Normalizer.fit(feats)
    z = norm.apply(feats)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    spliced = splice(feats, 2)
    zs = norm.apply(spliced)
    np.testing.assert_allclose(zs.reshape(500, 5, 3)[:, 2], z, atol=1e-5)
    np.testing.assert_allclose(norm.invert(zs), spliced, atol=1e-4)
    with pytest.raises(FeatureError, match="multiple"):
        norm.apply(np.zeros((2, 4)))


def test_input_meaning_mfbank():
    cfg = FeatureConfig()
    m = input_meaning(cfg)
    assert all(len(v) == 1400 for v in m.values())
    # unit i = (offset + 17) * 40 + channel
    assert m["offset_frames"][0] == -17 and m["channel"][0] == 0
    assert m["offset_frames"][17 * 40 + 5] == 0 and m["channel"][17 * 40 + 5] == 5
    assert m["offset_ms"][-1] == pytest.approx(170.0)
    hz = mel_centres_hz(cfg)
    assert np.all(np.diff(hz) > 0) and 0 < hz[0] < 100 and 7000 < hz[-1] < 8000
    np.testing.assert_allclose(m["hz"][:40], hz)


def test_input_meaning_mfcc_has_no_hz():
    m = input_meaning(FeatureConfig(kind="mfcc"))
    assert len(m["channel"]) == 455 and np.all(np.isnan(m["hz"]))


@pytest.mark.parametrize("nfilt", [26, 40])
def test_the_one_filterbank_at_warp_1_is_python_speech_features_own(nfilt):
    """``warped_filterbank`` serves every warp; at warp 1 it is python_speech_features'
    ``get_filterbanks`` (the oracle) element for element: both compute the same float64 bin edges."""
    import python_speech_features as psf

    from core.features import FeatureConfig, warped_filterbank

    cfg = FeatureConfig()
    want = psf.get_filterbanks(nfilt, cfg.nfft, cfg.samplerate, cfg.lowfreq, cfg.highfreq)
    np.testing.assert_array_equal(warped_filterbank(nfilt, 1.0, cfg), want)
    # and a warp moves the filters (the same function, another factor)
    assert not np.array_equal(warped_filterbank(nfilt, 1.1, cfg), want)


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_the_one_front_end_at_warp_1_equals_python_speech_features(kind):
    """``extract`` (the one front end, every warp) against python_speech_features' own logfbank /
    mfcc, the oracle, at warp 1: log energies of float64 sums over 512 bins agree to 1e-4 (the
    float32 output's resolution at these magnitudes); and the fast flag changes nothing."""
    import python_speech_features as psf

    from core.features import FeatureConfig, extract

    x = np.random.default_rng(0).standard_normal(16000 + 123)
    cfg = FeatureConfig(kind=kind)
    common = dict(samplerate=cfg.samplerate, winlen=cfg.winlen, winstep=cfg.winstep, nfft=cfg.nfft,
                  lowfreq=cfg.lowfreq, highfreq=cfg.highfreq, preemph=cfg.preemph)
    if kind == "mfbank":
        want = psf.logfbank(x, nfilt=cfg.nfilt, **common)
    else:
        want = psf.mfcc(x, numcep=cfg.numcep, nfilt=cfg.mfcc_nfilt, ceplifter=cfg.ceplifter, appendEnergy=True, **common)
    got = extract(x, cfg)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_array_equal(extract(x, cfg, fast=True), got)


@pytest.mark.parametrize(("n_samples", "n"), [(1000, None), (399, None), (1000, 12)])
def test_frame_signal_is_python_speech_features_framing(n_samples, n):
    """core.audio.frame_signal, the one framing: the frames python_speech_features' framesig cuts
    (zero-padded to the count asked for), and whole windows only by default."""
    import python_speech_features as psf

    from core.audio import frame_signal

    x = np.random.default_rng(1).standard_normal(n_samples)
    got = frame_signal(x, 400, 160, n)
    want = psf.sigproc.framesig(x, 400, 160)
    if n is None:
        assert len(got) == max(1, (n_samples - 400) // 160 + 1)
        want = want[: len(got)]
    else:
        assert len(got) == n  # psf on the signal zero-padded to exactly n windows cuts those n
        want = psf.sigproc.framesig(np.concatenate([x, np.zeros((n - 1) * 160 + 400 - n_samples)]), 400, 160)
    np.testing.assert_array_equal(got, want)
