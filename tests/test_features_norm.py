"""Per-utterance normalisation (FeatureConfig.utt_norm): statistics, caches, models and importance."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from core.data import cache_path, load_corpus
from core.features import CMVN_FLOOR, FeatureConfig, FeatureError, extract, splice
from tests.tolerance import assert_gradients_close


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(20000) / 16000
    return (0.3 * np.sin(2 * np.pi * 500 * t) * (t > 0.4) + 0.02 * rng.standard_normal(t.size)).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def quiet_then_tone() -> np.ndarray:
    """A 2 kHz tone from 0.4 to 1.1 s in noise about 65 dB below it (after pre-emphasis), 1.25 s in all
    (not a whole number of frames): the quiet frames at both ends are not "speech"."""
    rng = np.random.default_rng(1)
    t = np.arange(20003) / 16000
    tone = 0.5 * np.sin(2 * np.pi * 2000 * t) * ((t > 0.4) & (t < 1.1))
    return (tone + 0.0001 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_cmn_and_cmvn_statistics(signal, kind):
    raw = extract(signal, FeatureConfig(kind=kind)).astype(np.float64)
    cmn = extract(signal, FeatureConfig(kind=kind, utt_norm="cmn")).astype(np.float64)
    cmvn = extract(signal, FeatureConfig(kind=kind, utt_norm="cmvn")).astype(np.float64)
    np.testing.assert_allclose(cmn.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(cmn, raw - raw.mean(axis=0), atol=1e-4)  # brute force
    np.testing.assert_allclose(cmvn.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(cmvn.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(cmvn, (raw - raw.mean(0)) / np.maximum(raw.std(0), CMVN_FLOOR), atol=1e-4)


def test_cmn_removes_a_gain_and_cmvn_a_constant_channel(signal):
    cfg = FeatureConfig(utt_norm="cmn")
    np.testing.assert_allclose(extract(signal * 7.0, cfg), extract(signal, cfg), atol=1e-4)
    assert not np.allclose(extract(signal * 7.0), extract(signal), atol=1e-2)
    out = extract(np.zeros(8000, np.float32), FeatureConfig(utt_norm="cmvn"))  # digital silence: std 0
    assert np.all(np.isfinite(out)) and np.abs(out).max() < 1e-9  # std floored, no division by 0


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_cmn_speech_is_the_mean_over_the_loud_frames_of_the_dithered_signal(quiet_then_tone, kind):
    """Brute force: padding to whole frames and dither by hand, python_speech_features by hand, the
    frames whose energy is within 40 dB of the loudest chosen by hand (sum of exp of the log
    filterbank energies; MFCC: coefficient 0, the log frame energy)."""
    import python_speech_features as psf

    signal = quiet_then_tone
    cfg = FeatureConfig(kind=kind, utt_norm="cmn_speech")
    n = 1 + int(np.ceil((signal.size - 400) / 160))
    x = np.concatenate([signal, np.zeros((n - 1) * 160 + 400 - signal.size)])
    x = x + np.random.default_rng(0).standard_normal(x.size) / 32768
    common = dict(samplerate=16000, winlen=0.025, winstep=0.01, nfft=512, lowfreq=0, highfreq=8000, preemph=0.97)
    raw = (psf.logfbank(x, nfilt=40, **common) if kind == "mfbank" else
           psf.mfcc(x, numcep=13, nfilt=26, ceplifter=22, appendEnergy=True, **common))
    energy = np.log(np.exp(raw).sum(axis=1)) if kind == "mfbank" else raw[:, 0]
    loud = energy >= energy.max() - 4 * np.log(10)  # 40 dB
    assert 0 < loud.sum() < len(loud)  # the signal's first 0.4 s are quiet noise: some frames are left out
    np.testing.assert_allclose(extract(signal, cfg), raw - raw[loud].mean(axis=0), atol=1e-4)
    np.testing.assert_array_equal(extract(signal, cfg), extract(signal, cfg))  # the dither is seeded


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_digital_silence_at_the_ends_moves_cmn_but_not_cmn_speech(quiet_then_tone, kind):
    """100 ms of exact zeros appended: plain CMN moves every frame (the mean takes in -36 per channel),
    cmn_speech leaves every frame of the original as it was (bit for bit: the same dither, and the
    last frame's padding dithered like the appended zeros)."""
    signal = quiet_then_tone
    zeros = np.zeros(1600, dtype=np.float32)
    for mode, moved in (("cmn", True), ("cmn_speech", False)):
        cfg = FeatureConfig(kind=kind, utt_norm=mode)
        a = extract(signal, cfg)
        b = extract(np.concatenate([signal, zeros]), cfg)[: len(a)]
        change = np.abs(a - b).max()
        assert (change > 0.1) if moved else (change == 0.0), (mode, change)


def test_bad_mode_and_old_configs():
    with pytest.raises(FeatureError, match="Unknown per-utterance normalisation 'zca'"):
        FeatureConfig(utt_norm="zca")
    old = FeatureConfig().to_dict()
    del old["utt_norm"]
    assert FeatureConfig.from_dict(old) == FeatureConfig()  # models saved before keep their meaning


def test_caches_keep_their_names_and_separate_modes(tmp_path):
    assert (
        cache_path(tmp_path, FeatureConfig()).name == ".frames_mfbank_fcd2a71d8a0c.npz"
    )  # as before utt_norm
    names = {cache_path(tmp_path, FeatureConfig(utt_norm=m)).name for m in ("none", "cmn", "cmvn")}
    assert len(names) == 3


def test_importance_of_a_cmn_model_against_brute_force(tmp_path):
    """A model trained on CMN features: saved and loaded with its mode, a recording's inputs are
    CMN'd the same way as the corpus, and the importance engine matches per-frame Jacobians."""
    from test_train import make_corpus

    from core.importance import gradient_stats
    from core.models import load_model, save_model
    from core.train import SpeechTrainConfig, train_speech
    from core.voice.align import network_inputs

    cfg = FeatureConfig(utt_norm="cmn")
    folder = make_corpus(tmp_path / "c", n_utts=6)
    frames = load_corpus(folder, cfg)
    first = frames.feats[: frames.utt_starts[1]].astype(np.float64)
    np.testing.assert_allclose(first.mean(axis=0), 0, atol=1e-4)
    res = train_speech(
        frames, SpeechTrainConfig(width=8, layers=2, epochs=1, batch_size=64, lr=3e-3), features=cfg
    )
    save_model(res.model, tmp_path / "m", res.meta)
    model, info = load_model(tmp_path / "m")
    assert info.features == cfg
    audio, _ = sf.read(str(folder / f"{frames.utt_ids[0]}.wav"), dtype="float32")
    x = network_inputs(info, audio)
    np.testing.assert_allclose(x, info.preprocess(splice(first.astype(np.float32), cfg.context)), atol=1e-4)

    labels = frames.labels[: len(x)].astype(np.int64)
    stats = gradient_stats(model, x, labels, targets=[0, 5])
    m64 = __import__("copy").deepcopy(model).double()
    for t_i, target in enumerate((0, 5)):
        g = np.stack(
            [
                torch.autograd.functional.jacobian(
                    lambda v, t=target: torch.softmax(m64(v[None]), -1)[0, t],
                    torch.from_numpy(row.astype(np.float64)),
                ).numpy()
                for row in x
            ]
        )
        present = np.unique(labels)
        assert_gradients_close(stats.stat("std", present.tolist())[t_i], g.std(axis=0), model)  # f32 vs f64
