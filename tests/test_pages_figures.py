"""Pages print no typed numbers (issue 26): each page is rendered with the tiny shipped-like model
and with a second model whose every stated figure differs (MFCC, 13 values a frame, 5 frames of
context: 11 frames, 143 inputs), and the figures the pages state follow the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_pages import no_errors, run_page
from tests.test_pages_voice import voice_page


def _stated(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


@pytest.fixture(params=["tiny", "other"])
def models(request, tiny_models_dir, other_models_dir, monkeypatch):
    root = tiny_models_dir if request.param == "tiny" else other_models_dir
    monkeypatch.setenv("DNNLENS_MODELS", str(root))
    from core.models import list_models

    return next(m for m in list_models(root) if m.kind == "speech" and m.name in (
        "speech_en_mfbank", "speech_en_mfcc_c5"))


def test_home_states_the_models_framing(models):
    f = models.features
    at = run_page("screens/home.py")
    no_errors(at)
    text = _stated(at)
    ms = round(f.context * f.winstep * 1000, 3)
    assert f"It sees {f.n_context_frames} frames: {ms:g} ms before and after the frame" in text, text[:400]
    kind = "MFBANK" if f.kind == "mfbank" else "MFCC"
    assert f"({kind}; {f.input_dim:,} numbers)" in text
    assert f"Which of the {f.input_dim:,} inputs" in text
    other = {"speech_en_mfbank": "It sees 11 frames", "speech_en_mfcc_c5": "It sees 35 frames"}[models.name]
    assert other not in text


def test_your_voice_states_the_models_window_and_warps(models):
    from core.voice.vtln import MIN_WEIGHT, WARPS, WEIGHT_SHARPNESS

    f = models.features
    at = voice_page(vtln=True)
    no_errors(at)
    text = _stated(at)
    assert f"The {f.window_seconds * 1000:g} ms the network sees for this frame (its {f.n_context_frames}-frame" in text
    assert f"e^({WEIGHT_SHARPNESS:g} × its mean top posterior); warps with under {100 * MIN_WEIGHT:g} %" in text
    vtln_help = at.toggle(key="w_voice_vtln").help
    assert f"from {min(WARPS):.2f} to {max(WARPS):.2f}" in vtln_help


def test_home_suggests_phonemes_the_model_has():
    import app_state as S
    from core.phones import ENGLISH, JAPANESE

    assert S.map_examples(list(ENGLISH.phones)) == "/iy/, /aa/ or /m/"
    ja = S.map_examples(list(JAPANESE.phones))
    assert "/iy/" not in ja and ja.count("/") == 6
    assert all(p in JAPANESE.phones for p in ja.replace(" or ", ", ").replace("/", "").split(", "))


def test_a_quoted_card_names_its_model_when_the_page_shows_another(tiny_models):
    import app_state as S

    S.live_finding("s_sh")  # computed on the tiny speech_en_mfbank: Home may quote it
    assert S.quoted_finding("s_sh", "speech_en_mfbank").startswith(" This model (the Findings page):")
    other = S.quoted_finding("s_sh", "speech_ja_mfbank")
    assert other.startswith(" The model speech_en_mfbank (the Findings page):")


def test_the_sidebar_says_not_measured_rather_than_a_question_mark(tiny_models):
    import app_state as S

    info = S.speech_models()["speech_en_mfbank"]  # the tiny model has no real-speech figures
    text = S.accuracy_caption(info)
    assert "real speech not measured" in text and "?" not in text


def test_home_describes_the_models_voices(models):
    from core.data.synth import summarize_voices

    at = run_page("screens/home.py")
    no_errors(at)
    text = _stated(at)
    v = summarize_voices(models.data["voices"])
    n = sum(len(x) for x in v.by_program.values())
    assert f"{n} voices take turns, one sentence each" in text
    lo, hi = v.warp
    assert f"(k = {lo:.2f}-{hi:.2f})" in text
    import app_state as S

    assert f"in {S.validation_voices(models.name)} voices." in text
    assert "Seventeen" not in text and "seventeen" not in text


def test_a_model_of_recorded_speakers_is_not_called_synthetic(tiny_models):
    import dataclasses

    import app_state as S

    info = S.speech_models()["speech_en_mfbank"]
    recorded = dataclasses.replace(info, data={**info.data, "voices": ["spk01", "spk02", "spk03"],
                                               "corpus": "data/my_corpus", "train_utterances": 900})
    home = S.english_voices_text(recorded, 3)
    assert "recordings, not synthetic speech" in home and "3 speakers" in home and "synthesised by" not in home
    intro = S.voice_page_intro(recorded, False, [])
    assert "**synthetic voices**" not in intro and "data/my_corpus" in intro
    synthetic = S.voice_page_intro(info, False, [])
    assert "**synthetic voices**" in synthetic and S.training_voices_short(info) in synthetic


# --- the other pages: Digit CNN, Findings, Which importance to trust, Phoneme pair, Your voice ------


@pytest.fixture(params=["tiny", "other"])
def digits_model(request, tiny_models_dir, other_models_dir, monkeypatch):
    root = tiny_models_dir if request.param == "tiny" else other_models_dir
    monkeypatch.setenv("DNNLENS_MODELS", str(root))
    from core.models import list_models

    return next(m for m in list_models(root) if m.kind == "digits")


def test_the_digit_page_states_the_loaded_networks_sizes(digits_model):
    import app_state as S

    at = run_page("screens/digit_cnn.py")
    no_errors(at)
    text = _stated(at)
    net, _ = S.digits_model(digits_model.name)
    ds, _ = S.digits_data(digits_model.name)
    a = digits_model.arch
    k = "{} × {}".format(*net.conv1.kernel_size)
    image = "{} × {}".format(*ds.images.shape[-2:])
    assert (f"reads {image} handwritten digits: {a['c1']} filters of {k} pixels, pooling, {a['c2']} filters over "
            "those maps, pooling, then two fully connected layers.") in text, text[:400]
    assert "summed over the ten outputs and over the map's positions" in text
    assert f"First-layer filters ({k} weights;" in text
    assert "summed over the 10 outputs and the positions" in text
    other = {"digits_cnn": "3 filters of", "digits_cnn_small": "4 filters of"}[digits_model.name]
    assert other not in text


def test_the_digit_sentences_follow_any_network():
    """Another network (3 x 3 kernels, three fully connected layers, 12 outputs, 20 x 20 images):
    every size of the Digit CNN page's sentences is read from it."""
    import numpy as np
    from torch import nn

    import app_state as S

    net = nn.Sequential(nn.Conv2d(1, 6, 3), nn.Conv2d(6, 9, 3), nn.Linear(9, 7), nn.Linear(7, 7), nn.Linear(7, 12))
    shape = S.digit_shape(net, np.zeros((4, 20, 20)))
    assert shape == {"image": (20, 20), "kernel": (3, 3), "c1": 6, "c2": 9, "fc": 3, "outputs": 12}
    text = S.digit_intro_text(shape, "91%", 400)
    assert text.startswith("A small convolutional network reads 20 × 20 handwritten digits: 6 filters of 3 × 3 pixels, "
                           "pooling, 9 filters over those maps, pooling, then three fully connected layers.")
    assert "summed over the twelve outputs" in text and "400 held-out" in text
    assert S.digit_filters_caption(shape).startswith("First-layer filters (3 × 3 weights;")


@pytest.fixture(scope="session")
def findings_c5_dir(tmp_path_factory) -> Path:
    """A models folder whose Fig 4 model (core.findings.STATES_MODEL) sees 5 frames of context on
    each side (11 time offsets): a 2 x 16 ReLU 3-state DNN on MFBANK, one epoch on 12 utterances."""
    from core import findings as F
    from core.models import save_model
    from core.train import SpeechTrainConfig, train_speech
    from tests.conftest import _context5_validation

    root = tmp_path_factory.mktemp("findings_c5")
    frames, npz = _context5_validation("mfbank", root)
    cfg = SpeechTrainConfig(width=16, layers=2, activation="relu", epochs=1, batch_size=128, lr=3e-3, targets="state")
    result = train_speech(frames, cfg, features=frames.cfg, valid=frames, validation=str(npz))
    save_model(result.model, root / F.STATES_MODEL, result.meta)
    return root


@pytest.mark.parametrize("which", ["tiny", "c5"])
def test_findings_fig4_states_its_models_time_offsets(which, tiny_models_dir, findings_c5_dir, monkeypatch):
    from core import findings as F
    from core.models import read_model_info

    root = findings_c5_dir if which == "c5" else tiny_models_dir
    monkeypatch.setenv("DNNLENS_MODELS", str(root))
    at = run_page("screens/findings.py")
    assert not at.exception, [e.message for e in at.exception]
    text = _stated(at)
    model = root / F.STATES_MODEL if which == "c5" else root / "speech_en_states"
    n = read_model_info(model).features.n_context_frames if which == "c5" else 35  # tiny: not under the card's name
    assert f"(summed over the {n} time offsets)" in text, [c.value for c in at.caption]
    assert {"c5": 11, "tiny": 35}[which] == n


@pytest.fixture()
def small_trust(monkeypatch):
    """The comparison with other sizes than the shipped ones (50 resamples, 7 halvings): the page
    states these."""
    import app_state.methods as M
    from app_state.cache import _memo
    from core.trust import maps

    cfg = maps.TrustConfig(n_frames=200, n_sanity_frames=40, n_eval_frames=60, n_boot=50, n_splits=7)
    monkeypatch.setattr(maps, "DEFAULT_CONFIG", cfg)
    monkeypatch.setattr(M, "TRUST_CFG", cfg)
    _memo.clear()  # the stores' keys do not hold the sizes: nothing computed with the shipped ones is read,
    yield cfg
    _memo.clear()  # and nothing computed with these is left for the next test


def test_methods_page_states_the_comparisons_sizes(tiny_models, small_trust):
    from core.trust import LEVEL, Z95

    at = run_page("screens/methods.py")
    no_errors(at)
    level = f"{100 * LEVEL:g} %"
    assert level == "95 %" and f"{Z95:.2f}" == "1.96"
    assert f"Intervals: {level} bootstrap over utterances, not frames." in _stated(at)
    hollow = at.toggle(key="methods_hollow").help
    assert f"sample set {small_trust.n_boot} times" in hollow and f"below {Z95:.2f} times" in hollow, hollow
    assert f"(the {level} interval reaches 0)" in hollow
    at.segmented_control(key="w_methods_view").set_value("stability").run()
    no_errors(at)
    text = _stated(at)
    assert f"comes from {small_trust.n_boot} resamples of the utterances" in text, text[-800:]
    assert f"averaged over {small_trust.n_splits} random halvings" in text


def test_your_voice_states_the_models_frame_step_and_decoding(models):
    from core.voice.align import MIN_FRAMES

    f = models.features
    step = f"{f.winstep * 1000:g} ms"
    at = voice_page()
    no_errors(at)
    text = _stated(at)
    assert f"runs under {MIN_FRAMES * f.winstep * 1000:g} ms smoothed)" in text
    if any(c.value.startswith("Frames (") for c in at.caption):
        assert f"Frames ({step}) of each phoneme in your recording" in text
    labels = [s.label for s in at.select_slider]
    assert f"Time offset (frames of {step})" in labels, labels


def test_frame_step_and_shortest_run_follow_the_features():
    import dataclasses

    import app_state as S
    from core.features import FeatureConfig

    f = dataclasses.replace(FeatureConfig(), winstep=0.02)
    assert S.frame_step_text(f) == "20 ms" and S.shortest_run_ms(f) == 60
    assert S.frame_step_text(FeatureConfig()) == "10 ms" and S.shortest_run_ms(FeatureConfig()) == 30


def test_the_digit_page_reads_its_sizes_from_the_network_it_loaded(tiny_models, monkeypatch):
    """The page given a network with 3 x 3 kernels in its first layer states 3 x 3, not a typed 5 x 5."""
    import copy

    from torch import nn

    import app_state as S

    real = S.digits_model

    def with_3x3(name):
        net, info = real(name)
        net = copy.deepcopy(net)
        net.conv1 = nn.Conv2d(1, net.c1, 3, padding=1)
        return net, info

    monkeypatch.setattr(S, "digits_model", with_3x3)
    at = run_page("screens/digit_cnn.py")
    no_errors(at)
    text = _stated(at)
    assert "4 filters of 3 × 3 pixels" in text and "First-layer filters (3 × 3 weights;" in text, text[:400]
    assert "5 × 5" not in text


def test_hollow_note_and_descriptions_state_cores_constants(tiny_models, monkeypatch):
    import pandas as pd

    import app_state as S
    from core import trust
    from core.models.info import STATE_SUFFIXES

    cells = pd.DataFrame({"solid": [True, False, True]})
    assert S.hollow_note(cells) == "1 of the 3 cells shown are not distinguishable from zero at 95 % (hollow)."
    monkeypatch.setattr(trust, "LEVEL", 0.9)
    assert S.hollow_note(cells).endswith("at 90 % (hollow).")
    states = S.speech_models()["speech_en_states"]
    assert f"({len(STATE_SUFFIXES)} states per phoneme)" in S.model_description(states)
    digits = S.digits_models()["digits_cnn"]
    assert S.model_description(digits).startswith("Digit CNN: 5 × 5 convolutions with 4 and 6 filters")
