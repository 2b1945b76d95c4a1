"""The "View" controls of the two analysis pages and the clicked cell of the pair page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app_state.resources import DEFAULT_BINS
from app_state.session import HELP, choice, number_in, one_of, pair_in, put, set_cell, widget_args
from core.features import channel_names
from core.importance import pairs
from core.viz import maps
from i18n import N_, tr

# ---------------------------------------------------------------------------------------------
# The "View" controls of the two analysis pages


@dataclass(frozen=True)
class View:
    """How a map is drawn (nothing here needs new statistics except ``bins``).

    extent: the zoomed part of the grid (time offsets, channel indices; inclusive); top: keep the top
    k % of the cells in view; scale: square area multiplier; contrast: exponent of the area scale
    (``core.viz.maps._area``); colour: ``core.viz.maps.COLOURS`` (phoneme map); bins: histogram bins for
    p_e; rows: rows of the top-cells table; rank: ``core.importance.pairs.RANKS`` (pair map).
    """

    extent: maps.Extent
    top: int = 100
    scale: float = 1.0
    contrast: float = 1.0
    colour: str = "importance"
    bins: int = DEFAULT_BINS
    rows: int = 10
    rank: str = "score"


CONTRASTS = (1.0, 1.5, 2.0, 3.0)
RANK_LABELS = {"score": N_("score (large and different)"), "product": N_("size only")}
VIEW_PARAMS = ("time", "chan", "top", "scale", "contrast", "colour", "bins", "rows", "rank")


def _full_view(fc) -> None:
    full = maps.Extent.full(fc)
    put("view_time", full.time, "time")
    put("view_chan", full.channels, "chan")
    st.session_state["w_view_time"], st.session_state["w_view_chan"] = full.time, full.channels


def view_controls(fc, page: str) -> View:
    """The "View" expander of a map page (``page``: "map" or "pair"), one widget per setting, each
    kept in the session and the URL (shared by the two pages: zooming on one zooms the other)."""
    full = maps.Extent.full(fc)
    lo_t, hi_t = full.time
    choice("view_time", "time", pair_in(lo_t, hi_t), full.time, widget="w_view_time")
    choice("view_chan", "chan", pair_in(*full.channels), full.channels, widget="w_view_chan")
    choice("view_top", "top", number_in(1, 100), 100, widget="w_view_top")
    choice("view_scale", "scale", number_in(0.25, 2.0, float), 1.0, widget="w_view_scale")
    choice(
        "view_contrast",
        "contrast",
        lambda t: CONTRASTS[CONTRASTS.index(float(t))],
        1.0,
        widget="w_view_contrast",
    )
    choice("view_colour", "colour", one_of(maps.COLOURS), "importance", widget="w_view_colour")
    choice("view_bins", "bins", number_in(10, 60), DEFAULT_BINS, widget="w_view_bins")
    choice("view_rows", "rows", number_in(5, 50), 10, widget="w_view_rows")
    choice("view_rank", "rank", one_of(pairs.RANKS), "score", widget="w_view_rank")
    names = channel_names(fc)
    offsets = list(range(lo_t, hi_t + 1))
    with st.expander(tr("View"), expanded=True):
        c1, c2, c3 = st.columns([2, 2, 1])
        # value= (the full range) makes these range sliders; the session value overrides it
        c1.select_slider(
            tr("Time range (frames): zooms the map"),
            offsets,
            value=full.time,
            format_func=lambda v: f"{v} ({v * fc.winstep * 1000:+.0f} ms)",
            **widget_args("view_time", "time"),
        )
        c2.select_slider(
            tr("Channel range: zooms the map"),
            list(range(fc.n_channels)),
            value=full.channels,
            format_func=lambda c: names[c],
            **widget_args("view_chan", "chan"),
        )
        c3.button(
            tr("Full map"),
            on_click=_full_view,
            args=(fc,),
            width="stretch",
            help=tr("Show every time offset and channel again."),
        )
        c4, c5, c6 = st.columns(3)
        c4.slider(tr("Show the top k % of cells"), 1, 100, **widget_args("view_top", "top"))
        c5.select_slider(
            tr("Size contrast"),
            CONTRASTS,
            format_func=lambda v: f"{v:g}",
            help=tr(
                "Area ∝ importance^contrast (1: area proportional to importance; larger "
                "values shrink the small squares faster). The legend shows the true values."
            ),
            **widget_args("view_contrast", "contrast"),
        )
        if page == "map":
            c6.slider(tr("Square scale"), 0.25, 2.0, step=0.05, **widget_args("view_scale", "scale"))
            st.radio(
                tr("Colour"),
                list(maps.COLOURS),
                horizontal=True,
                format_func=lambda k: tr(maps.COLOURS[k]),
                help=tr(
                    "importance: darker = more important (the default); class mean: the input's "
                    "mean over the phoneme's frames, red above average, blue below (the paper's map). "
                )
                + tr(HELP["z"]),
                **widget_args("view_colour", "colour"),
            )
        else:
            c6.slider(
                tr("Histogram bins"), 10, 60, step=5, help=tr(HELP["p_e"]), **widget_args("view_bins", "bins")
            )
            c7, c8 = st.columns(2)
            c7.slider(tr("Top cells in the table"), 5, 50, **widget_args("view_rows", "rows"))
            c8.radio(
                tr("Order of the cells"),
                list(pairs.RANKS),
                horizontal=True,
                format_func=lambda k: tr(RANK_LABELS[k]),
                help=tr(HELP["score"]),
                **widget_args("view_rank", "rank"),
            )
    ss = st.session_state
    view = View(
        extent=maps.Extent(tuple(ss.view_time), tuple(ss.view_chan)),
        top=int(ss.view_top),
        scale=float(ss.view_scale),
        contrast=float(ss.view_contrast),
        colour=ss.view_colour,
        bins=int(ss.view_bins),
        rows=int(ss.view_rows),
        rank=ss.view_rank,
    )
    shown = ("time", "chan", "top", "contrast") + (
        ("scale", "colour") if page == "map" else ("bins", "rows", "rank")
    )
    for param in shown:
        put(f"view_{param}", ss[f"view_{param}"], param)
    return view


# ---------------------------------------------------------------------------------------------
# The clicked cell of the pair page


def cell_choice(fc) -> tuple[int, int] | None:
    """The chosen cell (offset_frames, channel) of the pair map, or None (then the page shows the
    top-ranked cell); from the URL's ``cell=offset,channel`` on a first visit."""

    def parse(text: str) -> tuple[int, int]:
        o, c = (int(v) for v in text.split(","))
        if not (-fc.context <= o <= fc.context and 0 <= c < fc.n_channels):
            raise ValueError(text)
        return o, c

    return choice("pair_cell", "cell", parse, None)


def _cell_from_chart(chart_key: str) -> None:
    picked = st.session_state[chart_key].selection.get(maps.PAIR_SELECTION) or []
    set_cell((int(picked[0]["offset_frames"]), int(picked[0]["channel"])) if picked else None)


def _cell_from_table(table_key: str) -> None:
    rows = st.session_state[table_key].selection.rows
    shown = st.session_state.get(f"{table_key}_cells", [])
    if rows and rows[0] < len(shown):
        set_cell(tuple(shown[rows[0]]))


def cell_events(chart_key: str, table_key: str) -> dict:
    """``on_select`` callbacks: a click on a square or on a row of the top-cells table chooses that
    cell (the last click wins). The table's cells are given by ``shown_cells``."""
    return {"chart": lambda: _cell_from_chart(chart_key), "table": lambda: _cell_from_table(table_key)}


def shown_cells(table_key: str, rows: pd.DataFrame) -> None:
    """Remember which cells the top-cells table shows, in order (for a click on a row)."""
    st.session_state[f"{table_key}_cells"] = [
        (int(o), int(c)) for o, c in zip(rows.offset_frames, rows.channel, strict=True)
    ]
