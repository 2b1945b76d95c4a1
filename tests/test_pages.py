"""Every page through Streamlit's AppTest: default render without exception, every widget changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def run_page(page: str, **sidebar: str) -> AppTest:
    """The entry script, switched to ``page`` (a path under pages/), after setting sidebar widgets
    (by key: model, sample, stat, output) on the home page: the choices must survive the switch."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    for name, value in sidebar.items():
        at.selectbox(key=f"w_settings_{name}").set_value(value).run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_home(tiny_models):
    at = run_page("pages/home.py")
    no_errors(at)
    assert "what a deep neural network looks at" in at.title[0].value
    assert at.sidebar.selectbox[0].value == "speech_en_mfbank"


def test_importance_map_defaults_and_widgets(tiny_models):
    at = run_page("pages/importance_map.py")
    no_errors(at)
    assert at.selectbox(key="map_phone").value == "s"
    assert "/s/" in at.caption[0].value and "validation frames" in at.caption[0].value
    at.selectbox(key="map_phone").set_value("sh").run()
    no_errors(at)
    assert "/sh/" in at.caption[0].value
    at.select_slider(key="map_time").set_value((-5, 5)).run()
    at.select_slider(key="map_chan").set_value(tuple(at.select_slider(key="map_chan").options[2:4:1])).run()
    at.slider(key="map_top").set_value(20).run()
    at.slider(key="map_scale").set_value(1.5).run()
    no_errors(at)


@pytest.mark.parametrize("sample,expect", [("selected", "frames of the selected phonemes"),
                                           ("all", "all validation frames")])
def test_sample_set_changes_caption(tiny_models, sample, expect):
    at = run_page("pages/importance_map.py", sample=sample)
    no_errors(at)
    assert expect in at.caption[0].value


@pytest.mark.parametrize("stat,label", [("mean_abs", "mean |dy/dx|"), ("rms", "rms of dy/dx"), ("std", "σ of dy/dx")])
@pytest.mark.parametrize("output,olabel", [("logit", "(logit)"), ("log_posterior", "(log posterior)")])
def test_sidebar_kinds(tiny_models, stat, label, output, olabel):
    at = run_page("pages/importance_map.py", stat=stat, output=output)
    no_errors(at)
    assert label in at.caption[0].value and olabel in at.caption[0].value


def test_choices_survive_page_changes(tiny_models):
    at = run_page("pages/importance_map.py", stat="rms")
    at.selectbox(key="map_phone").set_value("z").run()
    at.switch_page("pages/phoneme_pair.py").run()
    no_errors(at)
    assert any("rms of dy/dx" in c.value for c in at.caption)
    at.switch_page("pages/importance_map.py").run()
    assert "rms of dy/dx" in at.caption[0].value
    assert at.selectbox(key="map_phone").value == "z"
    assert at.sidebar.selectbox(key="w_settings_stat").value == "rms"
    at.sidebar.selectbox(key="w_settings_stat").set_value("std").run()
    assert "σ of dy/dx" in at.caption[0].value


def test_url_carries_the_settings(tiny_models):
    at = run_page("pages/importance_map.py", stat="mean_abs")
    assert at.query_params["stat"] == "mean_abs" and at.query_params["phone"] == "s"


def test_pair_defaults_and_widgets(tiny_models):
    at = run_page("pages/phoneme_pair.py")
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == ("s", "sh")
    assert any("/s/" in c.value and "p_e" in c.value for c in at.caption)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    at.slider(key="pair_rows").set_value(5).run()
    assert len(at.dataframe[0].value) == 5
    at.slider(key="pair_bins").set_value(20).run()
    at.slider(key="pair_top").set_value(50).run()
    at.select_slider(key="pair_time").set_value((-3, 3)).run()
    no_errors(at)
    assert at.dataframe[0].value["offset_frames"].between(-3, 3).all()
    at.selectbox(key="w_pair_a").set_value("b").run()
    at.selectbox(key="w_pair_b").set_value("d").run()
    no_errors(at)
    assert any("/b/" in c.value and "/d/" in c.value for c in at.caption)


def test_pair_suggestion_buttons(tiny_models):
    at = run_page("pages/phoneme_pair.py")
    buttons = [b for b in at.button if b.key and b.key.startswith("sugg_")]
    assert buttons, "the most confused pairs are offered"
    _, x, y = buttons[0].key.split("_")
    buttons[0].click().run()
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == (x, y)


def test_pair_same_phoneme_is_explained(tiny_models):
    at = run_page("pages/phoneme_pair.py")
    at.selectbox(key="w_pair_b").set_value("s").run()
    no_errors(at)
    assert any("two different phonemes" in i.value for i in at.info)


def test_url_opens_the_shared_view(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["stat"] = "rms"
    at.query_params["phone"] = "sh"
    at.run()
    at.switch_page("pages/importance_map.py").run()
    no_errors(at)
    assert at.selectbox(key="map_phone").value == "sh" and "rms of dy/dx" in at.caption[0].value


def test_bad_url_values_fall_back_to_defaults(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["stat"] = "nonsense"
    at.query_params["phone"] = "qq"
    at.query_params["model"] = "../../etc"
    at.run()
    at.switch_page("pages/importance_map.py").run()
    no_errors(at)
    assert at.selectbox(key="map_phone").value == "s" and "σ of dy/dx" in at.caption[0].value


def test_damaged_model_is_one_clear_message(tiny_models_dir, tmp_path, monkeypatch):
    import shutil

    broken = tmp_path / "models"
    shutil.copytree(tiny_models_dir / "speech_en_mfbank", broken / "speech_en_mfbank")
    weights = broken / "speech_en_mfbank" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    monkeypatch.setenv("DNNLENS_MODELS", str(broken))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/importance_map.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "cannot be used" in at.error[0].value
    assert not at.get("vega_lite_chart")


def test_state_model_offers_states(tiny_models):
    at = run_page("pages/importance_map.py", model="speech_en_states")
    no_errors(at)
    radio = at.radio(key="map_state")
    assert radio.options == ["whole phoneme", "S1", "S2", "S3"]
    assert "output /s/ " in at.caption[0].value
    radio.set_value("S2").run()
    no_errors(at)
    assert "output /s_S2/ " in at.caption[0].value
    at.switch_page("pages/phoneme_pair.py").run()
    no_errors(at)


def test_pages_leave_the_shared_model_unchanged(tiny_models):
    """Cached models are shared by every session: after pages ran, the cached model still equals
    a fresh load, has no gradients and is in eval mode."""
    import torch

    import app_state
    from core.models import load_model

    at = run_page("pages/phoneme_pair.py", output="log_posterior")
    at.switch_page("pages/importance_map.py").run()
    no_errors(at)
    # the same process-wide cache the pages used (it holds the statistics they computed)
    assert any(key[0] == str(tiny_models) for key, _ in app_state._stats_cache()._store)
    cached, _ = app_state.model("speech_en_mfbank")
    fresh, _ = load_model(tiny_models / "speech_en_mfbank")
    assert not cached.training
    for (name, a), (_, b) in zip(cached.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert all(p.grad is None and not p.requires_grad for p in cached.parameters())


def test_url_follows_page_changes_and_repairs_bad_values(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["model"] = "nope"
    at.query_params["pair_a"] = "zz"
    at.query_params["pair_b"] = "s"
    at.run()
    at.selectbox(key="w_settings_stat").set_value("rms").run()
    at.switch_page("pages/phoneme_pair.py").run()
    no_errors(at)
    assert at.query_params["model"] == "speech_en_mfbank" and at.query_params["stat"] == "rms"
    # a bad phoneme falls back to /s/; the pair is then made valid instead of /s/ vs /s/
    assert (at.query_params["pair_a"], at.query_params["pair_b"]) == ("s", "sh")
    assert not at.info
