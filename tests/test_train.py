"""core.train on a tiny generated corpus: training, determinism, evaluation, validation sets, CLI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from core.cli import main
from core.data import DEFAULT_VOICES, ESPEAK_VOICES, CorpusError, load_corpus
from core.features import FeatureConfig
from core.models import MODELS_DIR, load_model
from core.phones import PHONES, Segment, write_lab
from core.train import (
    DigitSet,
    EvalResult,
    SpeechTrainConfig,
    TrainError,
    evaluate,
    export_validation,
    frame_targets,
    heldout_split,
    load_validation,
    mnist_split,
    select_utterances,
    speech_labels,
    speech_logits,
    train_speech,
)

SR = 16000
TINY_PHONES = ("sil", "aa", "iy", "s", "sh")
VOICES = ("va", "vb", "vc")
TINY = SpeechTrainConfig(width=32, layers=2, epochs=2, batch_size=32, lr=3e-3, seed=0)


def _band_noise(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec[(f < lo) | (f > hi)] = 0
    x = np.fft.irfft(spec, n)
    return x / (np.abs(x).max() + 1e-9)


def _sound(phone: str, n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """A crude stand-in for each phone: silence, two-formant vowels, band noise fricatives."""
    t = np.arange(n) / SR
    if phone == "sil":
        return 0.002 * rng.standard_normal(n)
    if phone == "aa":
        return 0.4 * np.sin(2 * np.pi * 700 * scale * t) + 0.3 * np.sin(2 * np.pi * 1100 * scale * t)
    if phone == "iy":
        return 0.4 * np.sin(2 * np.pi * 300 * scale * t) + 0.2 * np.sin(2 * np.pi * 2300 * scale * t)
    if phone == "s":
        return 0.3 * _band_noise(n, 4500 * scale, 7900, rng)
    return 0.3 * _band_noise(n, 1800 * scale, 3800 * scale, rng)


def make_corpus(folder, n_utts: int = 12, seed: int = 0):
    """Write a corpus folder in core.corpus' layout (wav + lab + manifest.csv); ~100 frames each."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for u in range(n_utts):
        voice = VOICES[u % 3]
        scale = (0.95, 1.0, 1.05)[u % 3]
        phones = ["sil", *rng.choice(TINY_PHONES[1:], size=6), "sil"]
        pieces, segs, t = [], [], 0
        for p in phones:
            n = int(rng.integers(80, 200)) * SR // 1000
            pieces.append(_sound(str(p), n, scale, rng))
            segs.append(Segment(t / SR, (t + n) / SR, str(p)))
            t += n
        uid = f"tiny_{u:03d}"
        sf.write(folder / f"{uid}.wav", np.concatenate(pieces).astype(np.float32), SR, subtype="PCM_16")
        write_lab(folder / f"{uid}.lab", segs)
        rows.append({"id": uid, "voice": voice, "text": " ".join(map(str, phones)), "seconds": f"{t / SR:.3f}"})
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "voice", "text", "seconds"])
        w.writeheader()
        w.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="module")
def frames(corpus_dir):
    return load_corpus(corpus_dir, FeatureConfig())


@pytest.fixture(scope="module")
def trained(frames):
    return train_speech(frames, TINY)


def _train_accuracy(res, frames) -> float:
    view = frames.spliced()
    x = res.meta["normalizer"].apply(view[np.arange(len(view))])
    with torch.no_grad():
        pred = res.model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == frame_targets(frames, "phone")).mean())


def test_tiny_training_learns(trained, frames):
    counts = np.bincount(frames.labels)
    majority = counts.max() / counts.sum()
    acc = _train_accuracy(trained, frames)
    assert acc > max(0.6, majority + 0.3)
    assert len(trained.history) == 2
    assert trained.history[-1].heldout_acc > majority
    assert not trained.model.training
    assert not any(p.requires_grad for p in trained.model.parameters())


def test_same_seed_same_weights_other_seed_differs(frames, trained):
    again = train_speech(frames, TINY)
    other = train_speech(frames, SpeechTrainConfig(**{**TINY.__dict__, "seed": 1}))
    sd, sd2, sd3 = trained.model.state_dict(), again.model.state_dict(), other.model.state_dict()
    assert all(torch.equal(sd[k], sd2[k]) for k in sd)
    assert not all(torch.equal(sd[k], sd3[k]) for k in sd)
    assert again.meta["metrics"] == trained.meta["metrics"]


def test_dropout_is_seeded_training_only_and_recorded(frames, trained):
    cfg = SpeechTrainConfig(**{**TINY.__dict__, "dropout": 0.3})
    a, b = train_speech(frames, cfg), train_speech(frames, cfg)
    sa, sb, s0 = a.model.state_dict(), b.model.state_dict(), trained.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # seeded
    assert not all(torch.equal(sa[k], s0[k]) for k in sa)  # it acts
    assert a.meta["training"]["dropout"] == 0.3 and trained.meta["training"]["dropout"] == 0.0
    # the hooks are gone after training: train mode gives the same outputs as eval mode
    x = torch.from_numpy(a.meta["normalizer"].apply(frames.spliced()[np.arange(64)]))
    a.model.train()
    with torch.no_grad():
        y1, y2 = a.model(x), a.model(x)
    a.model.eval()
    with torch.no_grad():
        assert torch.equal(y1, y2) and torch.equal(y1, a.model(x))
    assert _train_accuracy(a, frames) > 0.6
    with pytest.raises(TrainError, match="Dropout"):
        train_speech(frames, SpeechTrainConfig(**{**TINY.__dict__, "dropout": 1.0}))


def test_metadata_of_training(trained, frames):
    meta = trained.meta
    assert meta["labels"] == tuple(PHONES)
    assert meta["features"] == FeatureConfig()
    # Normaliser fitted on the raw training frames only (not the held-out 10 %).
    tr, _ = heldout_split(len(frames.utt_ids))
    from core.train import utterance_frames

    idx = utterance_frames(frames, tr)
    np.testing.assert_allclose(meta["normalizer"].mean_array, frames.feats[idx].mean(axis=0), rtol=1e-5, atol=1e-4)
    assert meta["data"]["train_frames"] == len(idx)
    assert meta["data"]["voices"] == list(VOICES)


def test_heldout_split_is_fixed_and_disjoint():
    a_tr, a_ho = heldout_split(50)
    b_tr, b_ho = heldout_split(50)
    assert np.array_equal(a_ho, b_ho) and len(a_ho) == 5
    assert set(a_tr).isdisjoint(a_ho) and len(a_tr) + len(a_ho) == 50
    with pytest.raises(TrainError, match="at least two"):
        heldout_split(1)


def test_state_targets(frames):
    res = train_speech(frames, SpeechTrainConfig(**{**TINY.__dict__, "targets": "state", "epochs": 1}))
    labels = res.meta["labels"]
    assert len(labels) == 3 * len(PHONES) and labels[:3] == ("sil_S1", "sil_S2", "sil_S3")
    assert res.history[-1].heldout_phone_acc is not None
    y = frame_targets(frames, "state")
    assert np.array_equal(y // 3, frames.labels) and np.array_equal(y % 3, frames.states)


def test_save_load_evaluate_matches_brute_force(trained, frames, tmp_path):
    from core.models import save_model

    save_model(trained.model, tmp_path / "m", trained.meta)
    model, info = load_model(tmp_path / "m")
    res = evaluate(model, info, frames)
    view = frames.spliced()
    x = info.preprocess(view[np.arange(len(view))])
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    y = frames.labels.astype(int)
    assert res.accuracy == pytest.approx(float((pred == y).mean()))
    conf = res.confusion_array()
    assert conf.sum() == len(y) == res.n
    assert conf[y[0], pred[0]] >= 1
    assert np.array_equal(conf.sum(axis=1), np.bincount(y, minlength=len(PHONES)))
    aa = PHONES.index("aa")
    assert res.per_class[aa] == pytest.approx(float((pred[y == aa] == aa).mean()))
    assert res.per_class[PHONES.index("zh")] is None
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) >= {"accuracy", "per_class", "confusion", "labels"}
    assert set(d["per_class"]) == set(TINY_PHONES)
    assert res.phone_accuracy == res.accuracy
    assert isinstance(hash(res), int)


def test_evaluate_by_voice(trained, frames, tmp_path):
    from core.models import save_model

    save_model(trained.model, tmp_path / "m", trained.meta)
    model, info = load_model(tmp_path / "m")
    parts = [evaluate(model, info, frames, voices=[v]) for v in VOICES]
    assert sum(p.n for p in parts) == len(frames)
    whole = evaluate(model, info, frames)
    assert sum(p.accuracy * p.n for p in parts) == pytest.approx(whole.accuracy * whole.n)
    with pytest.raises(TrainError, match="not in the corpus"):
        evaluate(model, info, frames, voices=["nobody"])


def test_wrong_features_for_model(trained, corpus_dir, tmp_path):
    from core.models import save_model

    save_model(trained.model, tmp_path / "m", trained.meta)
    model, info = load_model(tmp_path / "m")
    mfcc = load_corpus(corpus_dir, FeatureConfig(kind="mfcc"))
    with pytest.raises(TrainError, match="channels"):
        speech_logits(model, info, mfcc)
    with pytest.raises(TrainError, match="channels"):
        train_speech(mfcc, TINY)  # TINY asks for mfbank


def test_select_utterances_meets_minimums(frames):
    utts = select_utterances(frames, min_frames=300, min_per_phone=40, seed=0)
    from core.train import utterance_frames

    lab = frames.labels[utterance_frames(frames, utts)]
    assert len(lab) >= 300
    assert all(np.sum(lab == PHONES.index(p)) >= 40 for p in TINY_PHONES)
    assert len(utts) < len(frames.utt_ids)
    # asking for more than there is takes everything
    assert len(select_utterances(frames, min_frames=10**6)) == len(frames.utt_ids)


def test_export_and_load_validation(corpus_dir, frames, tmp_path, trained):
    out = export_validation(corpus_dir, FeatureConfig(), tmp_path / "v.npz", min_frames=400, min_per_phone=30)
    v = load_validation(out)
    assert v.feats.dtype == np.float32 and v.feats.shape[1] == 40
    assert len(v.labels) >= 400 and len(v.utt_ids) == len(v.voices) == len(v.utt_starts)
    # the exported utterances are exact (to float16) copies of the corpus frames
    from core.train import utterance_frames

    pos = [frames.utt_ids.index(u) for u in v.utt_ids]
    idx = utterance_frames(frames, np.asarray(pos))
    np.testing.assert_allclose(v.feats, frames.feats[idx], rtol=2e-3, atol=2e-2)
    assert np.array_equal(v.labels, frames.labels[idx]) and np.array_equal(v.states, frames.states[idx])
    assert v.spliced()[np.arange(3)].shape == (3, 1400)
    with np.load(out, allow_pickle=False) as z:
        assert z["feats"].dtype == np.float16
    # a model naming the file finds it
    from core.models import save_model

    save_model(trained.model, tmp_path / "m", {**trained.meta, "validation": str(out)})
    model, info = load_model(tmp_path / "m")
    assert evaluate(model, info).n == len(v.labels)


def test_load_validation_errors(tmp_path):
    with pytest.raises(TrainError, match="No validation set"):
        load_validation(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, feats=np.zeros((3, 40), np.float16))
    with pytest.raises(CorpusError, match="lacks the array 'labels'"):
        load_validation(bad)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CorpusError, match="not a readable"):
        load_validation(tmp_path / "junk.npz")


def test_speech_labels():
    assert speech_labels("phone") == PHONES
    assert speech_labels("state")[3 * PHONES.index("s") :][:3] == ("s_S1", "s_S2", "s_S3")
    with pytest.raises(TrainError, match="Unknown targets"):
        speech_labels("word")


def test_cli_train_and_evaluate(corpus_dir, tmp_path, capsys):
    out = tmp_path / "cli_model"
    rc = main(["train", "speech", "--corpus", str(corpus_dir), "--out", str(out), "--width", "16",
               "--layers", "2", "--epochs", "1", "--batch-size", "64", "--threads", "1"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "held-out acc" in err
    rc = main(["evaluate", str(out), "--corpus", str(corpus_dir), "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"accuracy", "per_class", "confusion", "labels"} and len(d["confusion"]) == len(PHONES)
    # a user error becomes exit code 2 and one line
    rc = main(["evaluate", str(out), "--corpus", str(tmp_path / "missing")])
    assert rc == 2
    assert capsys.readouterr().err.startswith("error:")


def test_cli_voices_leave_one_out(corpus_dir, tmp_path, capsys):
    out = tmp_path / "lovo"
    rc = main(["train", "speech", "--corpus", str(corpus_dir), "--valid-corpus", str(corpus_dir),
               "--voices", "va,vb", "--valid-voices", "vc", "--out", str(out), "--width", "16",
               "--layers", "1", "--epochs", "1", "--threads", "1"])
    assert rc == 0
    _, info = load_model(out)
    assert info.data["voices"] == ["va", "vb"] and info.data["valid_voices"] == ["vc"]
    assert info.metrics["heldout_frames"] == int(sum(np.asarray(load_corpus(corpus_dir).voices)[
        load_corpus(corpus_dir).frame_utt] == "vc"))


def test_mnist_split_is_stratified_and_fixed():
    tr, ho, idx = mnist_split(0)
    assert len(tr.labels) == 4000 and len(ho.labels) == 1000
    assert np.array_equal(np.bincount(ho.labels), np.full(10, 100))
    assert np.array_equal(idx, mnist_split(0)[2])
    assert tr.images.shape == (4000, 28, 28) and tr.images.max() == 255


def test_train_digits_tiny_is_deterministic(monkeypatch):
    import core.train.digits as digits_mod
    from core import train as train_mod

    tr, ho, idx = mnist_split(0)
    small = (DigitSet(tr.images[:600], tr.labels[:600]), DigitSet(ho.images[:200], ho.labels[:200]), idx[:200])
    monkeypatch.setattr(digits_mod, "mnist_split", lambda seed=0, per_class=100: small)
    cfg = train_mod.DigitTrainConfig(c1=4, c2=8, hidden=16, epochs=3, batch_size=32, lr=3e-3)
    a = train_mod.train_digits(cfg)
    b = train_mod.train_digits(cfg)
    assert a.history[-1].heldout_acc > 0.6  # chance is 0.1
    assert all(torch.equal(a.model.state_dict()[k], b.model.state_dict()[k]) for k in a.model.state_dict())
    assert a.meta["data"]["heldout_indices"] == idx[:200].tolist()


@pytest.mark.shipped
@pytest.mark.parametrize(
    ("name", "floor"), [("digits_cnn", 0.97), ("speech_en_mfbank", 0.85), ("speech_en_mfcc", 0.85)]
)
def test_shipped_models_reach_targets(name, floor):
    model, info = load_model(MODELS_DIR / name)
    res = evaluate(model, info)
    assert isinstance(res, EvalResult)
    assert res.accuracy >= floor, f"{name}: {res.accuracy:.4f} < {floor}"


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_shipped_validation_sets(kind):
    from core.models import VALIDATION_DIR

    v = load_validation(VALIDATION_DIR / f"en_{kind}.npz")
    assert v.cfg == FeatureConfig(kind=kind, utt_norm="cmn")  # as the shipped models (docs/MODELS.md)
    assert len(v.labels) >= 50000
    assert np.bincount(v.labels, minlength=len(PHONES)).min() >= 200
    assert set(v.voices) == set(DEFAULT_VOICES + ESPEAK_VOICES)  # held-out utterances of every training voice


def test_evaluate_restores_training_mode_and_leaves_no_grads(trained, frames, tmp_path):
    from core.models import save_model

    save_model(trained.model, tmp_path / "m", trained.meta)
    model, info = load_model(tmp_path / "m")
    model.requires_grad_(True).train()
    before = evaluate(model, info, frames).accuracy
    assert model.training and all(p.grad is None for p in model.parameters())
    model.eval()
    assert evaluate(model, info, frames).accuracy == before and not model.training


def test_torchs_cosine_schedule_equals_the_closed_form_at_every_step():
    """CosineAnnealingLR computes the rates recursively in float64: each step adds a rounding of about
    1e-16 relative, so after ``total`` steps they agree with the closed form to ``total * 1e-15``."""
    from core.train.loop import cosine_factor, cosine_schedule

    for total in (1, 37, 5000):
        lr = 1e-3
        opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        sched = cosine_schedule(lr, total)(opt)
        factor = cosine_factor(total)
        for step in range(total + 1):
            assert opt.param_groups[0]["lr"] == pytest.approx(lr * factor(step), rel=max(total, 10) * 1e-15), step
            if step < total:  # the last rate, lr/20, is checked above; training takes no step after it
                opt.step()
                sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(lr / 20, rel=1e-12)


def test_fit_stops_on_the_clock_after_one_step_and_still_measures():
    from core.train.loop import fit

    model = torch.nn.Linear(4, 2)
    x = np.random.default_rng(0).standard_normal((100, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    calls = []

    def heldout():
        calls.append(model.training)
        return 0.5, None

    history, stopped = fit(model, 100, lambda b, rng: (x[b], y[b]), heldout, epochs=3, batch_size=10,
                           lr=1e-2, seed=0, max_minutes=1e-12)
    assert stopped and len(history) == 1 and calls == [False]
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    full, stopped = fit(torch.nn.Linear(4, 2), 100, lambda b, rng: (x[b], y[b]), lambda: (0.5, None),
                        epochs=2, batch_size=10, lr=1e-2, seed=0)
    assert not stopped and [h.epoch for h in full] == [1, 2]


def test_run_adam_takes_one_adam_step_per_batch_with_the_schedule_and_stops_when_asked():
    """The one loop: the weights after two epochs equal torch's Adam + CosineAnnealingLR stepped by hand on the
    same batches; after_step's True ends the epoch, after_epoch still runs, and the loop ends."""
    from core.train.loop import cosine_schedule, run_adam

    x = torch.from_numpy(np.random.default_rng(0).standard_normal((30, 3)).astype(np.float32))
    y = (x[:, 0] > 0).long()
    batches = [torch.arange(i, min(i + 8, 30)) for i in range(0, 30, 8)]
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    ends = []
    stopped = run_adam(a.parameters(), lambda e: iter(batches),
                       lambda i: torch.nn.functional.cross_entropy(a(x[i]), y[i]),
                       epochs=2, lr=1e-2, schedule=cosine_schedule(1e-2, 8), after_epoch=ends.append)
    opt = torch.optim.Adam(b.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=1e-2 / 20)
    for _ in range(2):
        for i in batches:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(b(x[i]), y[i]).backward()
            opt.step()
            sched.step()
    assert not stopped and ends == [1, 2]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    steps = []
    stopped = run_adam(a.parameters(), lambda e: iter(batches),
                       lambda i: torch.nn.functional.cross_entropy(a(x[i]), y[i]), epochs=3, lr=1e-2,
                       after_step=lambda: steps.append(1) or len(steps) == 2, after_epoch=ends.append)
    assert stopped and len(steps) == 2 and ends == [1, 2, 1]
