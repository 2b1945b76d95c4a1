"""Every page through Streamlit's AppTest: default render without exception, every widget changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.tolerance import assert_gradients_close

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def run_page(page: str, **sidebar: str) -> AppTest:
    """The entry script, switched to ``page`` (a path under screens/), after setting sidebar widgets
    (by key: model, sample, stat, output) on the home page: the choices must survive the switch."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    for name, value in sidebar.items():
        at.selectbox(key=f"w_settings_{name}").set_value(value).run()
    if page != "screens/home.py":
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_home(tiny_models):
    at = run_page("screens/home.py")
    no_errors(at)
    assert "what a deep neural network looks at" in at.title[0].value
    assert at.sidebar.selectbox[0].value == "speech_en_mfbank"


def test_home_start_here_glossary_and_voices(tiny_models):
    import app_state as S

    at = run_page("screens/home.py")
    links = [(ln.proto.page, ln.proto.query_string) for ln in at.get("page_link")]
    for want in [("phoneme_pair", "pair_a=s&pair_b=sh"), ("phoneme_pair", "pair_a=b&pair_b=d"),
                 ("importance_map", "phone=s"), ("units_pruning", ""), ("digit_cnn", "")]:
        assert want in links, links
    assert links.count(("digit_cnn", "")) == 2  # the start path and the digits model's card
    text = " ".join(m.value for m in at.markdown)
    assert "Coming next" not in text and "your own recording" not in text
    assert "colour** shows the same importance" in text  # the map's default colour mode
    for voice in ("**kal**", "**ked**", "**slt**"):
        assert voice in text
    assert [e.label for e in at.expander] == ["Glossary"]
    glossary = [m.value for m in at.expander[0].markdown]
    for term in ("σ of dy/dx", "logit", "log posterior", "normalised z", "ε", "p_e", "Imp(l, i)", "pruning orders"):
        assert any(g.lower().startswith(f"**{term.lower()}**") for g in glossary), term
    assert all(S.HELP[k][S.HELP[k].index(":"):] in text for k in ("sigma", "imp", "orders", "eps"))


def test_a_link_followed_inside_the_session_opens_its_view(tiny_models):
    # st.page_link(query_params=...) on the home page: the session already has a pair and a clicked cell
    at = run_page("screens/phoneme_pair.py")
    at.query_params["cell"] = "0,5"
    at.run()
    at.switch_page("screens/phoneme_pair.py")
    at.query_params.clear()
    at.query_params.update({"pair_a": "b", "pair_b": "d"})
    at.run()
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == ("b", "d")
    assert at.subheader[0].value.startswith("Top cell") and "cell" not in at.query_params
    at.switch_page("screens/importance_map.py")
    at.query_params.clear()
    at.query_params["phone"] = "z"
    at.run()
    assert at.selectbox(key="w_phone").value == "z"
    at.query_params["phone"] = "qq"  # an unusable value in a link: the session's choice stays, no error
    at.run()
    no_errors(at)
    assert at.selectbox(key="w_phone").value == "z"


def test_importance_map_defaults_and_widgets(tiny_models):
    at = run_page("screens/importance_map.py")
    no_errors(at)
    assert at.selectbox(key="w_phone").value == "s"
    assert "/s/" in at.caption[0].value and "validation frames" in at.caption[0].value
    at.selectbox(key="w_phone").set_value("sh").run()
    no_errors(at)
    assert "/sh/" in at.caption[0].value
    at.select_slider(key="w_view_time").set_value((-5, 5)).run()
    at.select_slider(key="w_view_chan").set_value((2, 3)).run()
    at.slider(key="w_view_top").set_value(20).run()
    at.slider(key="w_view_scale").set_value(1.5).run()
    no_errors(at)


@pytest.mark.parametrize("sample,expect", [("selected", "frames of the selected phonemes"),
                                           ("all", "all validation frames")])
def test_sample_set_changes_caption(tiny_models, sample, expect):
    at = run_page("screens/importance_map.py", sample=sample)
    no_errors(at)
    assert expect in at.caption[0].value


@pytest.mark.parametrize("stat,label", [("mean_abs", "mean |dy/dx|"), ("rms", "rms of dy/dx"), ("std", "σ of dy/dx")])
@pytest.mark.parametrize("output,olabel", [("logit", "(logit)"), ("log_posterior", "(log posterior)")])
def test_sidebar_kinds(tiny_models, stat, label, output, olabel):
    at = run_page("screens/importance_map.py", stat=stat, output=output)
    no_errors(at)
    assert label in at.caption[0].value and olabel in at.caption[0].value


def test_choices_survive_page_changes(tiny_models):
    at = run_page("screens/importance_map.py", stat="rms")
    at.selectbox(key="w_phone").set_value("z").run()
    at.switch_page("screens/phoneme_pair.py").run()
    no_errors(at)
    assert any("rms of dy/dx" in c.value for c in at.caption)
    at.switch_page("screens/importance_map.py").run()
    assert "rms of dy/dx" in at.caption[0].value
    assert at.selectbox(key="w_phone").value == "z"
    assert at.sidebar.selectbox(key="w_settings_stat").value == "rms"
    at.sidebar.selectbox(key="w_settings_stat").set_value("std").run()
    assert "σ of dy/dx" in at.caption[0].value


def test_url_carries_the_settings(tiny_models):
    at = run_page("screens/importance_map.py", stat="mean_abs")
    assert at.query_params["stat"] == "mean_abs" and at.query_params["phone"] == "s"


def test_pair_defaults_and_widgets(tiny_models):
    at = run_page("screens/phoneme_pair.py")
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == ("s", "sh")
    assert any("/s/" in c.value and "p_e" in c.value for c in at.caption)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    at.slider(key="w_view_rows").set_value(5).run()
    assert len(at.dataframe[0].value) == 5
    at.slider(key="w_view_bins").set_value(20).run()
    at.slider(key="w_view_top").set_value(50).run()
    at.select_slider(key="w_view_time").set_value((-3, 3)).run()
    no_errors(at)
    assert at.dataframe[0].value["offset_frames"].between(-3, 3).all()
    at.selectbox(key="w_pair_a").set_value("b").run()
    at.selectbox(key="w_pair_b").set_value("d").run()
    no_errors(at)
    assert any("/b/" in c.value and "/d/" in c.value for c in at.caption)


def test_pair_suggestion_buttons(tiny_models):
    at = run_page("screens/phoneme_pair.py")
    buttons = [b for b in at.button if b.key and b.key.startswith("sugg_")]
    assert buttons, "the most confused pairs are offered"
    _, x, y = buttons[0].key.split("_")
    buttons[0].click().run()
    no_errors(at)
    assert (at.selectbox(key="w_pair_a").value, at.selectbox(key="w_pair_b").value) == (x, y)


def test_pair_same_phoneme_is_explained(tiny_models):
    at = run_page("screens/phoneme_pair.py")
    at.selectbox(key="w_pair_b").set_value("s").run()
    no_errors(at)
    assert any("two different phonemes" in i.value for i in at.info)


def test_url_opens_the_shared_view(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["stat"] = "rms"
    at.query_params["phone"] = "sh"
    at.run()
    at.switch_page("screens/importance_map.py").run()
    no_errors(at)
    assert at.selectbox(key="w_phone").value == "sh" and "rms of dy/dx" in at.caption[0].value


def test_bad_url_values_fall_back_to_defaults(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["stat"] = "nonsense"
    at.query_params["phone"] = "qq"
    at.query_params["model"] = "../../etc"
    at.run()
    at.switch_page("screens/importance_map.py").run()
    no_errors(at)
    assert at.selectbox(key="w_phone").value == "s" and "σ of dy/dx" in at.caption[0].value


def test_damaged_model_is_one_clear_message(tiny_models_dir, tmp_path, monkeypatch):
    import shutil

    broken = tmp_path / "models"
    shutil.copytree(tiny_models_dir / "speech_en_mfbank", broken / "speech_en_mfbank")
    weights = broken / "speech_en_mfbank" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    monkeypatch.setenv("DNNLENS_MODELS", str(broken))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("screens/importance_map.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "cannot be used" in at.error[0].value
    assert not at.get("vega_lite_chart")


def test_state_model_offers_states(tiny_models):
    at = run_page("screens/importance_map.py", model="speech_en_states")
    no_errors(at)
    radio = at.radio(key="w_map_part")
    assert radio.options == ["whole phoneme", "S1", "S2", "S3"]
    assert "output /s/ " in at.caption[0].value
    radio.set_value("S2").run()
    no_errors(at)
    assert "output /s/ S2 " in at.caption[0].value  # as the Findings card writes it (not /s_S2/)
    at.switch_page("screens/phoneme_pair.py").run()
    no_errors(at)


def test_pages_leave_the_shared_model_unchanged(tiny_models):
    """Cached models are shared by every session: after pages ran, the cached model still equals
    a fresh load, has no gradients and is in eval mode."""
    import torch

    import app_state
    from core.models import load_model

    at = run_page("screens/phoneme_pair.py", output="log_posterior")
    at.switch_page("screens/importance_map.py").run()
    no_errors(at)
    # the same process-wide cache the pages used (it holds the statistics they computed)
    assert any(key[0][0] == str(tiny_models) for key in app_state._stats_cache()._once._values)
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
    at.switch_page("screens/phoneme_pair.py").run()
    no_errors(at)
    assert at.query_params["model"] == "speech_en_mfbank" and at.query_params["stat"] == "rms"
    # a bad phoneme falls back to /s/; the pair is then made valid instead of /s/ vs /s/
    assert (at.query_params["pair_a"], at.query_params["pair_b"]) == ("s", "sh")
    assert not at.info


# --- issue 9: the numbers drawn, the ranking, the suggestions, the URL ---------------------------


def chart_data(el):
    import pyarrow as pa

    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in el.proto.datasets]
    return max(frames, key=len)


def core_importance(models_dir, name, target, output, stat, phones):
    """The statistic straight from core (no app_state cache), for the same settings."""
    from core.importance import gradient_stats
    from core.models import load_model
    from core.phones import PHONES
    from core.train import load_validation

    net, info = load_model(models_dir / name)
    frames = load_validation(info)
    labels = None if phones is None else [info.label_index(p) for p in phones]
    st = gradient_stats(net, frames.spliced(), frames.labels, [info.outputs_of(target)], output=output,
                        n_labels=len(PHONES), transform=info.normalizer.apply)
    return st.stat(stat, labels)[0]


@pytest.mark.parametrize("sample", ["all", "selected"])
def test_map_draws_the_core_numbers(tiny_models, sample):
    import numpy as np

    at = run_page("screens/importance_map.py", sample=sample, stat="rms", output="logit")
    no_errors(at)
    drawn = chart_data(at.get("vega_lite_chart")[0]).sort_values("input")
    expect = core_importance(tiny_models, "speech_en_mfbank", "s", "logit", "rms",
                             None if sample == "all" else ["s"])
    np.testing.assert_allclose(drawn["importance"].to_numpy(), expect, rtol=1e-6)


@pytest.mark.parametrize("sample", ["all", "selected"])
def test_pair_draws_the_core_numbers_and_shows_the_top_score_cell(tiny_models, sample):
    import numpy as np

    from core.importance.overlap import class_histograms
    from core.models import load_model
    from core.phones import PHONES
    from core.train import load_validation

    at = run_page("screens/phoneme_pair.py", sample=sample)
    no_errors(at)
    drawn = chart_data(at.get("vega_lite_chart")[0]).sort_values("input")
    phones = None if sample == "all" else ["s", "sh"]
    ia = core_importance(tiny_models, "speech_en_mfbank", "s", "posterior", "std", phones)
    ib = core_importance(tiny_models, "speech_en_mfbank", "sh", "posterior", "std", phones)
    _, info = load_model(tiny_models / "speech_en_mfbank")
    frames = load_validation(info)
    hist = class_histograms(frames.spliced(), frames.labels, n_labels=len(PHONES), bins=30,
                            transform=info.normalizer.apply)
    p_e = hist.overlap(info.label_index("s"), info.label_index("sh"))[1]
    net, _ = load_model(tiny_models / "speech_en_mfbank")
    # the page's statistics come through the shared cache (other batches): float32 tolerance
    assert_gradients_close(drawn["importance_pair"].to_numpy(), ia * ib, net, factors=2)
    # p_e comes from histogram counts, the same in every code path: equal to the last bits of float64
    np.testing.assert_allclose(drawn["p_e"].to_numpy(), p_e, rtol=1e-12)
    assert_gradients_close(drawn["score"].to_numpy(), ia * ib * p_e, net, factors=2)
    # the cell shown before a click is the top-score cell; the table is in score order
    best = int(np.argmax(ia * ib * p_e))
    top = drawn[drawn["input"] == best].iloc[0]
    assert at.subheader[0].value == "Top cell by score"
    assert f"frame offset {int(top.offset_frames):+d}, channel {int(top.channel)})" in at.markdown[0].value
    table = at.dataframe[0].value
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    # size only: the order and the shown cell follow the product
    at.radio(key="w_view_rank").set_value("product").run()
    best = drawn.loc[drawn["importance_pair"].idxmax()]
    assert f"frame offset {int(best.offset_frames):+d}, channel {int(best.channel)})" in at.markdown[0].value


def test_paper_pairs_are_always_offered(tiny_models):
    at = run_page("screens/phoneme_pair.py")
    keys = [b.key for b in at.button if b.key and b.key.startswith("sugg_")]
    assert keys[:2] == ["sugg_s_sh", "sugg_b_d"] and len(keys) > 2


def test_state_model_suggests_phoneme_pairs_and_draws_them(tiny_models):
    at = run_page("screens/phoneme_pair.py", model="speech_en_states")
    no_errors(at)
    buttons = [b for b in at.button if b.key and b.key.startswith("sugg_")]
    pairs = [tuple(b.key.split("_")[1:]) for b in buttons]
    assert all(len(p) == 2 and "sil" not in p for p in pairs), pairs
    buttons[-1].click().run()
    no_errors(at)
    x, y = pairs[-1]
    assert (at.query_params["pair_a"], at.query_params["pair_b"]) == (x, y)
    assert any(f"/{x}/" in c.value and f"/{y}/" in c.value for c in at.caption)
    assert chart_data(at.get("vega_lite_chart")[0]).shape[0] > 100


def test_url_round_trip_of_every_setting_and_the_cell(tiny_models):
    params = {"model": "speech_en_mfbank", "sample": "selected", "stat": "rms", "output": "logit",
              "pair_a": "b", "pair_b": "d", "time": "-5,4", "chan": "3,20", "top": "60", "contrast": "2.0",
              "bins": "40", "rows": "7", "rank": "product", "cell": "-2,9"}
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("screens/phoneme_pair.py").run()
    no_errors(at)
    assert not at.toast
    assert {k: at.query_params[k] for k in params} == params
    assert at.select_slider(key="w_view_time").value == (-5, 4) and at.slider(key="w_view_rows").value == 7
    assert len(at.dataframe[0].value) == 7
    assert at.subheader[0].value == "Selected input" and "frame offset -2, channel 9)" in at.markdown[0].value
    at.button(key="sugg_s_sh").click().run()  # a new pair: back to its top cell
    assert "cell" not in at.query_params and at.subheader[0].value == "Top cell by size"


def test_map_url_round_trip(tiny_models):
    params = {"phone": "z", "time": "-3,3", "chan": "0,9", "top": "50", "scale": "1.5", "contrast": "1.5",
              "colour": "mean"}
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("screens/importance_map.py").run()
    no_errors(at)
    assert {k: at.query_params[k] for k in params} == params
    spec = __import__("json").loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["encoding"]["x"]["scale"]["domain"] == [-3.5, 3.5] and spec["encoding"]["color"]["field"] == "mean"


@pytest.mark.parametrize("params,named", [({"model": "nope", "phone": "zz"}, ["model=nope", "phone=zz"]),
                                          ({"pair_a": "s", "pair_b": "s"}, ["pair_b=s"])])
def test_a_repaired_link_says_so_once(tiny_models, params, named):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()  # AppTest starts on the home page, which reports what it repaired (the sidebar's values)
    toasts = [t.value for t in at.toast]
    at.switch_page("screens/phoneme_pair.py" if "pair_a" in params else "screens/importance_map.py").run()
    no_errors(at)
    assert len(at.toast) == 1 and len(toasts) <= 1
    toasts += [t.value for t in at.toast]
    assert all(sum(n in t for t in toasts) == 1 for n in named), toasts
    at.run()
    assert not at.toast


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_home_glossary_names_each_term_once(tiny_models, lang):
    """Issue 28: "posterior: Posterior: ..." named the term twice; each entry starts with its term once."""
    import re

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    no_errors(at)
    glossary = [m.value for m in at.expander[0].markdown]
    assert len(glossary) == 10
    for entry in glossary:
        head = re.match(r"\*\*(.+?)\*\*[:：]?\s*(.*)", entry, re.S)
        assert head, entry
        term, rest = head.group(1).strip(), head.group(2)
        assert not rest.lower().startswith(term.lower()), entry
