"""Small Altair charts of the Findings page's cards: data in (a ``core.findings.Finding``'s chart
rows), ``alt.Chart`` out. Each fits its column (``width="container"``) at a fixed, small height.

- ``pair_chart``: the top cells by score on the time x frequency plane (area ∝ score), the paper's
  band(s) shaded and, when the claim names the time, the central frames marked;
- ``curve_card_chart``: the deletion curves (``core.viz.units.curve_chart``, smaller);
- ``map_profile_chart``: the share of /s/ S2's and /sh/ S2's importance per mel channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from core.findings import BAND_TOLERANCE, CENTRAL_FRAMES, Claim
from core.text import Translate, english
from core.viz.format import FORMATS
from core.viz.maps import FIT_X
from core.viz.units import curve_chart

HEIGHT = 200


def pair_chart(
    rows: Sequence[Mapping], claim: Claim, *, height: int = HEIGHT, tr: Translate = english,
    frame_ms: float = 10.0, max_hz: float = 8000.0,
) -> alt.LayerChart:
    """Top cells (offset in frames of ``frame_ms`` on x, centre frequency up to ``max_hz`` on y,
    area ∝ score; orange = in the paper's band) over the paper's band(s) (grey, widened by the
    rule's tolerance). ``frame_ms`` and ``max_hz``: the card's model's frame step and highest
    frequency (``FeatureConfig.winstep``, ``highfreq``)."""
    df = pd.DataFrame(list(rows))
    inside, outside = tr("in the paper's band"), tr("outside it")
    df["where"] = [inside if b else outside for b in df["in_band"]]
    x_max = max(8, int(df["offset_frames"].abs().max()) + 1)
    x = alt.X(
        "offset_frames:Q", title=tr("time offset (frames of {ms:g} ms)").format(ms=frame_ms),
        scale=alt.Scale(domain=[-x_max, x_max]),
    )
    y = alt.Y("hz:Q", title=tr("centre frequency (Hz)"), scale=alt.Scale(domain=[0, max_hz]))
    bands = pd.DataFrame(
        [{"lo": lo * (1 - BAND_TOLERANCE), "hi": hi * (1 + BAND_TOLERANCE)} for lo, hi in claim.bands]
    )
    if claim.central:
        bands["x0"], bands["x1"] = -CENTRAL_FRAMES - 0.5, CENTRAL_FRAMES + 0.5
    else:
        bands["x0"], bands["x1"] = -x_max, x_max
    layers = [
        alt.Chart(bands)
        .mark_rect(color="#bbbbbb", opacity=0.35)
        .encode(x=alt.X("x0:Q", scale=alt.Scale(domain=[-x_max, x_max])), x2="x1:Q", y="lo:Q", y2="hi:Q"),
        alt.Chart(df)
        .mark_circle(opacity=0.85, stroke="#333333", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            size=alt.Size("score:Q", legend=None, scale=alt.Scale(range=[30, 400])),
            color=alt.Color(
                "where:N",
                title=None,
                scale=alt.Scale(domain=[inside, outside], range=["#e6550d", "#3182bd"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("offset_frames:Q", title=tr("offset (frames)")),
                alt.Tooltip("hz:Q", title="Hz", format=",.0f"),
                alt.Tooltip("score:Q", title=tr("score"), format=FORMATS["score"]),
                alt.Tooltip("p_e:Q", format=FORMATS["p"]),
            ],
        ),
    ]
    return alt.layer(*layers).properties(width="container", height=height, autosize=FIT_X)


def curve_card_chart(
    rows: Sequence[Mapping],
    full_accuracy: float,
    *,
    x_title: str,
    height: int = HEIGHT,
    tr: Translate = english,
) -> alt.LayerChart:
    """The deletion curves of a card (rows: k, fraction, order, accuracy, lo, hi)."""
    return curve_chart(pd.DataFrame(list(rows)), full_accuracy, x_title=x_title, height=height, tr=tr)


def map_profile_chart(rows: Sequence[Mapping], *, height: int = HEIGHT, tr: Translate = english,
                      max_hz: float = 8000.0) -> alt.Chart:
    """Share of each output's importance per mel channel (rows: output, hz, share), one line each;
    the frequency axis up to ``max_hz`` (the card's model's ``FeatureConfig.highfreq``)."""
    df = pd.DataFrame(list(rows))
    df["output"] = ["/" + o.replace("_S", "/ S") for o in df["output"]]
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X("hz:Q", title=tr("centre frequency (Hz)"), scale=alt.Scale(domain=[0, max_hz])),
            y=alt.Y("share:Q", title=tr("share of importance"), axis=alt.Axis(format="%")),
            color=alt.Color(
                "output:N",
                title=None,
                scale=alt.Scale(range=["#e6550d", "#3182bd"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("output:N", title=tr("output")),
                alt.Tooltip("hz:Q", format=",.0f"),
                alt.Tooltip("share:Q", title=tr("share"), format=".1%"),
            ],
        )
        .properties(width="container", height=height, autosize=FIT_X)
    )
