"""The chart of the "why these differ" block (``app_state.explain``): data in
(``core.importance.explain``'s stories), ``alt.Chart`` out, no maths.

One small chart: a mean level difference per mel channel (dB; e.g. /s/ frames minus the other
speech frames, or /d/ bursts minus /b/ bursts) as a line over the channel centres, a shaded band
(below 400 Hz, or the paper's bands), and each answer's top cells as marks on the line at their
channel (one shape and colour per answer), so the reader sees where each answer lies and what the
two classes look like there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.text import Translate, english
from core.viz.maps import FIT_X

HEIGHT = 190
ANSWER_COLOURS = ("#e6550d", "#3182bd", "#31a354", "#756bb1")
SHAPES = ("circle", "square", "triangle-up", "diamond")
SIZES = (190, 80, 45, 30)


def story_chart(
    hz: np.ndarray,
    diff_db: np.ndarray,
    y_title: str,
    cells: Mapping[str, Sequence[float]],
    bands: Sequence[tuple[float, float]] = (),
    band_label: str = "",
    *,
    height: int = HEIGHT,
    tr: Translate = english,
) -> alt.LayerChart:
    """hz, diff_db: (C,) channel centres and the level difference there; ``cells``: {answer name:
    the centre frequencies of its top cells} (drawn on the line at their channel); ``bands``: Hz
    intervals shaded grey (``band_label`` in the legend-free caption of the page)."""
    hz = np.asarray(hz, np.float64)
    line = pd.DataFrame({"hz": hz, "db": np.asarray(diff_db, np.float64)})
    rows = []
    for name, freqs in cells.items():
        for h in freqs:
            c = int(np.argmin(np.abs(hz - h)))
            rows.append({"answer": name, "hz": float(hz[c]), "db": float(line["db"][c])})
    marks = pd.DataFrame(rows, columns=["answer", "hz", "db"]).drop_duplicates()
    names = list(cells)
    x = alt.X("hz:Q", title=tr("centre frequency (Hz)"), scale=alt.Scale(domain=[0, 8000]))
    layers = []
    if len(bands):
        shade = pd.DataFrame([{"lo": lo, "hi": hi, "what": band_label} for lo, hi in bands])
        layers.append(
            alt.Chart(shade).mark_rect(color="#bbbbbb", opacity=0.35)
            .encode(x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 8000])), x2="hi:Q",
                    tooltip=[alt.Tooltip("what:N", title=tr("band"))])
        )
    layers.append(
        alt.Chart(line).mark_line(color="#555555")
        .encode(x=x, y=alt.Y("db:Q", title=y_title),
                tooltip=[alt.Tooltip("hz:Q", title="Hz", format=",.0f"),
                         alt.Tooltip("db:Q", title="dB", format="+.1f")])
    )
    layers.append(
        alt.Chart(line).mark_rule(color="#999999", strokeDash=[3, 3]).encode(y=alt.datum(0))
    )
    if len(marks):
        layers.append(
            alt.Chart(marks).mark_point(filled=True, opacity=0.85)
            .encode(
                x=x,
                y="db:Q",
                # earlier answers drawn larger, so a later one on the same channel leaves them visible
                size=alt.Size("answer:N", sort=names, legend=None,
                              scale=alt.Scale(domain=names, range=list(SIZES[: len(names)]))),
                color=alt.Color("answer:N", title=tr("top cells of"), sort=names,
                                scale=alt.Scale(domain=names, range=list(ANSWER_COLOURS[: len(names)])),
                                legend=alt.Legend(orient="bottom", columns=2, labelLimit=320)),
                shape=alt.Shape("answer:N", sort=names, scale=alt.Scale(domain=names, range=list(SHAPES[: len(names)])),
                                legend=None),
                tooltip=[alt.Tooltip("answer:N", title=tr("top cells of")),
                         alt.Tooltip("hz:Q", title="Hz", format=",.0f"),
                         alt.Tooltip("db:Q", title="dB", format="+.1f")],
            )
        )
    return alt.layer(*layers).properties(width="container", height=height, autosize=FIT_X)
