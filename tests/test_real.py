"""The real-speech set (core.data.real): discovery rules, a set built from a small fixture laid out as
Debian's packages lay theirs out (the shipped English samples as "recordings"), its labels equal
to pocketsphinx's, and the figures of a model on it against a brute-force count."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from torch import equal as torch_equal

from core.audio import load_audio, trim_digital_silence
from core.cli import main
from core.data import read_manifest, real
from core.models import load_model
from core.phones import frame_labels, read_lab
from core.voice.align import align_pocketsphinx, decode, phone_posteriors, sample_texts
from core.voice.vtln import vtln_posteriors

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assets" / "samples"
ENGLISH = ["she_sells.wav", "fish_dish.wav", "bad_dog.wav"]


@pytest.fixture(scope="module")
def share(tmp_path_factory) -> Path:
    """A /usr/share look-alike: three shipped English samples as ALSA-style files named by their
    words, one ktuberling-style word (a sample renamed to what it says is not possible: the set's
    text comes from the name, so a one-word sample is cut from she_sells), and files the rules
    leave out (Noise.wav, klettres' "ch")."""
    root = tmp_path_factory.mktemp("share")
    texts = sample_texts(SAMPLES)
    alsa = root / "sounds" / "alsa"
    alsa.mkdir(parents=True)
    for name in ENGLISH:
        words = "".join(c for c in texts[name] if c.isalpha() or c == " ").split()
        shutil.copy(SAMPLES / name, alsa / ("_".join(w.capitalize() for w in words) + ".wav"))
    shutil.copy(SAMPLES / "big_deal.wav", alsa / "Noise.wav")
    kt = root / "ktuberling" / "sounds" / "en"
    kt.mkdir(parents=True)
    x, rate = sf.read(SAMPLES / "she_sells.wav")
    seg = next(s for s in read_lab(SAMPLES / "she_sells.lab") if s.phone == "s")  # "sells" starts with s
    lab = read_lab(SAMPLES / "she_sells.lab")
    word = [s for s in lab if s.start >= seg.start][:4]  # s eh l z
    a, b = int((word[0].start - 0.05) * rate), int((word[-1].end + 0.05) * rate)
    sf.write(kt / "shop_sells.ogg", x[a:b], rate)
    kl = root / "klettres" / "en" / "syllab"
    kl.mkdir(parents=True)
    sf.write(kl / "ch.ogg", x[a:b], rate)
    return root


def test_sources_and_their_texts(share):
    recs, missing = real.recordings(share=share)
    texts = sample_texts(SAMPLES)
    words = {" ".join("".join(c for c in texts[n] if c.isalpha() or c == " ").lower().split()) for n in ENGLISH}
    assert {(r.source, r.text) for r in recs} == {("alsa", w) for w in words} | {("ktuberling_en", "sells")}
    assert all(r.text != "noise" for r in recs) and all(r.source != "klettres_en" for r in recs)  # not words
    assert set(missing) == {"klettres_en_letters", "klettres_en_gb"}  # klettres_en is there, with no word
    assert real._ktuberling("egypt_palmtree") == "palm tree" and real._ktuberling("moon_ufo") == "u f o"
    assert real._klettres("TH") is None and real._klettres("GAS") == "gas"
    with pytest.raises(real.RealSpeechError, match="Unknown real-speech source"):
        real.recordings(["nope"], share=share)


def test_build_writes_a_corpus_labelled_by_pocketsphinx(share, tmp_path):
    out = tmp_path / "set"
    rep = real.build(out, share=share)
    rows = read_manifest(out)
    assert rep.written == len(rows) == 4 and not rep.skipped
    assert {r["voice"] for r in rows} == {"alsa", "ktuberling_en"}
    for r in rows:
        audio = trim_digital_silence(load_audio(r["source"]))
        back = load_audio(out / f"{r['id']}.wav")
        assert back.shape == audio.shape and np.abs(back - audio).max() <= 1 / 32767  # 16-bit PCM: one step
        want = align_pocketsphinx(audio, r["text"]).phones
        got = read_lab(out / f"{r['id']}.lab")
        assert [s.phone for s in got] == [s.phone for s in want]
        np.testing.assert_allclose([(s.start, s.end) for s in got], [(s.start, s.end) for s in want], atol=1e-4)
    meta = json.loads((out / "real.json").read_text())
    assert meta["sources"] == {"ktuberling_en": 1, "alsa": 3} and meta["skipped"] == 0
    with pytest.raises(real.RealSpeechError, match="already holds a corpus"):
        real.build(out, share=share)
    with pytest.raises(real.RealSpeechError, match="apt-get install"):
        real.build(tmp_path / "none", share=tmp_path / "empty")


def _levenshtein(a: list[str], b: list[str]) -> int:
    """The oracle: the textbook dynamic programme."""
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


def test_evaluation_equals_a_brute_force_count(share, tmp_path, tiny_models_dir):
    out = tmp_path / "set"
    real.build(out, share=share)
    net, info = load_model(tiny_models_dir / "speech_en_mfbank")
    res = real.evaluate_real(net, info, out)
    want: dict[str, list[int]] = {}
    for r in read_manifest(out):
        x = load_audio(out / f"{r['id']}.wav", max_seconds=1e9)
        segs = read_lab(out / f"{r['id']}.lab")
        plain, avg = phone_posteriors(net, info, x), vtln_posteriors(net, info, x)[1]
        y = frame_labels(segs, len(plain)).astype(int)
        speech = y != 0
        ref = [s.phone for s in segs if s.phone != "sil"]
        ref = [p for i, p in enumerate(ref) if i == 0 or p != ref[i - 1]]

        def hyp(post, x=x):
            seq = [d.segment.phone for d in decode(post, len(x) / 16000, list(info.phones)) if d.segment.phone != "sil"]
            return [p for i, p in enumerate(seq) if i == 0 or p != seq[i - 1]]

        w = want.setdefault(r["voice"], [0, 0, 0, 0, 0, 0])
        for k, v in enumerate((int(speech.sum()), int((plain.argmax(1) == y)[speech].sum()),
                               int((avg.argmax(1) == y)[speech].sum()), len(ref),
                               _levenshtein(ref, hyp(plain)), _levenshtein(ref, hyp(avg)))):
            w[k] += v
    assert set(res.per_source) == set(want)
    for src, (frames, right, right_v, phones, edits, edits_v) in want.items():
        got = res.per_source[src]
        assert got["frames"] == frames
        assert got["agreement"] == round(right / frames, 4) and got["agreement_vtln"] == round(right_v / frames, 4)
        assert got["per"] == round(edits / phones, 4) and got["per_vtln"] == round(edits_v / phones, 4)
    total = [sum(w[k] for w in want.values()) for k in range(6)]
    assert res.overall["frames"] == total[0] and res.overall["agreement"] == round(total[1] / total[0], 4)
    assert res.set_info["sources"] == {"alsa": 3, "ktuberling_en": 1} and res.trained_on == ()


def test_cli_evaluate_real_writes_the_models_metadata(share, tmp_path, tiny_models_dir, capsys):
    out = tmp_path / "set"
    real.build(out, share=share)
    model = tmp_path / "m"
    shutil.copytree(tiny_models_dir / "speech_en_mfbank", model)
    before = (model / "model.safetensors").read_bytes()
    assert main(["evaluate", str(model), "--real", str(out), "--json", "--write"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _, info = load_model(model)  # still loads: the weights' checksum is unchanged
    assert info.metrics["real_speech"]["overall"] == printed["overall"]
    assert info.metrics["heldout_accuracy"] > 0  # the other metrics are kept
    assert (model / "model.safetensors").read_bytes() == before
    # a Japanese model or a missing set: one line, exit 2
    assert main(["evaluate", str(model), "--real", str(tmp_path / "nowhere")]) == 2
    assert "real-voices build" in capsys.readouterr().err
    assert main(["evaluate", str(model), "--real", str(out), "--vtln"]) == 2


def test_model_cards_show_the_real_speech_figure(share, tmp_path, tiny_models_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.models import write_metrics
    from core.viz.units import accuracy_text

    models = tmp_path / "models"
    shutil.copytree(tiny_models_dir, models)
    real.build(tmp_path / "set", share=share)
    net, info = load_model(models / "speech_en_mfbank")
    res = real.evaluate_real(net, info, tmp_path / "set")
    write_metrics(models / "speech_en_mfbank", {"real_speech": res.to_dict()})
    monkeypatch.setenv("DNNLENS_MODELS", str(models))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    assert not at.exception
    cards = " ".join(m.value for m in at.markdown)
    a = accuracy_text(res.overall["agreement"])
    assert f"On real speech (4 recordings of 2 sources from Debian's packages): {a} of the non-silence" in cards
    assert "speech_en_states" in cards and "Real speech: not measured (`python -m core evaluate speech_en_states" in cards
    side = " ".join(c.value for c in at.sidebar.caption)
    assert f"{a} real speech" in side and accuracy_text(info.metrics["heldout_accuracy"]) in side


@pytest.fixture(scope="module")
def mixed(share, tmp_path_factory):
    """(synthetic training frames: 12 utterances of the shipped validation set, the fixture's real
    set as a corpus with the same features, its folder)."""
    from core.data import load_corpus
    from core.models import VALIDATION_DIR
    from core.train import load_validation
    from tests.conftest import _subset_npz

    tmp = tmp_path_factory.mktemp("mixed")
    frames = load_validation(_subset_npz(VALIDATION_DIR / "en_mfbank.npz", tmp / "v.npz", 12))
    real.build(tmp / "set", share=share)
    return frames, load_corpus(tmp / "set", frames.cfg), tmp / "set"


def _train(frames, **kw):
    from core.train import SpeechTrainConfig, train_speech

    cfg = SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=3, batch_size=128, lr=3e-3)
    return train_speech(frames, cfg, features=frames.cfg, valid=frames, **kw)


def test_real_weight_zero_is_the_synthetic_recipe_bit_for_bit(mixed):
    frames, real_frames, _ = mixed
    plain = _train(frames)
    zero = _train(frames, real=real_frames, real_weight=0.0)
    sd, sz = plain.model.state_dict(), zero.model.state_dict()
    assert all(torch_equal(sd[k], sz[k]) for k in sd)
    assert "real" not in zero.meta["data"] and zero.meta["data"] == plain.meta["data"]
    some = _train(frames, real=real_frames, real_weight=0.3)
    assert not all(torch_equal(sd[k], some.model.state_dict()[k]) for k in sd)  # it acts
    assert some.meta["data"]["real_sources"] == ["alsa", "ktuberling_en"]
    n_syn = plain.meta["data"]["train_frames"]
    assert some.meta["data"]["real"]["draws_per_epoch"] == round(0.3 / 0.7 * n_syn)


def test_a_model_trained_with_the_real_set_agrees_with_it_better(mixed, tmp_path):
    from core.models import save_model

    frames, real_frames, folder = mixed
    scores = {}
    for name, kw in (("without", {}), ("with", {"real": real_frames, "real_weight": 0.3})):
        res = _train(frames, **kw)
        net, info = load_model(save_model(res.model, tmp_path / name, res.meta))
        scores[name] = real.evaluate_real(net, info, folder)
    assert scores["with"].overall["agreement"] > scores["without"].overall["agreement"] + 0.05
    assert scores["with"].trained_on == ("alsa", "ktuberling_en") and scores["without"].trained_on == ()


def test_real_sources_choose_and_refuse(mixed):
    from core.train import TrainError

    frames, real_frames, _ = mixed
    one = _train(frames, real=real_frames, real_weight=0.2, real_sources=["alsa"])
    assert one.meta["data"]["real_sources"] == ["alsa"] and one.meta["data"]["real"]["utterances"] == 3
    with pytest.raises(TrainError, match="no source 'klettres_en'"):
        _train(frames, real=real_frames, real_weight=0.2, real_sources=["klettres_en"])


def test_vtln_default_comes_from_the_held_out_real_sources(tiny_models_dir):
    from dataclasses import replace

    _, info = load_model(tiny_models_dir / "speech_en_mfbank")
    assert real.vtln_evidence(info) is None and real.vtln_by_default(info) is False

    def with_figures(per_source, trained_on=()):
        return replace(info, metrics={"real_speech": {"per_source": per_source, "trained_on": list(trained_on)}})

    helps = {"a": {"frames": 100, "agreement": 0.30, "agreement_vtln": 0.35},
             "b": {"frames": 300, "agreement": 0.40, "agreement_vtln": 0.38}}
    # pooled by frames: (30 + 120) / 400 = 0.375 plain, (35 + 114) / 400 = 0.3725 with VTLN: off
    assert real.vtln_evidence(with_figures(helps)) == (0.375, 0.3725)
    assert real.vtln_by_default(with_figures(helps)) is False
    # b was in the training data: only a counts, where VTLN helps
    assert real.vtln_evidence(with_figures(helps, ["b"])) == (0.30, 0.35)
    assert real.vtln_by_default(with_figures(helps, ["b"])) is True
    # trained on both: no evidence of its own, but the same recipe's leave-one-source-out figures
    everything = with_figures(helps, ["a", "b"])
    assert real.vtln_evidence(everything) is None
    held = {"a": {"frames": 100, "agreement": 0.20, "agreement_vtln": 0.25},
            "b": {"frames": 100, "agreement": 0.30, "agreement_vtln": 0.30}}
    everything = replace(everything, metrics={**everything.metrics, "real_speech_heldout": {"per_source": held}})
    assert real.vtln_evidence(everything) == (0.25, 0.275) and real.vtln_by_default(everything) is True
    assert real.held_out_by_recipe(everything) and not real.held_out_by_recipe(with_figures(helps, ["b"]))
    # the sidebar quotes the held-out figure, never the one on sources the model was trained on
    from app_state.texts import accuracy_caption

    assert accuracy_caption(everything).endswith("25.0 % real speech (held out)"), accuracy_caption(everything)
    assert accuracy_caption(with_figures(helps, ["b"])).endswith("30.0 % real speech (held out)")
    assert accuracy_caption(info).endswith("; real speech not measured")  # not a bare "?"
