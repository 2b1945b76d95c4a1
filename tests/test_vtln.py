"""core.vtln: the warp convention (a tone at alpha x f under warp alpha lands where f does), the
label-free choice (highest mean top posterior, checked by brute force) finds an unheard voice's
higher formants and raises its accuracy, and LHUC scales fold exactly into the next layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.features import FeatureConfig, extract
from core.models import MODELS_DIR, ModelInfo, SpeechDNN
from core.phones import frame_labels
from core.train import SpeechTrainConfig, train_speech
from core.voice.adapt import AdaptConfig, _Adapted, adapt, fold_lhuc
from core.voice.align import network_inputs, phone_posteriors
from core.voice.vtln import WARPS, choose_warp, filterbank_warp, pick, vtln_posteriors, warp_weights
from tests.test_adapt import SR, _Frames, _utterance
from tests.tolerance import forward_rtol

CFG = FeatureConfig()


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(1)
    heard = [_utterance(w, 1.0, rng) for w in (1.0, 0.95) * 10]
    return train_speech(
        _Frames(heard, ["a", "b"] * 10),
        SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=4, batch_size=64, lr=3e-3),
    ), rng


@pytest.fixture(scope="module")
def tiny(trained):
    """A tiny model trained on a voice with formants x1.0 and x0.95; an unheard one at x1.25."""
    res, rng = trained
    info = ModelInfo(
        name="tiny", kind="speech", arch=res.model.arch(), features=CFG, labels=tuple(res.meta["labels"]),
        targets="phone", normalizer=res.meta["normalizer"], metrics={}, data={}, validation=None,
        path=MODELS_DIR / "tiny",
    )
    unheard = [_utterance(1.25, 1.0, rng) for _ in range(6)]
    return res.model, info, unheard


def _accuracy(net, info, utts, warp: float) -> float:
    right = total = 0
    for audio, segs in utts:
        pred = phone_posteriors(net, info, audio, warp=warp).argmax(1)
        right += int((pred == frame_labels(segs, len(pred))).sum())
        total += len(pred)
    return right / total


def test_a_warp_moves_a_tone_at_alpha_f_to_the_channel_of_f():
    t = np.arange(SR) / SR
    assert filterbank_warp(1.25) == pytest.approx(0.8)
    for alpha in (0.85, 1.2):
        for f0 in (1500.0, 2500.0, 4000.0):  # (lower, filter edges rounded to 31 Hz FFT bins blur it)
            plain = extract(np.sin(2 * np.pi * f0 * t).astype(np.float32), CFG).mean(0).argmax()
            moved = np.sin(2 * np.pi * alpha * f0 * t).astype(np.float32)
            assert abs(int(extract(moved, CFG).mean(0).argmax()) - int(plain)) >= 2  # far without VTLN
            assert extract(moved, CFG, warp=filterbank_warp(alpha)).mean(0).argmax() == plain


def test_choice_is_the_most_confident_warp_and_helps_an_unheard_voice(tiny):
    net, info, unheard = tiny
    audio = [a for a, _ in unheard]
    got = choose_warp(net, info, audio)
    # brute force: features with the filterbank warped by hand, spliced, normalised, softmax
    for a, conf in zip(got.warps, got.confidence, strict=True):
        tops = []
        for x in audio:
            feats = extract(x, CFG, warp=1.0 / a)
            k = np.clip(np.arange(len(feats))[:, None] + np.arange(-17, 18), 0, len(feats) - 1)
            z = torch.from_numpy(info.preprocess(feats[k].reshape(len(feats), -1)))
            with torch.no_grad():
                tops.append(torch.softmax(net(z), 1).max(1).values.numpy()[::3])  # every third frame
            np.testing.assert_allclose(network_inputs(info, x, warp=a), z.numpy(), atol=1e-6)
        # the page's posteriors come in other batches: the float32 tolerance of a forward pass
        assert conf == pytest.approx(float(np.concatenate(tops).mean()), abs=forward_rtol(net))
    assert got.warp == max(got.warps, key=lambda a: got.confidence[got.warps.index(a)])
    assert got.warp >= 1.15  # the unheard voice's formants are 25 % higher
    before, after = _accuracy(net, info, unheard, 1.0), _accuracy(net, info, unheard, got.warp)
    print(f"unheard voice: {before:.3f} -> {after:.3f} with warp {got.warp}")
    assert 1 - after < 0.5 * (1 - before)  # errors halved
    # a heard voice keeps a warp near 1
    rng = np.random.default_rng(5)
    assert abs(choose_warp(net, info, [_utterance(1.0, 1.0, rng)[0] for _ in range(3)]).warp - 1.0) <= 0.1


def test_warp_weights():
    w = warp_weights([0.5, 0.55, 0.6], sharpness=20.0, min_weight=0.0)
    e = np.exp(20.0 * np.array([0.5, 0.55, 0.6]))
    np.testing.assert_allclose(w, e / e.sum())
    np.testing.assert_allclose(warp_weights([0.2, 0.9, 0.3], sharpness=0.0), [1 / 3] * 3)  # plain average
    np.testing.assert_allclose(warp_weights([0.2, 0.9, 0.3], sharpness=1e4), [0, 1, 0])  # the best alone
    w = warp_weights([0.5, 0.7, 0.71], sharpness=20.0, min_weight=0.05)
    assert w[0] == 0.0 and w.sum() == pytest.approx(1.0) and w[2] > w[1] > 0


def test_vtln_posteriors_against_brute_force(tiny):
    net, info, unheard = tiny
    x = unheard[0][0]
    choice, got = vtln_posteriors(net, info, x)
    want_choice = choose_warp(net, info, [x])
    assert choice.warp == want_choice.warp and choice.frames == want_choice.frames
    np.testing.assert_allclose(choice.confidence, want_choice.confidence, atol=1e-6)
    # brute force: each warp's posteriors times softmax(20 x confidence), weights under 1 % dropped
    e = np.exp(20.0 * (np.array(want_choice.confidence) - max(want_choice.confidence)))
    w = e / e.sum()
    w[w < 0.01] = 0
    w /= w.sum()
    want = sum(wi * phone_posteriors(net, info, x, warp=a) for a, wi in zip(WARPS, w, strict=True))
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got.dtype == np.float32 and np.allclose(got.sum(1), 1.0, atol=1e-5)
    assert choice.weights[choice.warps.index(choice.warp)] == choice.weights.max()


def test_pick_prefers_the_warp_nearest_one_on_ties():
    assert pick(WARPS, [0.5] * len(WARPS)) == 1.0
    assert pick((0.9, 1.1, 1.2), (0.7, 0.7, 0.6)) == 1.1  # nearer to 1 on a log scale
    assert pick((0.8, 1.0, 1.25), (0.3, 0.2, 0.9)) == 1.25
    with pytest.raises(ValueError):
        choose_warp(None, None, [])


def test_lhuc_scales_fold_exactly_into_the_next_layers():
    torch.manual_seed(0)
    net = SpeechDNN(5 * 4, 7, width=6, n_hidden=3)
    x = torch.randn(9, 20)
    wrapped = _Adapted(net, 4, 5, with_input=False, with_lhuc=True)
    with torch.no_grad():
        for r in wrapped.lhuc:
            r.copy_(torch.randn(6))
        want = wrapped(x)
        # brute force: every hidden unit's output times 2 sigmoid(r), layer by layer
        h = x
        for lin, r in zip(net.linears[:-1], wrapped.lhuc, strict=True):
            h = torch.sigmoid(lin(h)) * 2 * torch.sigmoid(r)
        np.testing.assert_allclose(net.linears[-1](h), want, rtol=1e-5, atol=1e-6)
        assert not torch.allclose(net(x), want)
        fold_lhuc(net, [2 * torch.sigmoid(r) for r in wrapped.lhuc])
        np.testing.assert_allclose(net(x), want, rtol=1e-5, atol=1e-6)


def test_lhuc_adaptation_changes_only_the_layers_after_hidden_ones(tiny):
    net, info, unheard = tiny
    new, _, rep = adapt(net, info, unheard[:4], AdaptConfig(parts=("lhuc",), seed=0))
    assert rep.n_parameters == 2 * 32
    changed = {k for k, v in new.state_dict().items() if not torch.equal(v, net.state_dict()[k])}
    assert changed <= {"linears.1.weight", "linears.2.weight"}


def test_evaluate_vtln_on_a_corpus_per_voice(trained, tmp_path, capsys):
    """`evaluate --corpus DIR --vtln`: per voice, the warp chosen over its utterances and the
    accuracies, equal to a computation by hand from the WAV files and labels."""
    import csv
    import json

    import soundfile as sf

    from core.cli import main
    from core.models import load_model, save_model
    from core.phones import read_lab, write_lab

    res, _ = trained
    save_model(res.model, tmp_path / "m", res.meta)
    rng = np.random.default_rng(7)
    corpus, rows = tmp_path / "corpus", []
    corpus.mkdir()
    for i, (voice, w) in enumerate([("same", 1.0)] * 3 + [("higher", 1.25)] * 4):
        audio, segs = _utterance(w, 1.0, rng)
        sf.write(corpus / f"u{i}.wav", audio, SR, subtype="PCM_16")
        write_lab(corpus / f"u{i}.lab", segs)
        rows.append({"id": f"u{i}", "voice": voice, "text": "-", "seconds": f"{len(audio) / SR:.3f}"})
    with open(corpus / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=["id", "voice", "text", "seconds"])
        out.writeheader()
        out.writerows(rows)
    assert main(["evaluate", str(tmp_path / "m"), "--corpus", str(corpus), "--vtln", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["voices"]
    assert set(got) == {"same", "higher"}
    net, info = load_model(tmp_path / "m")
    for voice, ids in (("same", range(3)), ("higher", range(3, 7))):
        audio = [sf.read(corpus / f"u{i}.wav", dtype="float32")[0] for i in ids]
        assert got[voice]["warp"] == choose_warp(net, info, audio).warp
        right = total = 0
        for i, x in zip(ids, audio, strict=True):
            pred = phone_posteriors(net, info, x, warp=got[voice]["warp"]).argmax(1)
            y = frame_labels(read_lab(corpus / f"u{i}.lab"), len(pred))
            right, total = right + int((pred == y).sum()), total + len(y)
        assert got[voice]["accuracy_vtln"] == pytest.approx(right / total, abs=0.5 / total)  # the same count
        assert got[voice]["frames"] == total
        # averaged over warps with each utterance's own weights, as the page does
        right = 0
        for i, x in zip(ids, audio, strict=True):
            pred = vtln_posteriors(net, info, x)[1].argmax(1)
            right += int((pred == frame_labels(read_lab(corpus / f"u{i}.lab"), len(pred))).sum())
        assert got[voice]["accuracy_vtln_averaged"] == pytest.approx(right / total, abs=0.5 / total)
    assert got["higher"]["warp"] >= 1.15 and abs(got["same"]["warp"] - 1.0) <= 0.1
    assert got["higher"]["accuracy_vtln"] > got["higher"]["accuracy"]
    # without --corpus: one clear message
    assert main(["evaluate", str(tmp_path / "m"), "--vtln"]) != 0
    assert "--vtln needs" in capsys.readouterr().err
