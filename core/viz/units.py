"""Altair chart builders for units, filters and pruning curves: data in, ``alt.Chart`` out.

Companion of ``core/viz/maps.py`` (the square maps). No Streamlit, no statistics: the numbers come
from ``core/pruning/`` and ``core/importance``; this module only draws them.

Choices written down here:

- **Pruning curves**: accuracy (y, 0..1) against units deleted (x); one line per order, ``random``
  drawn as its mean line with the min-max band over seeds shaded; the full model's accuracy as a
  dashed rule; the "delete k" slider's position as a vertical rule. Colours are fixed per order
  (importance orders warm/cool, baselines grey-ish) so two charts of one page read alike.
- **Unit importance bars**: Imp(l, i) of each layer sorted from the largest down, one small panel
  per layer on a shared y scale, so layers compare at a glance (area under a panel = the layer's
  total importance).
- **Images** (filters, feature maps, saliency): each image is scaled to its own largest |value|
  (diverging red/blue, white = 0) and drawn as a grid of rects; the scale is named in the title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.features import FeatureConfig
from core.importance.pairs import input_table
from core.text import N_, Translate, english
from core.viz.format import FORMATS
from core.viz.format import axis as number_axis
from core.viz.maps import FIT_X, Extent, _area, _grid_xy, map_height

ORDER_COLOURS = {
    "imp_asc": "#1a9850",  # least important first: green (the good direction)
    "imp_desc": "#d73027",  # most important first: red (the damage)
    "random": "#4d4d4d",
    "l1": "#4575b4",
    "taylor": "#9e5fc4",
    "variance": "#e08214",
}
ORDER_NAMES = {
    "imp_asc": N_("least important first (Imp)"),
    "imp_desc": N_("most important first (Imp)"),
    "random": N_("random (mean, band = min-max)"),
    "l1": N_("smallest weight norm first (L1)"),
    "taylor": N_("smallest Taylor score first"),
    "variance": N_("smallest input variance first"),
}
"""Display names of the pruning orders (English; shown through the caller's ``tr``)."""


_PAD = alt.AutoSizeParams(type="pad")
"""Charts keep their declared plot size; titles, axes and legends are added around it (Streamlit
otherwise squeezes a chart with a legend into the declared height)."""

Width = int | str
"""A chart's width: ``"container"`` (the default: the chart fits its column, axes and legends
included, as core.viz.maps' maps do; show it with ``st.altair_chart(..., width="stretch")``) or a
fixed plot width in px."""


def _autosize(width: Width) -> alt.AutoSizeParams:
    return FIT_X if width == "container" else _PAD


def _order_scale(orders: Sequence[str], tr: Translate = english) -> alt.Scale:
    names = [tr(ORDER_NAMES.get(o, o)) for o in orders]
    return alt.Scale(domain=names, range=[ORDER_COLOURS.get(o, "#999999") for o in orders])


def curve_chart(
    table: pd.DataFrame,
    full_accuracy: float,
    *,
    title: str = "",
    x_title: str | None = None,
    marker_k: int | None = None,
    width: Width = "container",
    height: int = 260,
    tr: Translate = english,
) -> alt.LayerChart:
    """Accuracy against units deleted, one line per order, random's band shaded.

    table: long rows with columns k, fraction, order, accuracy and lo, hi (read for ``random`` only:
    the min-max band over its seeds).
    """
    df = table.copy()
    orders = list(dict.fromkeys(df["order"]))
    df["method"] = [tr(ORDER_NAMES.get(o, o)) for o in df["order"]]
    colour = alt.Color("method:N", scale=_order_scale(orders, tr), legend=alt.Legend(title=None, orient="bottom",
                                                                                 columns=1, labelLimit=260))
    x = alt.X("k:Q", title=x_title or tr("units deleted"), scale=alt.Scale(nice=False), axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("accuracy:Q", title=tr("accuracy (held-out)"), scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%"))
    tooltip = [alt.Tooltip("method:N", title=tr("order")), alt.Tooltip("k:Q", title=tr("deleted")),
               alt.Tooltip("fraction:Q", title=tr("fraction"), format=".0%"),
               alt.Tooltip("accuracy:Q", title=tr("accuracy"), format=".1%")]
    layers = []
    if {"lo", "hi"} <= set(df.columns):
        band = df[df["order"] == "random"].dropna(subset=["lo", "hi"])
        if len(band):
            layers.append(alt.Chart(band).mark_area(opacity=0.18, color=ORDER_COLOURS["random"]).encode(
                x=x, y=alt.Y("lo:Q", scale=alt.Scale(domain=[0, 1])), y2="hi:Q"))
    layers.append(alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2).encode(
        x=x, y=y, color=colour, tooltip=tooltip))
    layers.append(alt.Chart(pd.DataFrame({"full": [full_accuracy]})).mark_rule(
        strokeDash=[4, 3], color="#888888").encode(y="full:Q", tooltip=[alt.Tooltip("full:Q", title=tr("full model"),
                                                                                     format=".1%")]))
    if marker_k is not None:
        layers.append(alt.Chart(pd.DataFrame({"k": [marker_k]})).mark_rule(color="#222222", strokeWidth=1.5).encode(
            x="k:Q"))
    return alt.layer(*layers).properties(width=width, height=height, title=title, autosize=_autosize(width))


def unit_bars(importance: Mapping[int, np.ndarray], *, title: str = "", panel_width: int = 100,
              height: int = 150, layer_name: str | None = None, columns: int = 4,
              tr: Translate = english) -> alt.Chart:
    """Imp(l, i) of each layer, units sorted from the most important down; one panel per layer
    (shared y scale). importance: {layer: (units,) array}. Vega-Lite cannot fit a faceted chart to
    its container, so the panels have a fixed width: 4 columns of 100 px (about 520 px with the axis)
    fit a column of a 1024 px screen with the sidebar open, in every language (no text under a panel
    is wider than the panel)."""
    layer_name = layer_name or tr("hidden layer")
    rows = []
    for layer, imp in importance.items():
        v = np.sort(np.asarray(imp, dtype=np.float64))[::-1]
        rows.append(pd.DataFrame({"layer": f"{layer_name} {layer}", "rank": np.arange(1, len(v) + 1),
                                  "importance": v, "order": int(layer)}))
    df = pd.concat(rows, ignore_index=True)
    return (
        alt.Chart(df, width=panel_width, height=height)
        .mark_area(color="#4575b4", opacity=0.85, interpolate="step-after")
        .encode(
            x=alt.X("rank:Q", title=None, axis=alt.Axis(tickCount=3)),
            y=alt.Y("importance:Q", title="Imp(l, i)", axis=number_axis()),
            tooltip=[alt.Tooltip("layer:N", title=tr("layer")), alt.Tooltip("rank:Q", title=tr("rank")),
                     alt.Tooltip("importance:Q", title="Imp(l, i)", format=FORMATS["importance"])],
        )
        # the x title once above the panels: under each panel a title longer than the panel (Japanese)
        # widens every panel, and four no longer fit the column
        .facet(facet=alt.Facet("layer:N", title=tr("units, sorted"), sort=alt.SortField("order"),
                               header=alt.Header(titleFontWeight="normal", titleFontSize=11)),
               columns=columns, title=title)
        .resolve_scale(x="independent")
    )


def filter_bars(importance: np.ndarray, *, title: str = "", highlight: Sequence[int] = (),
                width: Width = "container", height: int = 180, tr: Translate = english) -> alt.Chart:
    """Importance of each filter as bars in filter order; filters in ``highlight`` (e.g. deleted)
    drawn light grey."""
    imp = np.asarray(importance, dtype=np.float64)
    gone = set(int(h) for h in highlight)
    kept, deleted = tr("kept"), tr("deleted")
    df = pd.DataFrame({"filter": np.arange(len(imp)), "importance": imp,
                       "state": [deleted if i in gone else kept for i in range(len(imp))]})
    return (
        alt.Chart(df, width=width, height=height, title=title, autosize=_autosize(width))
        .mark_bar()
        .encode(
            x=alt.X("filter:O", title=tr("filter")),
            y=alt.Y("importance:Q", title=tr("importance"), axis=number_axis()),
            color=alt.Color("state:N", scale=alt.Scale(domain=[kept, deleted], range=["#4575b4", "#d9d9d9"]),
                            legend=alt.Legend(title=None, orient="top") if gone else None),
            tooltip=[alt.Tooltip("filter:O", title=tr("filter")),
                     alt.Tooltip("importance:Q", title=tr("importance"), format=FORMATS["importance"]),
                     alt.Tooltip("state:N", title=tr("state"))],
        )
    )


UNIT_NAMES = {"phoneme": N_("phoneme"), "digit": N_("digit")}


def damage_bars(losses: Sequence[tuple[str, float]], *, title: str = "", n: int = 12, width: Width = "container",
                unit: str = "phoneme", tr: Translate = english) -> alt.Chart:
    """The (at most ``n``) classes that lose most: bars of the recall change (pruned minus full, a
    loss is negative), most damaged at the top; classes that do not lose are left out.
    losses: (class, recall lost) as ``PruneCurve.damage`` gives them."""
    top = [r for r in losses if r[1] > 0][:n]
    df = pd.DataFrame({unit: [r[0] for r in top], "change": [-r[1] for r in top]})
    # whole percent ticks repeat themselves ("-2% -2% -1% -1%") when every loss is a few percent
    fmt = "+.0%" if len(df) and float(df["change"].min()) <= -0.05 else "+.1%"
    return (
        alt.Chart(df, width=width, height=max(60, 20 * len(df)), title=title, autosize=_autosize(width))
        .mark_bar(color="#d73027")
        .encode(
            # sorted by the value itself, so a redraw with new data keeps the order right
            y=alt.Y(f"{unit}:N", sort=alt.EncodingSortField(field="change", order="ascending"), title=None,
                    axis=alt.Axis(labelOverlap=False)),
            x=alt.X("change:Q", title=tr("recall change (pruned − full)"), axis=alt.Axis(format=fmt, tickCount=4)),
            tooltip=[alt.Tooltip(f"{unit}:N", title=tr(UNIT_NAMES.get(unit, unit))), alt.Tooltip("change:Q", title=tr("change"), format="+.1%")],
        )
    )


def kept_inputs_map(cfg: FeatureConfig, keep: np.ndarray, importance: np.ndarray, *, title: str = "",
                    tr: Translate = english) -> alt.Chart:
    """The input grid (time x channel): kept inputs as blue squares sized by their importance,
    deleted ones as small grey crosses. keep: (input_dim,) bool; importance: (input_dim,). Fits its
    column like core.viz.maps' maps (square area a Vega expression of the width)."""
    df = input_table(cfg)
    df["importance"] = np.asarray(importance, dtype=np.float64)
    kept_mask = np.asarray(keep, dtype=bool)
    df["state"] = np.where(kept_mask, tr("kept"), tr("deleted"))
    ext = Extent.full(cfg)
    height = map_height(cfg)
    vmax = float(df["importance"].max()) or 1.0
    tooltip = [alt.Tooltip("offset_frames:Q", title=tr("offset (frames)")),
               alt.Tooltip("channel_name:N", title=tr("centre") if cfg.kind == "mfbank" else tr("coefficient")),
               alt.Tooltip("importance:Q", title=tr("importance"), format=FORMATS["importance"]),
               alt.Tooltip("state:N", title=tr("state"))]
    kept = alt.Chart(df[kept_mask]).mark_square(color="#4575b4").encode(
        **_grid_xy(cfg, ext, tr), size=_area("importance", vmax, ext, 1.0, 1.0, tr("importance (area)"), tr),
        tooltip=tooltip)
    gone = alt.Chart(df[~kept_mask]).mark_point(shape="cross", color="#bdbdbd", size=30,
                                                filled=True).encode(**_grid_xy(cfg, ext, tr), tooltip=tooltip)
    return (alt.layer(gone, kept)
            .properties(width="container", height=height, title=title, autosize=FIT_X)
            .configure_axis(grid=False).configure_view(stroke="#dddddd"))


def image_grid(images: np.ndarray, *, names: Sequence[str] | None = None, columns: int = 8, cell: int = 8,
               title: str = "", scheme: str | None = None, symmetric: bool = True,
               tr: Translate = english) -> alt.Chart:
    """Small images (n, h, w) as heatmaps in a grid of ``columns``; each image scaled to its own
    largest |value| (``symmetric``: -1..1 diverging, default scheme red/blue with white at 0; else
    0..1 sequential, default greys)."""
    imgs = np.asarray(images, dtype=np.float64)
    n, h, w = imgs.shape
    names = list(names) if names is not None else [str(i) for i in range(n)]
    peak = np.abs(imgs).reshape(n, -1).max(axis=1)
    peak[peak == 0] = 1.0
    scaled = imgs / peak[:, None, None]
    yy, xx = np.mgrid[0:h, 0:w]
    df = pd.DataFrame({
        "image": np.repeat(names, h * w),
        "idx": np.repeat(np.arange(n), h * w),
        "x": np.tile(xx.ravel(), n),
        "y": np.tile(yy.ravel(), n),
        "value": scaled.ravel(),
        "raw": imgs.ravel(),
    })
    colour = (alt.Color("value:Q", scale=alt.Scale(scheme=scheme or "redblue", reverse=True, domain=[-1, 1]),
                        legend=None)
              if symmetric else
              alt.Color("value:Q", scale=alt.Scale(scheme=scheme or "greys", domain=[0, 1]), legend=None))
    return (
        alt.Chart(df, width=w * cell, height=h * cell)
        .mark_rect()
        .encode(
            x=alt.X("x:O", axis=None),
            y=alt.Y("y:O", axis=None),
            color=colour,
            tooltip=[alt.Tooltip("image:N", title=tr("image")), alt.Tooltip("x:O"), alt.Tooltip("y:O"),
                     alt.Tooltip("raw:Q", title=tr("value"), format=FORMATS["value"])],
        )
        .facet(facet=alt.Facet("image:N", title=None, sort=alt.SortField("idx"),
                               header=alt.Header(labelFontSize=10, labelPadding=2)),
               columns=columns, spacing=4, title=title)
        .configure_view(stroke=None)
    )


def accuracy_text(value: float) -> str:
    """One format for accuracies across the app: 88.2 %."""
    return f"{100 * value:.1f} %"
