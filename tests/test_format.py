"""core.viz.format, the one place of number formats: the Python rule, the same rule in Vega (rendered
by vl-convert, the Vega the dashboard ships), and every numeric axis and legend of the charts the app
builds, read from their drawing: no "e+" and no zero written in scientific notation (issue 28)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from core.features import FeatureConfig
from core.viz import maps as charts
from core.viz import units as uc
from core.viz.format import axis, fmt, label_expr, nobreak, number


@pytest.mark.parametrize(
    "value,text",
    [
        (0, "0"), (-0.0, "0"), (1e-7, "1e-7"), (2.5e-4, "2.5e-4"), (1.23e-4, "1.2e-4"), (0.05, "5e-2"),
        (0.0999, "0.1"),  # rounded to two digits it is 0.1, written as 0.1 is
        (0.1, "0.1"), (0.5, "0.5"), (1, "1"), (2.5, "2.5"), (150, "150"), (1234, "1200"),
        (9999.7, "1e4"), (12345, "1.2e4"), (-0.3, "-0.3"), (-2e-5, "-2e-5"), (7.77e8, "7.8e8"),
        (math.nan, "nan"), (math.inf, "inf"),
    ],
)
def test_number_rule(value, text):
    assert number(value) == text


@pytest.mark.parametrize(
    "value,quantity,text",
    [
        (6.83e-5, "importance", "6.83e-5"), (0.0104, "importance", "1.04e-2"), (0, "importance", "0"),
        (12.5, "score", "1.25e1"), (-3.2e-7, "product", "-3.20e-7"), (0.756, "p", "0.76"), (-1.234, "z", "-1.23"),
    ],
)
def test_quantity_formats(value, quantity, text):
    assert fmt(value, quantity) == text
    assert "e+" not in fmt(value, quantity)


def test_nobreak_keeps_the_exponent_on_the_line():
    assert nobreak("1.04e-2") == "1.04e\u20112" and "-" not in nobreak(fmt(-3e-7, "score"))


def _labels(spec: dict) -> list[str]:
    """Texts of every axis and legend label in the chart's SVG drawing by Vega (minus sign as '-')."""
    svg = vlc.vegalite_to_svg(spec)
    groups = re.findall(r'<g class="mark-text role-(?:axis|legend)-label"[^>]*>(.*?)</g>', svg, flags=re.S)
    texts = [t for g in groups for t in re.findall(r"<text[^>]*>([^<]*)</text>", g)]
    return [t.replace("\u2212", "-") for t in texts]


VALUES = [0, 1e-7, 2.5e-4, 1.23e-4, 0.05, 0.0999, 0.1, 0.5, 1, 2.5, 150, 1234, 9999.7, 12345, -0.3, -2e-5, 7.77e8]


@pytest.mark.parametrize("digits", [2, 3])
def test_the_vega_rule_writes_what_python_writes(digits):
    import altair as alt

    df = pd.DataFrame({"x": VALUES, "y": range(len(VALUES))})
    spec = (
        alt.Chart(df).mark_point()
        .encode(x=alt.X("x:Q", axis=axis(digits, values=VALUES, labelOverlap=False)), y=alt.Y("y:O", axis=None))
        .to_dict()
    )
    assert sorted(_labels(spec)) == sorted(number(v, digits) for v in VALUES)
    assert label_expr(digits).startswith("datum.value == 0 ? '0'")


def _bad(labels: list[str]) -> list[str]:
    return [t for t in labels if "e+" in t or re.fullmatch(r"-?0(\.0+)?e-?\d+", t)]


@pytest.mark.parametrize("scale", [1e-6, 1e-4, 1e-2, 1.0, 30.0, 300.0])
def test_no_chart_of_the_app_writes_e_plus_or_a_scientific_zero(scale):
    """The charts' numeric axes and legends over the ranges their values take (importances from 1e-7
    to 1e-1, Imp(l, i) and filter importances up to hundreds, logit gradients above 1)."""
    rng = np.random.default_rng(0)
    cfg = FeatureConfig()
    imp = rng.uniform(0, 1, cfg.input_dim) * scale
    table = charts.map_table(cfg, imp, rng.normal(size=cfg.input_dim))
    pair = charts.pair_table(cfg, imp, imp[::-1].copy(), rng.uniform(0, 1, cfg.input_dim), rng.uniform(0, 1, cfg.input_dim))
    built = {
        "importance map": charts.importance_map(table, cfg),
        "importance map, mean colour": charts.importance_map(table, cfg, colour="mean"),
        "pair map": charts.pair_map(pair, cfg, "s", "sh"),
        "per channel": charts.spectral_profile(table, cfg),
        "per time offset": charts.temporal_profile(table, cfg),
        "units": uc.unit_bars({1: rng.uniform(0, 1, 64) * scale, 2: rng.uniform(0, 1, 64) * scale}),
        "filters": uc.filter_bars(rng.uniform(0, 1, 16) * scale),
        "kept inputs": uc.kept_inputs_map(cfg, rng.uniform(size=cfg.input_dim) > 0.3, imp),
    }
    for name, chart in built.items():
        labels = _labels(chart.to_dict())
        assert labels, name
        assert not _bad(labels), (name, _bad(labels))


def test_the_old_formats_would_fail():
    """The check above can fail: the former axis and legend formats write "e+" or "0.0e+0" here."""
    import altair as alt

    df = pd.DataFrame({"v": [0.0, 40.0, 150.0, 300.0], "i": range(4)})
    for fmt_ in (".2g", ".1e", ".2e"):
        spec = alt.Chart(df).mark_bar().encode(x="i:O", y=alt.Y("v:Q", axis=alt.Axis(format=fmt_))).to_dict()
        assert _bad(_labels(spec)), fmt_
