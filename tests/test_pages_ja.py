"""The pages with a Japanese model (a tiny real one, trained on shipped Japanese validation frames)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.models import VALIDATION_DIR, save_model
from core.phones import JAPANESE
from tests.conftest import _subset_npz
from tests.test_pages import no_errors, run_page
from tests.test_pages_voice import voice_page

JA = "speech_ja_mfbank"


@pytest.fixture(scope="module")
def ja_models_dir(tiny_models_dir, tmp_path_factory) -> Path:
    """The tiny English models plus `speech_ja_mfbank`: a 2 x 32 ReLU DNN trained for 3 epochs on 12
    utterances of the shipped Japanese validation set, whose own validation set is those frames."""
    from core.train import SpeechTrainConfig, load_validation, train_speech

    root = tmp_path_factory.mktemp("models_ja")
    for sub in tiny_models_dir.iterdir():
        if sub.is_dir():
            shutil.copytree(sub, root / sub.name)
    npz = _subset_npz(VALIDATION_DIR / "ja_mfbank.npz", root / "val_ja.npz", 12)
    frames = load_validation(npz)
    assert frames.phone_set is JAPANESE
    cfg = SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=3, batch_size=128, lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: one thread is faster on a busy machine
    try:
        result = train_speech(frames, cfg, features=frames.cfg, valid=frames, validation=str(npz))
    finally:
        torch.set_num_threads(threads)
    save_model(result.model, root / JA, result.meta)
    return root


@pytest.fixture()
def ja_models(ja_models_dir, monkeypatch) -> Path:
    monkeypatch.setenv("DNNLENS_MODELS", str(ja_models_dir))
    return ja_models_dir


def test_every_page_offers_and_works_with_the_japanese_model(ja_models):
    at = run_page("screens/home.py", model=JA)
    for page in ("screens/units_pruning.py", "screens/phoneme_pair.py", "screens/importance_map.py"):
        at.switch_page(page).run()
        no_errors(at)
        select = at.sidebar.selectbox(key="w_settings_model")
        assert any(o.startswith(JA) for o in select.options) and at.session_state["settings_model"] == JA
        # a name that says its features is shown alone (a long one was cut in the sidebar)
        assert JA in select.options and not any(o.endswith("(MFBANK)") and "mfbank" in o for o in select.options)
        assert at.query_params["model"] == JA


def test_importance_map_lists_japanese_phonemes_with_kana(ja_models):
    at = run_page("screens/importance_map.py", model=JA)
    box = at.selectbox(key="w_phone")
    values = [o.split()[0] for o in box.options]
    assert set(values) <= set(JAPANESE.phones) and "N" in values and "ky" in values
    assert any(o.startswith("sh シ  (/ɕ/") for o in box.options)
    box.set_value("sh").run()
    no_errors(at)


def test_pair_page_suggests_japanese_pairs(ja_models):
    at = run_page("screens/phoneme_pair.py", model=JA)
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == ("s", "sh")
    keys = [b.key for b in at.button if b.key and b.key.startswith("sugg_")]
    assert keys[:2] == ["sugg_s_sh", "sugg_b_d"] and len(keys) > 2
    pairs = [tuple(k.split("_")[1:]) for k in keys]
    assert all(a in JAPANESE and b in JAPANESE and "sil" not in (a, b) for a, b in pairs)
    # the model's most confused pair after the paper's: one of Japanese's own (e.g. N, cl, ky)
    at.button(key=keys[-1]).click().run()
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == pairs[-1]


def test_your_voice_with_the_japanese_model_aligns_japanese_samples(ja_models):
    at = voice_page()
    at.sidebar.selectbox(key="w_settings_model").set_value(JA).run()
    no_errors(at)
    sample = at.selectbox(key="w_voice_sample")
    assert sample.options and all(o.startswith("ja_") for o in sample.options)
    assert at.text_input[0].value.endswith("。")
    which = at.radio(key="w_voice_which")
    assert list(which.options) == ["network"]  # pocketsphinx has no Japanese model
    assert any("Decoded by the network" in c.value for c in at.caption)


def _shown(box, before: str | None) -> str:
    """The text a select box shows in the browser: the browser keeps the text of the option it showed
    until the server sends a value (``set_value``, with the option's new text as ``raw_value``)."""
    if box.proto.set_value:
        return box.proto.raw_value
    return before if before is not None else box.options[box.proto.default]


@pytest.mark.parametrize(
    ("page", "keys"),
    [("screens/importance_map.py", ("w_phone",)), ("screens/phoneme_pair.py", ("w_pair_a", "w_pair_b"))],
)
def test_phoneme_boxes_show_the_new_models_labels_after_a_model_switch(ja_models, page, keys):
    at = run_page(page)
    shown = {k: _shown(at.selectbox(key=k), None) for k in keys}
    assert shown["w_phone" if "w_phone" in keys else "w_pair_a"].startswith("s  (/s/ as in '")
    for model in (JA, "speech_en_mfbank"):
        at.sidebar.selectbox(key="w_settings_model").set_value(model).run()
        no_errors(at)
        for k in keys:
            box = at.selectbox(key=k)
            shown[k] = _shown(box, shown[k])
            # the text shown is the new model's label of the chosen phoneme, one of the box's options
            assert shown[k] == box.options[box.index], (model, k, shown[k], box.options[box.index])
        if model == JA:
            assert "Japanese word" in shown[keys[0]]


def test_your_voice_compares_with_the_corpus_on_the_networks_alignment_with_the_japanese_model(ja_models):
    """pocketsphinx has no Japanese: the section takes the frames from the network's own alignment,
    says so, and the ticks are the recording's values over those frames."""
    import app_state as S
    from core.audio import load_audio, trim_digital_silence
    from core.viz import maps as charts
    from core.voice.align import align, network_inputs
    from core.voice.compare import student_frames
    from core.voice.vtln import vtln_posteriors
    from tests.test_pages_voice import _datasets

    at = voice_page()
    at.sidebar.selectbox(key="w_settings_model").set_value(JA).run()
    at.toggle(key="w_voice_vtln").set_value(True).run()
    no_errors(at)
    assert any(s.value == "Your phonemes and the corpus" for s in at.subheader)
    counts = next(c.value for c in at.caption if c.value.startswith("Frames (10 ms) of each phoneme"))
    assert "the network's own alignment" in counts and "pocketsphinx's alignment" not in counts
    name = at.selectbox(key="w_voice_sample").value
    text = at.text_input[0].value
    net, info = S.model(JA)
    x = trim_digital_silence(load_audio(Path(S.voice_sample_path(name)).read_bytes()))  # as the page
    choice, post = vtln_posteriors(net, info, x)  # the page's VTLN, switched on: the network's alignment
    warp = choice.warp  # uses the posteriors averaged over the warps, the inputs the most confident warp's
    sf = student_frames(network_inputs(info, x, warp=warp),
                        align(x, " ".join(text.split()), "network", info=info, posteriors=post).phones, info.phone_set)
    pa = at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("w_vcmp_a_"))).value
    pb = at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("w_vcmp_b_"))).value
    assert f"/{pa}/ {sf.count(pa)}" in counts and f"/{pb}/ {sf.count(pb)}" in counts
    table, _ = S.pair_data(S.Settings(JA, "all", "std", "posterior"), pa, pb, S.DEFAULT_BINS)
    top = charts.ranked(table, "score", 1).iloc[0]
    rug = next(d for d in _datasets(at) if "who" in d.columns)
    want = np.sort(np.concatenate([sf.values(pa, top["input"]), sf.values(pb, top["input"])]))
    np.testing.assert_allclose(np.sort(rug["x"].to_numpy()), want, rtol=1e-6)


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("hello wrld xyzzy", "warning", "The transcript has Latin letters (hello, wrld, xyzzy)"),
    ("😀😀", "error", "no words that can be read"),
])
def test_your_voice_japanese_transcript_with_latin_letters_or_only_emoji_says_so(ja_models, text, kind, message):
    at = voice_page()
    at.sidebar.selectbox(key="w_settings_model").set_value(JA).run()
    at.text_input[0].set_value(text).run()
    assert not at.exception
    shown = [e.value for e in getattr(at, kind)]
    assert len(shown) == 1 and message in shown[0], shown


def test_model_card_voices_are_short_and_record_counts_use_one_separator():
    import app_state as S

    settings = [f"mei_normal_a{a}_fm{f:+d}" for a in (50, 55, 60) for f in (-3, 0, 3)]
    assert S.voices_text(settings) == "mei_normal (9 settings)"
    assert S.voices_text(["kal", "ked", "flite_awb"]) == "kal, ked, flite_awb"
    assert S.record_text("1999 of 40092 validation frames") == "1,999 of 40,092 validation frames"
    assert S.record_text("4000 training digits, stratified by class, default_rng(0)") == (
        "4,000 training digits, stratified by class, random seed 0")


def test_your_voice_adapts_the_japanese_model_on_the_networks_alignment(ja_models, monkeypatch):
    """pocketsphinx has no Japanese: the adaptation takes the network's own forced alignment of the
    transcript, says so, and runs on three samples (the check told to keep any copy); the adapted
    copy's report and the switch to it are shown."""
    import dataclasses

    import app_state.voice as V
    from core.voice.adapt import AdaptConfig

    monkeypatch.setattr(V, "ADAPT_CONFIG", dataclasses.replace(AdaptConfig(), min_gain=-1.0, max_epochs=2))
    at = voice_page()
    at.sidebar.selectbox(key="w_settings_model").set_value(JA).run()
    no_errors(at)
    assert any(c.value.startswith("Japanese: the labels are the network's own alignment") for c in at.caption)
    for name in ("ja_basu_densha.wav", "ja_budou_dango.wav", "ja_shika_sakana.wav"):
        at.selectbox(key="w_voice_sample").set_value(name).run()
        at.button(key="voice_adapt_add").click().run()
        no_errors(at)
    assert any("Recordings to adapt on: 3" in c.value for c in at.caption)
    at.button(key="voice_adapt_run").click().run()
    no_errors(at)
    assert any(c.value.startswith("adapted input map + hidden-unit scales") for c in at.caption)
    assert at.toggle(key="w_voice_mine").value is True


def test_japanese_interface_starts_on_the_japanese_model_unless_the_address_names_one(ja_models):
    """Issue 28: ?lang=ja without a model opens the Japanese model (and Home's start links then open
    its /s/-/sh/ pair); a model named in the address always wins; English stays on English."""
    from streamlit.testing.v1 import AppTest

    from tests.test_pages import ROOT

    def opened(**params) -> str:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        no_errors(at)
        return at.sidebar.selectbox(key="w_settings_model").value

    assert opened(lang="ja") == JA
    assert opened(lang="ja", model="speech_en_mfbank") == "speech_en_mfbank"
    assert opened(lang="en") == "speech_en_mfbank"
    assert opened() == "speech_en_mfbank"
