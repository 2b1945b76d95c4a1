"""The home page's "how to read a map" picture, drawn like the maps (scripts/make_home_image.py saves
one PNG per language)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.text import N_, Translate, english

HOW_TO_READ = {
    "importance": [
        (1.0, N_("output depends a lot\non this input")),
        (0.5, N_("depends half as much")),
        (0.2, N_("depends a little")),
        (0.04, N_("barely matters")),
    ],
    "mean": [
        (1.0, 1.2, N_("depends a lot;\ninput is high here")),
        (0.25, 1.2, N_("depends a little;\ninput is high")),
        (1.0, -1.2, N_("depends a lot;\ninput is low here")),
        (0.04, 0.0, N_("barely matters")),
    ],
}
"""The home page's picture: (importance, [class mean,] caption) of the four squares of each row."""


def how_to_read(tr: Translate = english, font: str | None = None) -> alt.VConcatChart:
    """The home page's "how to read a map" picture (scripts/make_home_image.py saves it as a PNG per
    language): two rows of four squares drawn like the maps, the default colour mode (importance:
    area and colour both grow with it, the importance map's yelloworangered scale) and the paper's (class
    mean: red above average, blue below). A caption's ``\\n`` breaks its line; so does a title's.
    ``font``: the text's font family (default: Vega's, sans-serif)."""

    def row(df: pd.DataFrame, colour: alt.Color, title: str) -> alt.LayerChart:
        squares = alt.Chart(df).mark_square(opacity=1).encode(
            x=alt.X("x:O", axis=None),
            size=alt.Size("importance:Q", scale=alt.Scale(domain=[0, 1], range=[0, 2600]), legend=None),
            color=colour,
        )
        text = alt.Chart(df).mark_text(dy=48, fontSize=12, lineBreak="\n", color="#333").encode(
            x="x:O", text="text:N"
        )
        lines = tr(title).split("\n")
        return alt.layer(squares, text).properties(width=560, height=130, title=lines[0] if len(lines) == 1 else lines)

    default = pd.DataFrame(
        {"x": range(4), "importance": [i for i, _ in HOW_TO_READ["importance"]],
         "text": [tr(t) for _, t in HOW_TO_READ["importance"]]}
    )
    paper = pd.DataFrame(
        {"x": range(4), "importance": [i for i, _, _ in HOW_TO_READ["mean"]],
         "mean": [m for _, m, _ in HOW_TO_READ["mean"]], "text": [tr(t) for _, _, t in HOW_TO_READ["mean"]]}
    )
    top = row(default, alt.Color("importance:Q", scale=alt.Scale(scheme="yelloworangered", domain=[0, 1]), legend=None),
              N_("Colour: importance (the default) - area and colour both = how much the output depends on the input"))
    bottom = row(paper, alt.Color("mean:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-1.5, 1.5]),
                                  legend=None),
                 N_("Colour: class mean (the paper's map) - area = dependence; colour = the input's mean for the phoneme"))
    chart = alt.vconcat(top, bottom, spacing=28).resolve_scale(color="independent")
    if font is not None:
        chart = chart.configure(font=font)
    return chart.configure_view(stroke=None).configure_title(fontSize=13, fontWeight="normal", anchor="start")
