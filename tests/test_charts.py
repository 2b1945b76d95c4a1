"""core.charts: the tables and the Altair specs (encodings, scales, data columns)."""

from __future__ import annotations

import numpy as np
import pytest

from core.features import FeatureConfig
from core.viz import maps as charts


def _data(spec: dict, chart: dict) -> list[dict]:
    return spec["datasets"][chart["data"]["name"]]


@pytest.fixture(params=["mfbank", "mfcc"])
def cfg(request) -> FeatureConfig:
    return FeatureConfig(kind=request.param)


def test_map_table_meaning(cfg):
    n = cfg.input_dim
    df = charts.map_table(cfg, np.arange(n, dtype=float), -np.ones(n))
    assert len(df) == n
    row = df.iloc[17 * cfg.n_channels + 3]  # offset 0, channel 3
    assert (row.offset_frames, row.offset_ms, row.channel, row.importance) == (0, 0.0, 3, 17 * cfg.n_channels + 3)
    if cfg.kind == "mfbank":
        assert df["hz"].iloc[: cfg.n_channels].is_monotonic_increasing
    else:
        assert df["channel_name"].iloc[0] == "log E" and df["hz"].isna().all()


def test_select_cells_ranges_and_top_percent(cfg):
    n = cfg.input_dim
    df = charts.map_table(cfg, np.arange(n, dtype=float), np.zeros(n))
    sub = charts.select_cells(df, "importance", time_range=(-2, 2), channel_range=(1, 3))
    assert len(sub) == 5 * 3
    assert sub["offset_frames"].between(-2, 2).all() and sub["channel"].between(1, 3).all()
    top = charts.select_cells(df, "importance", top_percent=10)
    assert len(top) == int(np.ceil(n * 0.1))
    assert top["importance"].min() == n - len(top)  # exactly the largest values
    assert len(charts.select_cells(df, "importance", top_percent=0.001)) == 1


def test_importance_map_spec(cfg):
    n = cfg.input_dim
    imp = np.linspace(0, 2, n)
    df = charts.map_table(cfg, imp, np.linspace(-3, 1, n))
    spec = charts.importance_map(df, cfg, scale=1.0).to_dict()
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "square"
    assert enc["x"]["field"] == "offset_frames" and enc["y"]["field"] == "channel"
    assert enc["size"]["field"] == "importance"
    # area proportional to importance: linear scale from 0 at 0 to a full cell at the maximum
    assert enc["size"]["scale"]["domain"] == [0, pytest.approx(2.0)]
    # a full cell: an expression of the plot's width and height (the chart stretches to its column)
    assert enc["size"]["scale"]["range"][1] == {
        "expr": f"pow(0.95 * min(width / 35, height / {cfg.n_channels}), 2) * 1.0"}
    # the default colour is the importance itself (sequential, 0 .. the largest)
    assert enc["color"]["field"] == "importance" and enc["color"]["scale"]["domain"] == [0, pytest.approx(2.0)]
    spec = charts.importance_map(df, cfg, scale=1.0, colour="mean").to_dict()
    enc = spec["encoding"]
    # diverging colour, symmetric around 0, blue = low
    col = enc["color"]["scale"]
    assert enc["color"]["field"] == "mean" and col["scheme"] == "redblue" and col["reverse"] is True
    assert col["domain"] == [pytest.approx(-3), pytest.approx(3)]
    rows = _data(spec, spec)
    assert len(rows) == n and {"offset_ms", "hz", "importance", "mean", "channel_name"} <= set(rows[0])
    # the tooltip: text written in Python with the app's number formats, no ARIA label per square
    mark = spec["mark"]
    assert charts.tooltip_titles(mark["tooltip"]["expr"]) == ["offset (frames)", "offset (ms)", "channel", "centre"
                                                             if cfg.kind == "mfbank" else "coefficient",
                                                             "importance", "mean input (z)"]
    assert mark["aria"] is False and "tooltip" not in enc
    for row, (_, cell) in zip(rows, df.iterrows(), strict=True):
        assert row["tip_0"] == f"{int(cell.offset_frames):+d}" and row["tip_3"] == cell.channel_name
        assert row["tip_4"] == charts.fmt(cell.importance, "importance") and row["tip_5"] == charts.fmt(cell["mean"], "z")


def test_square_scale_slider_changes_only_range(cfg):
    df = charts.map_table(cfg, np.ones(cfg.input_dim), np.zeros(cfg.input_dim))
    a = charts.importance_map(df, cfg, scale=1.0).to_dict()["encoding"]["size"]["scale"]
    b = charts.importance_map(df, cfg, scale=0.5).to_dict()["encoding"]["size"]["scale"]
    assert a["range"][1]["expr"].endswith("* 1.0") and b["range"][1]["expr"].endswith("* 0.5")
    assert a["domain"] == b["domain"] and a["range"][1]["expr"][:-3] == b["range"][1]["expr"][:-3]


def test_contrast_is_a_power_scale_with_true_legend_values(cfg):
    df = charts.map_table(cfg, np.linspace(0, 4, cfg.input_dim), np.zeros(cfg.input_dim))
    lin = charts.importance_map(df, cfg).to_dict()["encoding"]["size"]
    pw = charts.importance_map(df, cfg, contrast=2.0).to_dict()["encoding"]["size"]
    assert lin["scale"]["type"] == "linear" and (pw["scale"]["type"], pw["scale"]["exponent"]) == ("pow", 2.0)
    # the legend lists importance values (data units), drawn by the same scale: truthful at any contrast
    assert pw["legend"]["values"] == lin["legend"]["values"] == charts.legend_values(4.0)
    assert "contrast 2" in pw["legend"]["title"]


def test_zoom_sets_the_axes_domains(cfg):
    df = charts.map_table(cfg, np.ones(cfg.input_dim), np.zeros(cfg.input_dim))
    ext = charts.Extent((-3, 2), (1, 4))
    enc = charts.importance_map(df, cfg, extent=ext).to_dict()["encoding"]
    assert enc["x"]["scale"]["domain"] == [-3.5, 2.5] and enc["y"]["scale"]["domain"] == [0.5, 4.5]
    assert "width / 6" in enc["size"]["scale"]["range"][1]["expr"] and "height / 4" in enc["size"]["scale"]["range"][1]["expr"]
    full = charts.importance_map(df, cfg).to_dict()["encoding"]
    assert full["x"]["scale"]["domain"] == [-17.5, 17.5]


def test_channel_axis_labels(cfg):
    df = charts.map_table(cfg, np.ones(cfg.input_dim), np.zeros(cfg.input_dim))
    axis = charts.importance_map(df, cfg).to_dict()["encoding"]["y"]["axis"]
    if cfg.kind == "mfbank":
        assert "Hz" in axis["title"] and "'44'" in axis["labelExpr"]
    else:
        assert "cepstral" in axis["title"] and "'log E'" in axis["labelExpr"]


def test_profiles_sum(cfg):
    n = cfg.input_dim
    df = charts.map_table(cfg, np.ones(n), np.zeros(n))
    spectral = charts.spectral_profile(df, cfg).to_dict()
    temporal = charts.temporal_profile(df, cfg).to_dict()
    s_rows = _data(spectral, spectral)
    t_rows = _data(temporal, temporal)
    assert len(s_rows) == cfg.n_channels and all(r["importance"] == 35 for r in s_rows)
    assert len(t_rows) == 35 and all(r["importance"] == cfg.n_channels for r in t_rows)


def test_pair_map_spec(cfg):
    n = cfg.input_dim
    a, b = np.full(n, 2.0), np.linspace(0, 1, n)
    df = charts.pair_table(cfg, a, b, np.linspace(0, 1, n), np.linspace(1, 0, n))
    np.testing.assert_allclose(df["importance_pair"], a * b)
    spec = charts.pair_map(df, cfg, "s", "sh").to_dict()
    enc = spec["encoding"]
    assert enc["size"]["field"] == "importance_pair" and enc["color"]["field"] == "p_e"
    # p_e colour over the pair's own range (here 0..1), legend values are real p_e values
    assert enc["color"]["scale"]["domain"] == [0, 1]
    low = charts.pair_map(df[df.p_e.between(0.2, 0.6)], cfg, "s", "sh").to_dict()["encoding"]["color"]
    assert low["scale"]["domain"] == [pytest.approx(df.p_e[df.p_e >= 0.2].min()),
                                      pytest.approx(df.p_e[df.p_e <= 0.6].max())]
    assert low["legend"]["values"][0] >= 0.2 and low["legend"]["values"][-1] <= 0.6
    sel = spec["params"][0]
    assert sel["name"] == charts.PAIR_SELECTION and sel["select"]["fields"] == ["offset_frames", "channel"]
    assert "/s/ vs /sh/" in spec["title"]
    assert charts.tooltip_titles(spec["mark"]["tooltip"]["expr"])[3:6] == ["importance /s/", "importance /sh/", "p_e"]
    tips = {(r["tip_0"], r["tip_5"], r["tip_7"]) for r in _data(spec, spec)}
    assert tips == {(f"{o:+d}", charts.fmt(p, "p"), charts.fmt(sc, "score"))
                    for o, p, sc in zip(df.offset_frames, df.p_e, df.score, strict=True)}


def test_density_chart_layers():
    x = np.linspace(-2, 2, 5)
    pa, pb = np.array([0, 1, 2, 1, 0.0]), np.array([2, 1, 0, 0, 0.0])
    spec = charts.density_chart(x, pa, pb, "s", "sh", "z").to_dict()
    shade, lines = spec["layer"]
    assert shade["mark"]["type"] == "area" and lines["mark"]["type"] == "line"
    overlap = [r["overlap"] for r in _data(spec, shade)]
    assert overlap == [0, 0, 1, 0, 0, 0, 0]  # an empty bin added at each end: curves start and end at 0
    assert {r["phoneme"] for r in _data(spec, lines)} == {"/s/", "/sh/"}


def test_filtered_view_keeps_the_whole_maps_scales(cfg):
    n = cfg.input_dim
    df = charts.map_table(cfg, np.linspace(0, 4, n), np.linspace(-2, 1, n))
    view = charts.select_cells(df, "importance", time_range=(-17, -10))
    enc = charts.importance_map(view, cfg, size_max=4.0, color_max=2.0, colour="mean").to_dict()["encoding"]
    assert enc["size"]["scale"]["domain"] == [0, 4.0]
    assert enc["color"]["scale"]["domain"] == [-2.0, 2.0]
    legend = enc["size"]["legend"]["values"]
    assert legend == sorted(legend) and legend[-1] <= 4.0 and len(legend) == 3


@pytest.mark.parametrize("vmax,expect", [(1.0, [0.25, 0.5, 1.0]), (0.0104, [0.0025, 0.0051, 0.01]),
                                         (6.8e-5, [1.7e-5, 3.4e-5, 6.8e-5]), (0.0, [0.0])])
def test_legend_values(vmax, expect):
    assert charts.legend_values(vmax) == pytest.approx(expect)


def test_maps_fit_their_column(cfg):
    n = cfg.input_dim
    df = charts.pair_table(cfg, np.ones(n), np.ones(n), np.zeros(n), np.ones(n))
    spec = charts.pair_map(df, cfg, "s", "sh").to_dict()
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert (spec["width"], spec["height"]) == ("container", charts.map_height(cfg))


def test_score_ranking_on_a_hand_made_pair():
    cfg = FeatureConfig(nfilt=2, context=1)  # 6 inputs
    imp_a = np.array([1.0, 4.0, 2.0, 3.0, 0.5, 1.0])
    imp_b = np.array([1.0, 1.0, 2.0, 1.0, 2.0, 0.0])
    p_e = np.array([0.9, 0.1, 0.5, 0.8, 1.0, 1.0])
    df = charts.pair_table(cfg, imp_a, imp_b, p_e, 1 - p_e)
    np.testing.assert_allclose(df["score"], imp_a * imp_b * p_e)
    # products 1, 4, 4, 3, 1, 0; scores 0.9, 0.4, 2.0, 2.4, 1.0, 0
    assert list(charts.ranked(df, "score")["input"]) == [3, 2, 4, 0, 1, 5]
    assert list(charts.ranked(df, "product")["input"]) == [1, 2, 3, 0, 4, 5]
    assert list(charts.ranked(df, "score", 2)["input"]) == [3, 2]
    assert charts.cell_row(df, (0, 1))["input"] == 3 and charts.cell_row(df, (5, 1)) is None


@pytest.mark.parametrize("value,quantity,text", [(6.83e-5, "importance", "6.83e-5"), (0.0104, "importance", "1.04e-2"),
                                                 (0.756, "p", "0.76")])
def test_one_number_format(value, quantity, text):
    assert charts.fmt(value, quantity) == text


def test_one_legend_title_for_area_and_colour_at_any_contrast(cfg):
    """Size and colour of the same field share one legend only when their titles are equal: with a
    contrast, both carry it (else Vega-Lite writes both titles into one, cut)."""
    df = charts.map_table(cfg, np.linspace(0, 1, cfg.input_dim), np.zeros(cfg.input_dim))
    for contrast in (1.0, 3.0):
        enc = charts.importance_map(df, cfg, contrast=contrast).to_dict()["encoding"]
        assert enc["size"]["legend"]["title"] == enc["color"]["legend"]["title"]
    assert enc["size"]["legend"]["title"].endswith("contrast 3")
    # the class-mean legend is not above the map: the per-channel bars beside it start at its first row
    assert charts.importance_map(df, cfg, colour="mean").to_dict()["encoding"]["color"]["legend"]["orient"] != "top"
