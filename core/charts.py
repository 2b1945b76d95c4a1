"""Altair chart builders: data in, ``alt.Chart`` out. No Streamlit, no statistics.

The tables they draw are built here too (``map_table``, ``pair_table``, ``select_cells``), from
numpy arrays that core/importance.py and core/overlap.py compute, so a page only wires widgets.

Reading a map (METHOD.md sections 3 and 4): one square per input unit on a time x channel grid;
the square's *area* is proportional to the importance (for a pair: the product of the two), so
the largest square in view fills its cell; the colour is the class-conditional input mean
(diverging, blue = low, red = high) or, for a pair, p_e (sequential, 0 = same, 1 = disjoint).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.features import FeatureConfig, channel_names, input_meaning

PROFILE_SIZE = 100


def cell_px(cfg: FeatureConfig) -> int:
    """Side of one grid cell in pixels: square cells of 14 px (35 columns = 490 px), fewer for
    more than 40 channels."""
    return int(min(14, max(8, 600 // cfg.n_channels)))


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


def map_size(cfg: FeatureConfig) -> tuple[int, int]:
    """(width, height) in px of a map with square cells."""
    c = cell_px(cfg)
    return c * cfg.n_context_frames, c * cfg.n_channels


def _base_table(cfg: FeatureConfig) -> pd.DataFrame:
    m = input_meaning(cfg)
    df = pd.DataFrame(
        {
            "input": np.arange(cfg.input_dim),
            "offset_frames": m["offset_frames"].astype(int),
            "offset_ms": m["offset_ms"].round(1),
            "channel": m["channel"].astype(int),
        }
    )
    df["hz"] = m["hz"].round(0) if cfg.kind == "mfbank" else np.nan
    df["channel_name"] = np.asarray(channel_names(cfg))[df["channel"].to_numpy()]
    return df


def map_table(cfg: FeatureConfig, importance: np.ndarray, mean: np.ndarray) -> pd.DataFrame:
    """One row per input unit: offset_frames, offset_ms, channel, hz, channel_name, importance,
    mean (class-conditional mean of the normalised input). importance, mean: (input_dim,)."""
    df = _base_table(cfg)
    df["importance"] = np.asarray(importance, dtype=np.float64)
    df["mean"] = np.asarray(mean, dtype=np.float64)
    return df


def pair_table(
    cfg: FeatureConfig,
    importance_a: np.ndarray,
    importance_b: np.ndarray,
    p_e: np.ndarray,
    eps: np.ndarray,
) -> pd.DataFrame:
    """One row per input unit with importance_a, importance_b, importance_pair (= product), p_e, eps."""
    df = _base_table(cfg)
    df["importance_a"] = np.asarray(importance_a, dtype=np.float64)
    df["importance_b"] = np.asarray(importance_b, dtype=np.float64)
    df["importance_pair"] = df["importance_a"] * df["importance_b"]
    df["p_e"] = np.asarray(p_e, dtype=np.float64)
    df["eps"] = np.asarray(eps, dtype=np.float64)
    return df


def select_cells(
    df: pd.DataFrame,
    value: str,
    time_range: tuple[int, int] | None = None,
    channel_range: tuple[int, int] | None = None,
    top_percent: float = 100.0,
) -> pd.DataFrame:
    """Rows inside the time / channel ranges (inclusive), keeping the top ``top_percent`` % of
    them by ``value`` (at least one row). The importance scale is then relative to what is kept."""
    keep = pd.Series(True, index=df.index)
    if time_range is not None:
        keep &= df["offset_frames"].between(*time_range)
    if channel_range is not None:
        keep &= df["channel"].between(*channel_range)
    out = df[keep]
    if 0 < top_percent < 100 and len(out):
        k = max(1, int(np.ceil(len(out) * top_percent / 100.0)))
        out = out.nlargest(k, value).sort_index()
    return out


def _channel_axis(cfg: FeatureConfig, title: str | None = None) -> alt.Axis:
    """A y axis over channel indices labelled in Hz (MFBANK) or cepstral names (MFCC)."""
    if cfg.kind == "mfbank":
        names = [n.removesuffix(" Hz") for n in channel_names(cfg)]
        step = 4 if cfg.n_channels > 20 else 1
        return alt.Axis(
            title=title or "mel band centre (Hz)",
            values=list(range(0, cfg.n_channels, step)),
            labelExpr=f"{names}[datum.value]",
        )
    names = channel_names(cfg)
    return alt.Axis(
        title=title or "cepstral coefficient",
        values=list(range(cfg.n_channels)),
        labelExpr=f"{names}[datum.value]",
    )


def _time_axis(cfg: FeatureConfig) -> alt.Axis:
    step_ms = cfg.winstep * 1000
    return alt.Axis(
        title="time offset (frames; ms)",
        values=[v for v in range(-cfg.context, cfg.context + 1) if cfg.context <= 8 or v % 5 == 0],
        labelExpr=f"datum.value + ' (' + format(datum.value * {step_ms}, 'd') + ')'",
    )


def _square_size(cfg: FeatureConfig, width: int, height: int, scale: float) -> float:
    cell = min(width / cfg.n_context_frames, height / cfg.n_channels)
    return float((cell * 0.95) ** 2 * scale)


def _grid_xy(cfg: FeatureConfig) -> dict:
    """x = time offset, y = channel, one cell per input, for the square maps."""
    return {
        "x": alt.X("offset_frames:Q", scale=alt.Scale(domain=[-cfg.context - 0.5, cfg.context + 0.5], nice=False),
                   axis=_time_axis(cfg)),
        "y": alt.Y("channel:Q", scale=alt.Scale(domain=[-0.5, cfg.n_channels - 0.5], nice=False),
                   axis=_channel_axis(cfg)),
    }


def _area(cfg: FeatureConfig, field: str, vmax: float, scale: float, title: str, fmt: str) -> alt.Size:
    """Square area proportional to ``field``: 0 -> nothing, ``vmax`` -> a full cell (times ``scale``)."""
    width, height = map_size(cfg)
    return alt.Size(
        f"{field}:Q",
        scale=alt.Scale(domain=[0, max(vmax, 1e-12)], range=[0, _square_size(cfg, width, height, scale)]),
        legend=alt.Legend(title=title, format=fmt, orient="bottom", values=legend_values(vmax)),
    )


def importance_map(
    df: pd.DataFrame,
    cfg: FeatureConfig,
    scale: float = 1.0,
    title: str = "",
    size_max: float | None = None,
    color_max: float | None = None,
) -> alt.Chart:
    """Squares on the time x channel grid: area ~ importance, colour = class-conditional mean.

    df: rows of ``map_table`` (possibly filtered). ``size_max`` / ``color_max``: the importance that
    fills a cell and the |mean| at the ends of the colour scale; give those of the whole map so that
    filtering the view changes no square's size or colour (default: from ``df``). ``scale``
    multiplies every square's area (1 = a square of importance ``size_max`` fills its cell).
    """
    width, height = map_size(cfg)
    vmax = size_max if size_max is not None else (float(df["importance"].max()) if len(df) else 1.0)
    if color_max is not None:
        cmax = color_max
    else:
        cmax = float(np.nanmax(np.abs(df["mean"]))) if len(df) else 1.0
    cmax = max(cmax, 1e-6)
    tooltip = [
        alt.Tooltip("offset_frames:Q", title="offset (frames)"),
        alt.Tooltip("offset_ms:Q", title="offset (ms)"),
        alt.Tooltip("channel:Q", title="channel"),
        alt.Tooltip("channel_name:N", title="centre" if cfg.kind == "mfbank" else "coefficient"),
        alt.Tooltip("importance:Q", title="importance", format=".3g"),
        alt.Tooltip("mean:Q", title="mean input (z)", format=".2f"),
    ]
    return (
        alt.Chart(df, title=title, width=width, height=height)
        .mark_square(opacity=1.0)
        .encode(
            **_grid_xy(cfg),
            size=_area(cfg, "importance", vmax, scale, "importance (area)", ".2g"),
            color=alt.Color(
                "mean:Q",
                scale=alt.Scale(scheme="redblue", reverse=True, domain=[-cmax, cmax], domainMid=0),
                legend=alt.Legend(title="mean input (z)", orient="bottom", format=".1f"),
            ),
            tooltip=tooltip,
        )
    )


def spectral_profile(df: pd.DataFrame, cfg: FeatureConfig, value: str = "importance") -> alt.Chart:
    """Importance summed over time for each channel: horizontal bars beside the map."""
    height = map_size(cfg)[1]
    prof = df.groupby("channel", as_index=False)[value].sum()
    return (
        alt.Chart(prof, width=PROFILE_SIZE, height=height, title="per channel")
        .mark_bar(color="#7f8c8d", orient="horizontal", height=max(2, height / cfg.n_channels - 2))
        .encode(
            y=alt.Y("channel:Q", scale=alt.Scale(domain=[-0.5, cfg.n_channels - 0.5], nice=False),
                    axis=_channel_axis(cfg, title=" ")),
            x=alt.X(f"{value}:Q", title="sum over time", axis=alt.Axis(format=".2g", tickCount=3)),
            tooltip=[alt.Tooltip("channel:Q"), alt.Tooltip(f"{value}:Q", format=".3g")],
        )
    )


def temporal_profile(df: pd.DataFrame, cfg: FeatureConfig, value: str = "importance") -> alt.Chart:
    """Importance summed over channels for each time offset: bars under the map."""
    width = map_size(cfg)[0]
    prof = df.groupby("offset_frames", as_index=False)[value].sum()
    return (
        alt.Chart(prof, width=width, height=PROFILE_SIZE, title="per time offset")
        .mark_bar(color="#7f8c8d", width=max(2, width / cfg.n_context_frames - 3))
        .encode(
            x=alt.X("offset_frames:Q", scale=alt.Scale(domain=[-cfg.context - 0.5, cfg.context + 0.5], nice=False),
                    axis=_time_axis(cfg)),
            y=alt.Y(f"{value}:Q", title="sum over channels", axis=alt.Axis(format=".2g", tickCount=3)),
            tooltip=[alt.Tooltip("offset_frames:Q"), alt.Tooltip(f"{value}:Q", format=".3g")],
        )
    )


def map_with_profiles(chart: alt.Chart, df: pd.DataFrame, cfg: FeatureConfig, value: str = "importance"):
    """The map with its spectral profile on the right and temporal profile below."""
    top = alt.hconcat(chart, spectral_profile(df, cfg, value), spacing=8)
    return (
        alt.vconcat(top, temporal_profile(df, cfg, value), spacing=8)
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
) -> alt.Chart:
    """Squares sized by importance_a x importance_b, coloured by p_e (0 = same, 1 = disjoint).

    Clicking a square selects it: the selection ``PAIR_SELECTION`` has fields offset_frames and
    channel (Streamlit returns them with ``on_select="rerun"``).
    """
    width, height = map_size(cfg)
    if size_max is not None:
        vmax = size_max
    else:
        vmax = float(df["importance_pair"].max()) if len(df) else 1.0
    sel = alt.selection_point(name=PAIR_SELECTION, fields=["offset_frames", "channel"], on="click",
                              clear="dblclick")
    tooltip = [
        alt.Tooltip("offset_frames:Q", title="offset (frames)"),
        alt.Tooltip("offset_ms:Q", title="offset (ms)"),
        alt.Tooltip("channel_name:N", title="centre" if cfg.kind == "mfbank" else "coefficient"),
        alt.Tooltip("importance_a:Q", title=f"importance /{label_a}/", format=".3g"),
        alt.Tooltip("importance_b:Q", title=f"importance /{label_b}/", format=".3g"),
        alt.Tooltip("p_e:Q", title="p_e", format=".2f"),
        alt.Tooltip("eps:Q", title="overlap eps", format=".2f"),
    ]
    return (
        alt.Chart(df, width=width, height=height,
                  title=f"/{label_a}/ vs /{label_b}/")
        .mark_square(stroke="black")
        .encode(
            **_grid_xy(cfg),
            size=_area(cfg, "importance_pair", vmax, scale, f"imp /{label_a}/ × imp /{label_b}/ (area)", ".1e"),
            color=alt.Color(
                "p_e:Q",
                scale=alt.Scale(scheme="lightgreyred", domain=[0, 1]),
                legend=alt.Legend(title="p_e (0 same, 1 disjoint)", orient="bottom"),
            ),
            strokeWidth=alt.when(sel, empty=False).then(alt.value(2.5)).otherwise(alt.value(0)),
            tooltip=tooltip,
        )
        .add_params(sel)
        # "pad": the plot keeps its size and the title, axes and legends are added around it
        # (Streamlit otherwise squeezes everything into the declared height).
        .properties(autosize=alt.AutoSizeParams(type="pad"))
        .configure_axis(grid=False)
    )


def density_chart(
    centres: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    label_a: str,
    label_b: str,
    x_title: str,
    width: int = 420,
    height: int = 260,
) -> alt.LayerChart:
    """The two class-conditional densities of one input, overlap min(p_a, p_b) shaded grey."""
    centres = np.asarray(centres, dtype=np.float64)
    long = pd.DataFrame(
        {
            "x": np.concatenate([centres, centres]),
            "density": np.concatenate([p_a, p_b]),
            "phoneme": [f"/{label_a}/"] * len(centres) + [f"/{label_b}/"] * len(centres),
        }
    )
    overlap = pd.DataFrame({"x": centres, "overlap": np.minimum(p_a, p_b)})
    colour = alt.Color("phoneme:N", scale=alt.Scale(range=["#1f77b4", "#d62728"]), legend=alt.Legend(orient="top"))
    shade = alt.Chart(overlap).mark_area(color="#999999", opacity=0.45, interpolate="step").encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("overlap:Q", title="density")
    )
    lines = alt.Chart(long).mark_line(interpolate="step", strokeWidth=2).encode(
        x="x:Q", y="density:Q", color=colour,
        tooltip=[alt.Tooltip("phoneme:N"), alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("density:Q", format=".3f")],
    )
    return alt.layer(shade, lines).properties(
        width=width, height=height, title=alt.Title("grey area = overlap ε", fontSize=12, fontWeight="normal",
                                                     anchor="start", color="#555"))
