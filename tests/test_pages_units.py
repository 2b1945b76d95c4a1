"""The Units and pruning page and the Digit CNN page through AppTest, on tiny real models: every
widget moved, and the numbers drawn compared with the core computation for the same settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_pages import ROOT, TIMEOUT, no_errors, run_page


def chart_specs(at: AppTest) -> list[dict]:
    """Every Vega-Lite spec on the page, its datasets (sent by Streamlit as Arrow) put back under
    ``spec["datasets"]`` as lists of row dicts."""
    import pyarrow as pa

    out = []
    for c in at.get("vega_lite_chart"):
        spec = json.loads(c.proto.spec)
        spec["datasets"] = {d.name: pa.ipc.open_stream(d.data.data).read_pandas().to_dict("records")
                            for d in c.proto.datasets}
        out.append(spec)
    return out


def line_values(spec: dict) -> dict[str, list[float]]:
    """order name -> accuracies of a curve chart's line layer."""
    line = next(layer for layer in spec["layer"] if (layer["mark"]["type"] if isinstance(layer["mark"], dict)
                                                     else layer["mark"]) == "line")
    out: dict[str, list[float]] = {}
    for row in spec["datasets"][line["data"]["name"]]:
        out.setdefault(row["method"], []).append(row["accuracy"])
    return out


def curve_spec(at: AppTest, title_part: str = "") -> dict:
    specs = [s for s in chart_specs(at) if "layer" in s and any(
        layer.get("mark") in ("line", {"type": "line"}) or (isinstance(layer.get("mark"), dict)
                                                             and layer["mark"].get("type") == "line")
        for layer in s["layer"])]
    specs = [s for s in specs if title_part in json.dumps(s.get("title", ""))]
    assert specs, "no curve chart drawn"
    return specs[0]


def test_units_page_defaults_match_core(tiny_models):
    from core import pruning
    from core.models import load_model
    from core.viz.units import ORDER_NAMES

    at = run_page("screens/units_pruning.py")
    no_errors(at)
    net, info = load_model(tiny_models / "speech_en_mfbank")
    orders = ("imp_asc", "imp_desc", "random", "l1")
    imp = pruning.unit_importance_by_layer(net, info)
    want = pruning.pruning_curve(net, info, "input", orders=orders, importance=imp)
    drawn = line_values(curve_spec(at))
    for o in orders:
        assert drawn[ORDER_NAMES[o]] == pytest.approx(list(want.curves[o]), abs=1e-9), o
    # the accuracy table at the slider's k shows the curve's values at that point
    k = at.select_slider(key="prune_k_input_None").value
    table = at.dataframe[0].value
    i = want.point(k)
    assert list(table["accuracy"]) == [f"{100 * want.curves[o][i]:.1f} %" for o in orders]
    # the kept-input map deletes exactly k inputs
    kept = [s for s in chart_specs(at) if "layer" in s and "Inputs kept" in json.dumps(s.get("title", ""))]
    assert len(kept) == 1
    gone = kept[0]["datasets"][kept[0]["layer"][0]["data"]["name"]]
    assert len(gone) == k
    # the pruned network's table: counts as core computes them, each time with the range of its passes
    import re

    import app_state as S

    p = S.pruned_model("speech_en_mfbank", "input", None, at.radio(key="prune_order").value, k, "std", "posterior")
    cost = at.dataframe[1].value
    assert list(cost["full"])[:2] == [f"{p.full_cost.params:,}", f"{p.full_cost.macs:,}"]
    assert list(cost["pruned"])[:2] == [f"{p.cost.params:,}", f"{p.cost.macs:,}"]
    for col in ("full", "pruned"):
        lo_hi = re.fullmatch(r"([\d.]+) \(([\d.]+)-([\d.]+)\)", list(cost[col])[2])
        assert lo_hi and float(lo_hi[1]) == float(lo_hi[2]) <= float(lo_hi[3]), list(cost[col])[2]
    captions = " ".join(c.value for c in at.caption)
    assert f"the fastest of {pruning.TIMING_PASSES} passes" in captions
    noise = "within the noise" in captions
    assert noise == pruning.within_noise(p.full_cost, p.cost)


def test_units_page_widgets(tiny_models):
    at = run_page("screens/units_pruning.py")
    slider = at.select_slider(key="prune_k_input_None")
    slider.set_value(int(slider.options[3].split()[0])).run()
    no_errors(at)
    at.radio(key="prune_order").set_value("imp_desc").run()
    no_errors(at)
    assert "most important first" in at.markdown[-1].value or any(
        "most important first" in m.value for m in at.markdown)
    at.multiselect(key="prune_orders_input").set_value(["imp_asc", "variance"]).run()
    no_errors(at)
    assert set(line_values(curve_spec(at))) == {"least important first (Imp)", "smallest input variance first"}
    at.radio(key="w_prune_units").set_value("hidden").run()
    no_errors(at)
    at.radio(key="w_prune_units").set_value("layer").run()
    no_errors(at)
    at.selectbox(key="w_prune_layer").set_value("1").run()
    no_errors(at)
    assert any("hidden units of layer 1" in json.dumps(s.get("title", "")) for s in chart_specs(at))
    at.multiselect(key="prune_orders_hidden").set_value([]).run()
    no_errors(at)
    assert any("at least one order" in i.value for i in at.info)


def test_units_page_unit_bars_are_core_importance(tiny_models):
    from core import pruning
    from core.models import load_model

    at = run_page("screens/units_pruning.py", stat="rms", output="logit")
    no_errors(at)
    net, info = load_model(tiny_models / "speech_en_mfbank")
    imp = pruning.unit_importance_by_layer(net, info, stat="rms", output="logit")
    bars = next(s for s in chart_specs(at) if "facet" in s)
    rows = bars["datasets"][bars["data"]["name"]]
    for layer in (1, 2):
        drawn = [r["importance"] for r in rows if r["layer"] == f"hidden layer {layer}"]
        assert drawn == pytest.approx(sorted(imp[layer], reverse=True), rel=1e-9)


@pytest.mark.parametrize("view", ["filters", "digit", "prune"])
def test_digit_page_views(tiny_models, view):
    at = run_page("screens/digit_cnn.py")
    no_errors(at)
    at.segmented_control(key="w_cnn_view").set_value(view).run()
    no_errors(at)
    assert at.query_params["cnn_view"] == view
    assert chart_specs(at)


def test_digit_page_prune_curves_match_core(tiny_models):
    from core import pruning
    from core.models import load_model

    at = run_page("screens/digit_cnn.py")
    at.segmented_control(key="w_cnn_view").set_value("prune").run()
    no_errors(at)
    net, info = load_model(tiny_models / "digits_cnn")
    orders = ("imp_asc", "imp_desc", "random", "l1")
    imp = pruning.unit_importance_by_layer(net, info)
    for retrain, title in ((True, "with FC-only retraining"), (False, "without retraining")):
        want = pruning.pruning_curve(net, info, "filters", layer=2, orders=orders, importance=imp,
                                     retrain=retrain, points=None)
        drawn = line_values(curve_spec(at, title))
        assert drawn["least important first (Imp)"] == pytest.approx(list(want.curves["imp_asc"]), abs=1e-9)
    slider = at.select_slider(key="cnn_k_2")
    slider.set_value(int(slider.options[-2].split()[0])).run()
    no_errors(at)
    at.radio(key="cnn_conv").set_value(1).run()
    no_errors(at)
    at.radio(key="cnn_order").set_value("random").run()
    no_errors(at)


def test_digit_page_one_digit(tiny_models):
    at = run_page("screens/digit_cnn.py")
    at.segmented_control(key="w_cnn_view").set_value("digit").run()
    at.radio(key="w_cnn_digit").set_value(7).run()
    at.slider(key="cnn_example").set_value(5).run()
    no_errors(at)
    assert any("The network says" in c.value for c in at.caption)


def test_pages_leave_shared_models_unchanged(tiny_models):
    import torch

    import app_state
    from core.models import load_model

    at = run_page("screens/units_pruning.py")
    at.radio(key="w_prune_units").set_value("hidden").run()
    at.switch_page("screens/digit_cnn.py").run()
    at.segmented_control(key="w_cnn_view").set_value("prune").run()
    no_errors(at)
    for name, getter in (("speech_en_mfbank", app_state.model), ("digits_cnn", app_state.digits_model)):
        cached, _ = getter(name)
        fresh, _ = load_model(tiny_models / name)
        assert not cached.training
        for (key, a), (_, b) in zip(cached.state_dict().items(), fresh.state_dict().items(), strict=True):
            assert torch.equal(a, b), (name, key)
        assert all(p.grad is None and not p.requires_grad for p in cached.parameters())


def test_pruned_model_download_loads(tiny_models, tmp_path):
    """The zip the page offers unpacks into a model folder that load_model reads, and it gives the
    masked model's outputs on full frames."""
    import io
    import zipfile

    import torch

    import app_state
    from core import pruning
    from core.models import load_model

    at = run_page("screens/units_pruning.py")
    no_errors(at)
    k = at.select_slider(key="prune_k_input_None").value
    p = app_state.pruned_model("speech_en_mfbank", "input", None, "imp_asc", k, "std", "posterior")
    with zipfile.ZipFile(io.BytesIO(app_state.model_zip(p, "pruned"))) as z:
        z.extractall(tmp_path)
    small, info = load_model(tmp_path / "pruned")
    net, full_info = load_model(tiny_models / "speech_en_mfbank")
    x = np.random.default_rng(0).normal(size=(64, full_info.features.input_dim)).astype(np.float32)
    want = pruning.masked_logits(net, full_info, x, p.keep)
    with torch.no_grad():
        got = small(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert int((~p.keep[0]).sum()) == k


def test_no_digits_model_is_one_message(tiny_models_dir, tmp_path, monkeypatch):
    import shutil

    only_speech = tmp_path / "models"
    shutil.copytree(tiny_models_dir / "speech_en_mfbank", only_speech / "speech_en_mfbank")
    monkeypatch.setenv("DNNLENS_MODELS", str(only_speech))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("screens/digit_cnn.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "No digits model" in at.error[0].value


def test_retrained_digit_download_keeps_conv_weights(tiny_models, tmp_path):
    """The digit page's download: the pruned CNN after FC-only retraining loads, its conv weights
    are the pruned model's, its FC weights changed."""
    import io
    import zipfile

    import torch

    import app_state
    from core.models import load_model

    p = app_state.pruned_model("digits_cnn", "filters", 2, "imp_asc", 2, "std", "posterior")
    with zipfile.ZipFile(io.BytesIO(app_state.retrained_zip("digits_cnn", p, "cnn"))) as z:
        z.extractall(tmp_path)
    small, info = load_model(tmp_path / "cnn")
    assert small.c2 == p.model.c2 == 4
    assert torch.equal(small.conv2.weight, p.model.conv2.weight) and torch.equal(small.conv1.weight, p.model.conv1.weight)
    assert not torch.equal(small.fc1.weight, p.model.fc1.weight)
    assert info.training["retrained_after_pruning"]["what"] == "fc1 and fc2 only"
