"""Altair chart builders of the square maps: data in, ``alt.Chart`` out. No Streamlit, no statistics.

The tables they draw (``map_table``, ``pair_table``, ``select_cells``, ``ranked``) are built in
``core.importance.pairs`` from the numpy arrays that ``core.importance`` and
``core.importance.overlap`` compute; they are imported here too, so the old ``core.charts`` names
still work and a page only wires widgets.

Reading a map (METHOD.md sections 3 and 4): one square per input unit on a time x channel grid;
the square's *area* is proportional to the importance (for a pair: the product of the two), so
the largest square in view fills its cell; the colour is the importance itself, the
class-conditional input mean (diverging, blue = low, red = high) or, for a pair, p_e (sequential
over the pair's own range of p_e).

Sizes: every chart takes the width of its container (Streamlit ``width="stretch"``) and a fixed
height; square areas are a Vega expression of the plot's width and height (``_cell_area_expr``),
so a map fits any column (checked in the browser at 800, 1024 and 1400 px). Ranges zoom the axes
(``Extent``). A table with a boolean ``solid`` column draws its false rows as outlines (cells not
distinguishable from zero; ``hollow_encoding``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from core.features import FeatureConfig, channel_names
from core.importance.pairs import (  # noqa: F401  (the old core.charts names of the tables)
    RANKS,
    cell_row,
    map_table,
    pair_table,
    ranked,
    select_cells,
)
from core.text import N_, Translate, english
from core.viz.format import FORMATS, fmt, label_expr, nobreak  # noqa: F401  (pages use charts.fmt, charts.nobreak)
from core.viz.format import axis as number_axis

PROFILE_SIZE = 100


def drawn_unvalidated(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``chart`` itself, whose ``to_dict()`` (called by Streamlit's ``st.altair_chart`` on every
    run) skips Altair's JSON-schema validation: measured, validation was about half of the Findings
    page's server time (nine small charts) and a fifth of the pair page's. The builders' specs are
    validated where they are tested (tests/test_charts.py and others call ``to_dict()`` on the
    builders' own output); an explicit ``to_dict(validate=True)`` still validates."""
    object.__setattr__(chart, "to_dict", functools.partial(type(chart).to_dict, chart, validate=False))
    return chart


def legend_values(vmax: float) -> list[float]:
    """Three round values for a size legend: about a quarter, a half and all of ``vmax``."""
    if not vmax > 0:
        return [0.0]
    out = []
    for f in (0.25, 0.5, 1.0):
        v = vmax * f
        e = np.floor(np.log10(v))
        out.append(float(f"{np.floor(v / 10**e * 10) / 10 * 10**e:.2g}"))  # 2 significant digits, rounded down
    return sorted(set(out))


Range = tuple[int, int]


@dataclass(frozen=True)
class Extent:
    """The part of the grid a map shows (inclusive offsets and channel indices): the axes zoom to it.

    ``full(cfg)`` is the whole map."""

    time: Range
    channels: Range

    @classmethod
    def full(cls, cfg: FeatureConfig) -> Extent:
        return cls((-cfg.context, cfg.context), (0, cfg.n_channels - 1))

    @property
    def n_time(self) -> int:
        return self.time[1] - self.time[0] + 1

    @property
    def n_channels(self) -> int:
        return self.channels[1] - self.channels[0] + 1


FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")
"""Every chart: the width (the container's) includes axes and legends, the height is the plot's own
(titles, axes and legends are added below and above it); Streamlit would otherwise squeeze the
whole chart into the declared height."""

AXIS_EXTENT = 58
"""Pixels kept for the y axis (labels and title) of every map and profile, so that plots stacked in
one column line up."""

def _channel_axis(cfg: FeatureConfig, ext: Extent, title: str | None = None, tr: Translate = english) -> alt.Axis:
    """A y axis over channel indices labelled in Hz (MFBANK) or cepstral names (MFCC)."""
    lo, hi = ext.channels
    step = max(1, int(np.ceil(ext.n_channels / 10)))
    values = list(range(lo, hi + 1, step))
    if cfg.kind == "mfbank":
        names = [n.removesuffix(" Hz") for n in channel_names(cfg)]
        return alt.Axis(title=title or tr("mel band centre (Hz)"), values=values, labelExpr=f"{names}[datum.value]",
                        minExtent=AXIS_EXTENT, maxExtent=AXIS_EXTENT)
    names = channel_names(cfg)
    return alt.Axis(title=title or tr("cepstral coefficient"), values=values, labelExpr=f"{names}[datum.value]",
                    minExtent=AXIS_EXTENT, maxExtent=AXIS_EXTENT)


def _time_axis(cfg: FeatureConfig, ext: Extent, tr: Translate = english) -> alt.Axis:
    step_ms = cfg.winstep * 1000
    lo, hi = ext.time
    step = 1 if ext.n_time <= 9 else (2 if ext.n_time <= 17 else 5)
    return alt.Axis(
        title=tr("time offset (frames; ms)"),
        values=[v for v in range(lo, hi + 1) if v % step == 0],
        labelExpr=f"datum.value + ' (' + round(datum.value * {step_ms}) + ')'",  # '-' as the frames' (not d3's '−')
        labelAngle=0,
    )


def _grid_xy(cfg: FeatureConfig, ext: Extent, tr: Translate = english) -> dict:
    """x = time offset, y = channel, one cell per input, zoomed to ``ext``."""
    return {
        "x": alt.X("offset_frames:Q", scale=alt.Scale(domain=[ext.time[0] - 0.5, ext.time[1] + 0.5], nice=False),
                   axis=_time_axis(cfg, ext, tr)),
        "y": alt.Y("channel:Q", scale=alt.Scale(domain=[ext.channels[0] - 0.5, ext.channels[1] + 0.5], nice=False),
                   axis=_channel_axis(cfg, ext, tr=tr)),
    }


def _cell_area_expr(ext: Extent, scale: float) -> str:
    """Vega expression: the area (px^2) of a square filling 95 % of one cell's smaller side, times
    ``scale``. It reads the plot's ``width`` and ``height`` signals, so squares follow the chart's
    size when it stretches to its column (and grow when the axes zoom in)."""
    return f"pow(0.95 * min(width / {ext.n_time}, height / {ext.n_channels}), 2) * {float(scale)}"


def title_lines(title: str) -> str | list[str]:
    """A legend title with its parenthesis on a second line ('imp /s/ × imp /sh/' / '(area)'): Vega
    cuts a title longer than the legend's ``titleLimit`` with "…" and never wraps it itself."""
    for sep in ("（", " ("):
        if sep in title and not title.startswith(sep):
            i = title.index(sep)
            return [title[:i], title[i:].strip()]
    return title


def area_title(title: str, contrast: float, tr: Translate = english) -> str:
    """The size legend's title: ``title``, with the contrast when it is not 1 (a colour legend of the
    same field must use the same title, or Vega-Lite writes both titles into one legend)."""
    return title if contrast == 1 else tr("{title}, contrast {c}").format(title=title, c=f"{contrast:g}")


def _area(field: str, vmax: float, ext: Extent, scale: float, contrast: float, title: str,
          tr: Translate = english, narrow: bool = False) -> alt.Size:
    """Square area of ``field``: 0 -> nothing, ``vmax`` -> a full cell (times ``scale``); in between
    area = full * (value / vmax) ** contrast (contrast 1: area proportional to the value; 2: small
    values shrink faster). The legend is drawn by the same scale, so it stays truthful; ``narrow``:
    its entries one under another and the title's parenthesis on a second line (a chart in a narrow
    column)."""
    kind = {"type": "linear"} if contrast == 1 else {"type": "pow", "exponent": float(contrast)}
    title = area_title(title, contrast, tr)
    return alt.Size(
        f"{field}:Q",
        scale=alt.Scale(domain=[0, max(vmax, 1e-300)], range=[0, alt.ExprRef(_cell_area_expr(ext, scale))],
                        **kind),
        legend=alt.Legend(title=title_lines(title) if narrow else title, labelExpr=label_expr(), orient="bottom",
                          values=legend_values(vmax),
                          **({"columns": 1} if narrow else {})),
    )


COLOURS = {"importance": N_("importance"), "mean": N_("class mean (the paper)"), "none": N_("none")}
"""Colour modes of a phoneme's map: the importance itself (the default: large and dark go together,
so the most important inputs are the most visible thing), the class-conditional mean of the input
(METHOD.md section 3: red above average, blue below), or one colour."""


def map_height(cfg: FeatureConfig) -> int:
    """Height in px of the plot of a map: 12 px per channel, at least 260 px (MFCC: 13 channels)."""
    return int(max(260, 12 * cfg.n_channels))


def importance_map(
    df: pd.DataFrame,
    cfg: FeatureConfig,
    scale: float = 1.0,
    title: str = "",
    size_max: float | None = None,
    color_max: float | None = None,
    *,
    colour: str = "importance",
    contrast: float = 1.0,
    extent: Extent | None = None,
    whole: pd.DataFrame | None = None,
    tr: Translate = english,
) -> alt.Chart:
    """Squares on the time x channel grid: area ~ importance (``contrast``: see ``_area``), colour
    by ``colour`` (``COLOURS``), axes zoomed to ``extent`` (default the whole grid).

    df: rows of ``map_table`` (possibly filtered). ``size_max`` / ``color_max``: the importance that
    fills a cell and the |mean| at the ends of the colour scale; give those of the whole map so that
    filtering the view changes no square's size or colour (default: from ``df``). ``scale``
    multiplies every square's area (1 = a square of importance ``size_max`` fills its cell).
    ``whole``: the unfiltered table, whose maxima are then ``size_max`` and ``color_max``.
    The width follows the container (Streamlit ``width="stretch"``); the height is ``map_height``.
    """
    if whole is not None and len(whole):
        size_max, color_max = float(whole["importance"].max()), float(np.nanmax(np.abs(whole["mean"])))
    if colour not in COLOURS:
        raise ValueError(f"Unknown colour mode {colour!r}; choose one of {', '.join(COLOURS)}.")
    ext = extent or Extent.full(cfg)
    vmax = size_max if size_max is not None else (float(df["importance"].max()) if len(df) else 1.0)
    if color_max is not None:
        cmax = color_max
    else:
        cmax = float(np.nanmax(np.abs(df["mean"]))) if len(df) else 1.0
    cmax = max(cmax, 1e-6)
    df, tip = text_tooltip(df, [
        (tr("offset (frames)"), "offset_frames", None),
        (tr("offset (ms)"), "offset_ms", None),
        (tr("channel"), "channel", None),
        (tr("centre") if cfg.kind == "mfbank" else tr("coefficient"), "channel_name", None),
        (tr("importance"), "importance", "importance"),
        (tr("mean input (z)"), "mean", "z"),
    ])
    if colour == "mean":
        color = alt.Color("mean:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-cmax, cmax], domainMid=0),
                          legend=alt.Legend(title=tr("mean input (z)"), orient="bottom", format=".1f"))  # not on top: the
        # per-channel bars beside the map must start at the map's first row
    elif colour == "importance":
        color = alt.Color("importance:Q", scale=alt.Scale(scheme="yelloworangered", domain=[0, max(vmax, 1e-300)]),
                          legend=alt.Legend(title=area_title(tr("importance (area and colour)"), contrast, tr), orient="bottom",
                                            titleLimit=300, labelExpr=label_expr(),
                                            values=legend_values(vmax)))
    else:
        color = alt.value("#444444")
    return (
        alt.Chart(df, title=title, width="container", height=map_height(cfg))
        .mark_square(opacity=1.0, clip=True, **tip)
        .encode(
            **_grid_xy(cfg, ext, tr),
            size=_area("importance", vmax, ext, scale, contrast,
                       tr("importance (area and colour)") if colour == "importance" else tr("importance (area)"),
                       tr),
            color=color,
            **hollow_encoding(df, color),
        )
        .properties(autosize=FIT_X)
        .configure_view(stroke="#dddddd")
        .configure_axis(grid=False)
        .configure_legend(labelLimit=80)
    )


def hollow_encoding(df: pd.DataFrame, color) -> dict:
    """Encodings drawing the rows whose boolean column ``solid`` is false (cells not distinguishable
    from zero, ``core.trust``) as outlines in their colour; nothing when ``df`` has no such column."""
    if "solid" not in df.columns:
        return {}
    if isinstance(color, alt.Color):
        spec = {k: v for k, v in color.to_dict().items() if k != "legend"}
        stroke = alt.Stroke(**spec, legend=None)
    else:
        stroke = color
    return {"fillOpacity": alt.condition("datum.solid", alt.value(1.0), alt.value(0.0)), "stroke": stroke,
            "strokeWidth": alt.condition("datum.solid", alt.value(0.0), alt.value(1.2))}


def text_tooltip(df: pd.DataFrame, items: list[tuple[str, str, str | None]]) -> tuple[pd.DataFrame, dict]:
    """A tooltip written in Python: ``items`` are (title, column, quantity); each value is formatted
    by ``fmt`` (quantity None: the column as it is, integers with a sign for offsets). Returns the
    table with the text columns ``tip_0``, ``tip_1``... and the mark properties to pass to
    ``mark_*``: one Vega expression building the tooltip's object from those columns, and no ARIA
    description. A square map has 1,400 or more marks; with Vega-Lite's tooltip encoding the
    browser formats every field of every mark in Vega's expression interpreter and writes an ARIA
    label for each, on every redraw: about a tenth of a second of a new pair's drawing (measured
    with bench/pages.py --browser on the 2-core machine)."""
    cols, keys = {}, []
    for i, (title, column, quantity) in enumerate(items):
        values = df[column].to_numpy()
        if quantity is not None:
            text = [fmt(float(v), quantity) for v in values]
        elif column == "offset_frames":
            text = [f"{int(v):+d}" for v in values]
        elif column == "offset_ms":
            text = [f"{float(v):+.0f}" for v in values]
        else:
            text = [str(v) for v in values]
        cols[f"tip_{i}"] = text
        keys.append(f"{json.dumps(title, ensure_ascii=False)}: datum.tip_{i}")
    return df.assign(**cols), {"tooltip": alt.ExprRef("{" + ", ".join(keys) + "}"), "aria": False}


def tooltip_titles(expr: str) -> list[str]:
    """The titles of a ``text_tooltip`` expression, in order."""
    return [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*"): datum\.tip_\d+', expr)]


def spectral_profile(df: pd.DataFrame, cfg: FeatureConfig, value: str = "importance",
                     extent: Extent | None = None, *, tr: Translate = english) -> alt.Chart:
    """Importance summed over time for each channel (of the cells in ``df``): bars, channel axis as
    the map's, the same height."""
    ext = extent or Extent.full(cfg)
    height = map_height(cfg)
    prof = df.groupby("channel", as_index=False)[value].sum()
    return (
        alt.Chart(prof, width="container", height=height,  # a narrow column: the title on two lines
                  # limit 0: no cut (Streamlit would cut the title at the chart's width - 40 px)
                  title=alt.Title(tr("per channel").split(" ", 1), fontSize=12, limit=0))
        .mark_bar(color="#7f8c8d", orient="horizontal", height=max(2, height / ext.n_channels - 2), clip=True)
        .encode(
            y=alt.Y("channel:Q", scale=alt.Scale(domain=[ext.channels[0] - 0.5, ext.channels[1] + 0.5], nice=False),
                    axis=alt.Axis(labels=False, ticks=False, title=None)),
            x=alt.X(f"{value}:Q", title=tr("sum over time"), axis=number_axis(tickCount=2)),
            tooltip=[alt.Tooltip("channel:Q", title=tr("channel")),
                     alt.Tooltip(f"{value}:Q", title=tr(value), format=FORMATS["importance"])],
        )
        .properties(autosize=FIT_X)
        .configure_view(stroke="#dddddd")
        .configure_axis(grid=False)
    )


def temporal_profile(df: pd.DataFrame, cfg: FeatureConfig, value: str = "importance",
                     extent: Extent | None = None, *, tr: Translate = english) -> alt.Chart:
    """Importance summed over channels for each time offset (of the cells in ``df``): bars under
    the map, the same x axis and y-axis extent, so the two line up in one column."""
    ext = extent or Extent.full(cfg)
    prof = df.groupby("offset_frames", as_index=False)[value].sum()
    return (
        alt.Chart(prof, width="container", height=PROFILE_SIZE, title=tr("per time offset"))
        .mark_bar(color="#7f8c8d", clip=True)
        .encode(
            x=alt.X("offset_frames:Q", scale=alt.Scale(domain=[ext.time[0] - 0.5, ext.time[1] + 0.5], nice=False),
                    axis=_time_axis(cfg, ext, tr)),
            y=alt.Y(f"{value}:Q", title=tr("sum over channels"),
                    axis=number_axis(tickCount=3, minExtent=AXIS_EXTENT, maxExtent=AXIS_EXTENT)),
            tooltip=[alt.Tooltip("offset_frames:Q", title=tr("offset (frames)")),
                     alt.Tooltip(f"{value}:Q", title=tr(value), format=FORMATS["importance"])],
        )
        .properties(autosize=FIT_X)
        .configure_view(stroke="#dddddd")
        .configure_axis(grid=False)
    )


PAIR_SELECTION = "cell"


def pair_map(
    df: pd.DataFrame,
    cfg: FeatureConfig,
    label_a: str,
    label_b: str,
    scale: float = 1.0,
    size_max: float | None = None,
    *,
    p_e_range: tuple[float, float] | None = None,
    extent: Extent | None = None,
    contrast: float = 1.0,
    selected: tuple[int, int] | None = None,
    whole: pd.DataFrame | None = None,
    tr: Translate = english,
) -> alt.Chart:
    """Squares sized by importance_a x importance_b, coloured by p_e.

    The colour scale runs over ``p_e_range`` (give the whole map's min and max of p_e; default
    those of ``df``), light grey at its low end, dark red at its high end, so the pair's most
    different cells stand out even when p_e never comes near 1; the legend's labels are the real
    p_e values at its ends. ``selected``: (offset_frames, channel) of the cell drawn with a black
    outline. Clicking a square selects it: the selection ``PAIR_SELECTION`` has fields
    offset_frames and channel (Streamlit returns them with ``on_select``). ``whole``: the
    unfiltered table, giving ``size_max`` and ``p_e_range``.
    """
    if whole is not None and len(whole):
        size_max = float(whole["importance_pair"].max())
        p_e_range = (float(whole["p_e"].min()), float(whole["p_e"].max()))
    ext = extent or Extent.full(cfg)
    if size_max is not None:
        vmax = size_max
    else:
        vmax = float(df["importance_pair"].max()) if len(df) else 1.0
    if p_e_range is None:
        p_e_range = (float(df["p_e"].min()), float(df["p_e"].max())) if len(df) else (0.0, 1.0)
    lo, hi = p_e_range
    if not hi > lo:
        lo, hi = min(lo, 0.0), max(hi, lo + 1e-6)
    data = df.assign(selected=False) if selected is None else df.assign(
        selected=(df["offset_frames"] == selected[0]) & (df["channel"] == selected[1]))
    hollow = {}
    if "solid" in data.columns:  # not distinguishable from zero: a grey outline (the clicked cell stays black)
        data = data.assign(line=np.where(data["selected"], 2.5, np.where(data["solid"], 0.0, 1.2)),
                           line_colour=np.where(data["selected"], "black", "#666666"))
        hollow = {"fillOpacity": alt.condition("datum.solid", alt.value(1.0), alt.value(0.0)),
                  "stroke": alt.Stroke("line_colour:N", scale=None, legend=None),
                  "strokeWidth": alt.StrokeWidth("line:Q", scale=None, legend=None)}
    sel = alt.selection_point(name=PAIR_SELECTION, fields=["offset_frames", "channel"], on="click",
                              clear="dblclick")
    data, tip = text_tooltip(data, [
        (tr("offset (frames)"), "offset_frames", None),
        (tr("offset (ms)"), "offset_ms", None),
        (tr("centre") if cfg.kind == "mfbank" else tr("coefficient"), "channel_name", None),
        (tr("importance /{p}/").format(p=label_a), "importance_a", "importance"),
        (tr("importance /{p}/").format(p=label_b), "importance_b", "importance"),
        ("p_e", "p_e", "p"),
        (tr("overlap ε"), "eps", "p"),
        (tr("score"), "score", "score"),
    ])
    return (
        alt.Chart(data, width="container", height=map_height(cfg), title=tr("/{a}/ vs /{b}/").format(a=label_a, b=label_b))
        .mark_square(stroke="black", clip=True, **tip)
        .encode(
            **_grid_xy(cfg, ext, tr),
            size=_area("importance_pair", vmax, ext, scale, contrast,
                       tr("imp /{a}/ × imp /{b}/ (area)").format(a=label_a, b=label_b), tr,
                       narrow=True),
            color=alt.Color(
                "p_e:Q",
                scale=alt.Scale(scheme="lightgreyred", domain=[lo, hi], clamp=True),
                legend=alt.Legend(title=title_lines(tr("p_e (this pair: {lo} to {hi})").format(lo=f"{lo:.2f}", hi=f"{hi:.2f}")),
                                  orient="top", titleLimit=300, gradientLength=120,
                                  format=FORMATS["p"], values=[round(lo, 2), round((lo + hi) / 2, 2), round(hi, 2)]),
            ),
            **(hollow or {"strokeWidth": alt.condition("datum.selected", alt.value(2.5), alt.value(0))}),
        )
        .add_params(sel)
        .properties(autosize=FIT_X)
        .configure_axis(grid=False)
        .configure_legend(labelLimit=80)
    )


def density_chart(
    centres: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    label_a: str,
    label_b: str,
    x_title: str,
    height: int = 210,
    *,
    tr: Translate = english,
) -> alt.LayerChart:
    """The two class-conditional densities of one input, overlap min(p_a, p_b) shaded grey.

    centres: (bins,) equally spaced bin centres; p_a, p_b: (bins,) densities. One empty bin is added
    at each end so both curves start and end at 0. The width follows the container."""
    centres = np.asarray(centres, dtype=np.float64)
    p_a, p_b = np.asarray(p_a, dtype=np.float64), np.asarray(p_b, dtype=np.float64)
    if len(centres) > 1:
        step = centres[1] - centres[0]
        centres = np.concatenate([[centres[0] - step], centres, [centres[-1] + step]])
        p_a, p_b = np.pad(p_a, 1), np.pad(p_b, 1)
    long = pd.DataFrame(
        {
            "x": np.concatenate([centres, centres]),
            "density": np.concatenate([p_a, p_b]),
            "phoneme": [f"/{label_a}/"] * len(centres) + [f"/{label_b}/"] * len(centres),
        }
    )
    overlap = pd.DataFrame({"x": centres, "overlap": np.minimum(p_a, p_b)})
    colour = alt.Color("phoneme:N", scale=alt.Scale(range=["#1f77b4", "#d62728"]),
                       legend=alt.Legend(title=None, orient="top"))  # /s/ and /sh/ name themselves
    shade = alt.Chart(overlap).mark_area(color="#999999", opacity=0.45, interpolate="step").encode(
        x=alt.X("x:Q", title=x_title, scale=alt.Scale(nice=False, zero=False)), y=alt.Y("overlap:Q", title=tr("density"))
    )
    lines = alt.Chart(long).mark_line(interpolate="step", strokeWidth=2).encode(
        x="x:Q", y="density:Q", color=colour,
        tooltip=[alt.Tooltip("phoneme:N", title=tr("phoneme")), alt.Tooltip("x:Q", title=x_title, format=FORMATS["z"]),
                 alt.Tooltip("density:Q", title=tr("density"), format=".3f")],
    )
    return alt.layer(shade, lines).properties(
        width="container", height=height, autosize=FIT_X, padding={"left": 6, "top": 5, "right": 5, "bottom": 5},
        title=alt.Title(tr("grey area = overlap ε"), fontSize=12, fontWeight="normal", anchor="start", color="#555"))
