"""core.unit_charts: pruning curves, unit bars, filter images (the Altair specs and their data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.features import FeatureConfig
from core.viz import units as uc


def _datasets(spec: dict) -> dict[str, list[dict]]:
    return spec["datasets"]


def _curve_table() -> pd.DataFrame:
    k = [0, 10, 20]
    rows = []
    for order, acc in (("imp_asc", [0.9, 0.88, 0.85]), ("imp_desc", [0.9, 0.4, 0.1]),
                       ("random", [0.9, 0.7, 0.5])):
        for i, kk in enumerate(k):
            # as PruneCurve.table(): lo = hi = accuracy for the orders without a band
            lo = acc[i] - 0.05 if order == "random" else acc[i]
            hi = acc[i] + 0.05 if order == "random" else acc[i]
            rows.append({"k": kk, "fraction": kk / 40, "order": order, "accuracy": acc[i], "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def test_curve_chart_layers_lines_band_rules():
    spec = uc.curve_chart(_curve_table(), 0.9, marker_k=10).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["area", "line", "rule", "rule"]
    band, line = spec["layer"][0], spec["layer"][1]
    band_rows = _datasets(spec)[band["data"]["name"]]
    assert len(band_rows) == 3 and {r["order"] for r in band_rows} == {"random"}
    assert band["encoding"]["y"]["field"] == "lo" and band["encoding"]["y2"]["field"] == "hi"
    # every order gets its own fixed colour and readable name
    scale = line["encoding"]["color"]["scale"]
    assert scale["domain"] == [uc.ORDER_NAMES[o] for o in ("imp_asc", "imp_desc", "random")]
    assert scale["range"] == [uc.ORDER_COLOURS[o] for o in ("imp_asc", "imp_desc", "random")]
    assert line["encoding"]["y"]["scale"]["domain"] == [0, 1]
    full = _datasets(spec)[spec["layer"][2]["data"]["name"]]
    assert full == [{"full": 0.9}]
    assert _datasets(spec)[spec["layer"][3]["data"]["name"]] == [{"k": 10}]


def test_curve_chart_without_random_has_no_band():
    t = _curve_table()
    spec = uc.curve_chart(t[t.order != "random"].assign(lo=np.nan, hi=np.nan), 0.9).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["line", "rule"]


def test_unit_bars_sorted_per_layer():
    imp = {1: np.array([0.1, 0.5, 0.3]), 2: np.array([2.0, 1.0])}
    spec = uc.unit_bars(imp).to_dict()
    rows = _datasets(spec)[spec["data"]["name"]]
    by_layer: dict[str, list[float]] = {}
    for r in rows:
        by_layer.setdefault(r["layer"], []).append(r["importance"])
    assert by_layer == {"hidden layer 1": [0.5, 0.3, 0.1], "hidden layer 2": [2.0, 1.0]}
    assert spec["facet"]["field"] == "layer" and spec["columns"] == 4


def test_filter_bars_mark_deleted():
    spec = uc.filter_bars(np.array([3.0, 1.0, 2.0]), highlight=[1]).to_dict()
    rows = _datasets(spec)[spec["data"]["name"]]
    assert [r["state"] for r in rows] == ["kept", "deleted", "kept"]


def test_damage_bars_keeps_order_and_n():
    losses = [("s", 0.5), ("sh", 0.3), ("z", 0.1), ("f", 0.0), ("v", -0.2)]  # recall lost, most damaged first
    spec = uc.damage_bars(losses, n=2).to_dict()
    data = _datasets(spec)[spec["data"]["name"]]
    assert [(d["phoneme"], d["change"]) for d in data] == [("s", -0.5), ("sh", -0.3)]
    assert spec["encoding"]["y"]["sort"] == {"field": "change", "order": "ascending"}
    gainers = _datasets(uc.damage_bars(losses).to_dict())
    assert [d["phoneme"] for d in next(iter(gainers.values()))] == ["s", "sh", "z"]  # no class that does not lose
    # ticks with one decimal when every loss is small (whole percents would repeat: -2% -2% -1%)
    assert spec["encoding"]["x"]["axis"]["format"] == "+.0%"
    small = uc.damage_bars([("4", 0.021), ("7", 0.02), ("5", 0.01)], unit="digit").to_dict()
    assert small["encoding"]["x"]["axis"]["format"] == "+.1%"


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_kept_inputs_map_splits_kept_and_deleted(kind):
    cfg = FeatureConfig(kind=kind)
    keep = np.ones(cfg.input_dim, bool)
    keep[:7] = False
    spec = uc.kept_inputs_map(cfg, keep, np.linspace(0, 1, cfg.input_dim)).to_dict()
    gone = _datasets(spec)[spec["layer"][0]["data"]["name"]]
    kept = _datasets(spec)[spec["layer"][1]["data"]["name"]]
    assert sorted(r["input"] for r in gone) == list(range(7))
    assert len(kept) == cfg.input_dim - 7 and all(r["state"] == "kept" for r in kept)


def test_image_grid_scales_each_image_to_its_peak():
    imgs = np.zeros((2, 3, 4))
    imgs[0, 1, 2] = -4.0
    imgs[1, 0, 0] = 0.5
    spec = uc.image_grid(imgs, names=["a", "b"]).to_dict()
    rows = _datasets(spec)[spec["data"]["name"]]
    assert len(rows) == 2 * 3 * 4
    peak = {r["image"]: max(abs(q["value"]) for q in rows if q["image"] == r["image"]) for r in rows}
    assert peak == {"a": 1.0, "b": 1.0}
    a = [r for r in rows if r["image"] == "a" and r["value"] != 0]
    assert a == [{"image": "a", "idx": 0, "x": 2, "y": 1, "value": -1.0, "raw": -4.0}]


def test_accuracy_text():
    assert uc.accuracy_text(0.8816) == "88.2 %"


def test_unit_bars_of_four_layers_are_as_wide_in_japanese_as_in_english():
    """Four panels fit a 1024 px screen's column (about 520 px): the panels' width must not grow with
    the language's longer texts (a title under each panel wider than the panel widened all four)."""
    import re

    import vl_convert as vlc

    import i18n

    imp = {layer: np.random.default_rng(layer).random(256) for layer in range(1, 5)}
    widths = {}
    for lang in ("en", "ja"):
        svg = vlc.vegalite_to_svg(uc.unit_bars(imp, tr=i18n.translator(lang)).to_json())
        widths[lang] = float(re.search(r'width="([\d.]+)"', svg).group(1))
    assert widths["ja"] <= widths["en"] <= 540, widths


def test_voice_track_labels_only_where_they_fit_their_bar():
    """'n', 'dh', 'ax' of 40 ms each in a 3 s recording drawn 740 px wide are 10 px bars: no label
    (they ran together as 'ndhax'); a 300 ms /s/ is labelled; the same short segments drawn 3,000 px
    wide, or in a 0.5 s recording, are: the chart decides at the width it is drawn (Vega's own
    rendering, vl-convert)."""
    import re

    import vl_convert as vlc

    from core.phones import Segment
    from core.viz import voice as vc

    segs = [Segment(0.0, 0.04, "n"), Segment(0.04, 0.08, "dh"), Segment(0.08, 0.12, "ax"), Segment(0.12, 0.42, "s")]

    def drawn(duration: float, width: int) -> list[str]:
        chart = vc.panel(vc.tracks_chart(vc.tracks_table({"decoded": segs}), duration), width)
        svg = vlc.vegalite_to_svg(chart.to_json())
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        return [t for t in texts if t in {"n", "dh", "ax", "s"}]

    assert drawn(3.0, 740) == ["s"]
    assert drawn(3.0, 3000) == ["n", "dh", "ax", "s"]
    assert drawn(0.5, 740) == ["n", "dh", "ax", "s"]


def test_voice_posterior_rows_each_keep_their_label():
    """18 phonemes reaching 0.3: the posterior heatmap gives each row 15 px and never drops a label
    as overlapping (at 12 px a row Vega showed every other one), in both languages."""
    import numpy as np

    from core.phones import PHONES
    from core.viz import voice as vc

    post = np.full((180, len(PHONES)), 0.01, np.float32)
    for k in range(18):
        post[10 * k : 10 * k + 10, k + 1] = 0.9
    table = vc.posterior_table(post, PHONES, 1.8, vc.SPECTROGRAM)
    assert table["phone"].nunique() == 18
    for tr in (None, i18n_tr("ja")):
        spec = vc.posterior_chart(table, 1.8, **({"tr": tr} if tr else {})).to_dict()
        layer = spec["layer"][0] if "layer" in spec else spec
        assert layer["encoding"]["y"]["axis"]["labelOverlap"] is False
        assert layer["height"] >= 15 * 18


def test_voice_columns_sit_on_their_frames_and_a_click_reads_that_frame_back():
    """Each column of the posterior heatmap is drawn centred on its frame's time (the model's frame
    step and window, not a fixed 10 ms), and the click callback's time (the column's middle, rounded
    to the slider's 0.01 s and kept within the recording) reads back the column's frame (its middle
    one when frames are grouped), for two front ends and recordings of many lengths, whose last frame
    is zero-padded past the end as the front end pads it."""
    import dataclasses

    import numpy as np

    from core.audio import SAMPLE_RATE
    from core.features import n_frames_for
    from core.viz import voice as vc

    rng = np.random.default_rng(0)
    for cfg in (vc.SPECTROGRAM, dataclasses.replace(vc.SPECTROGRAM, winlen=0.032, winstep=0.016),
                dataclasses.replace(vc.SPECTROGRAM, winlen=0.025, winstep=0.015)):
        for samples in (71_187, 35_003, *rng.integers(2_000, 60_000, 40), 250_000):
            n, duration = n_frames_for(int(samples), cfg), int(samples) / SAMPLE_RATE
            post = rng.dirichlet(np.ones(4), n).astype(np.float32)
            table = vc.posterior_table(post, ["a", "b", "c", "d"], duration, cfg, min_peak=0.0).drop_duplicates("t0")
            g = -(-n // 600)
            first = np.arange(0, n, g)
            assert len(table) == len(first)
            last = np.minimum(first + g - 1, n - 1)
            np.testing.assert_allclose(table["t0"], cfg.frame_time(first) - cfg.winstep / 2, atol=1e-9)
            np.testing.assert_allclose(table["t1"], cfg.frame_time(last) + cfg.winstep / 2, atol=1e-9)
            assert (table["t_draw"] <= duration + 1e-12).all()
            # the callback (app_state.voice.voice_time_from_chart), then the page's frame_at
            picked = np.array([cfg.frame_at(min(max(round(0.5 * (a + b), 2), 0.0), duration))
                               for a, b in zip(table["t0"], table["t1"], strict=True)])
            middle = (first + last) // 2
            reachable = cfg.frame_time(middle) <= duration  # the slider ends at the recording's end
            if g == 1:
                assert (picked == middle)[reachable].all(), (cfg.winstep, samples)
            else:  # a column's middle can fall between two frames
                assert (np.abs(picked - (first + last) / 2) <= 0.5)[reachable].all(), (cfg.winstep, samples)


def i18n_tr(lang: str):
    from i18n import translator

    return translator(lang)
