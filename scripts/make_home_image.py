"""Regenerate assets/images/how_to_read.png, the home page's "how to read a map" picture.

    .venv/bin/python scripts/make_home_image.py     (needs vl-convert-python: requirements-dev.txt)

Two rows of squares with their meaning, drawn with Altair like the real maps: the map's default
colour mode (importance: area and colour both grow with it, core.charts' "yelloworangered" scale)
and the paper's colour mode (class mean: red above average, blue below).
"""

from __future__ import annotations

import sys
from pathlib import Path

import altair as alt
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _row(df: pd.DataFrame, colour: alt.Color, title: str) -> alt.LayerChart:
    squares = alt.Chart(df).mark_square(opacity=1).encode(
        x=alt.X("x:O", axis=None),
        size=alt.Size("importance:Q", scale=alt.Scale(domain=[0, 1], range=[0, 2600]), legend=None),
        color=colour,
    )
    text = alt.Chart(df).mark_text(dy=48, fontSize=12, lineBreak="\n", color="#333").encode(x="x:O", text="text:N")
    return alt.layer(squares, text).properties(width=560, height=130, title=title)


def main() -> int:
    default = pd.DataFrame({
        "x": [0, 1, 2, 3],
        "importance": [1.0, 0.5, 0.2, 0.04],
        "text": ["output depends a lot\non this input", "depends half as much", "depends a little", "barely matters"],
    })
    paper = pd.DataFrame({
        "x": [0, 1, 2, 3],
        "importance": [1.0, 0.25, 1.0, 0.04],
        "mean": [1.2, 1.2, -1.2, 0.0],
        "text": ["depends a lot;\ninput is high here", "depends a little;\ninput is high", "depends a lot;\ninput is low here",
                 "barely matters"],
    })
    top = _row(default, alt.Color("importance:Q", scale=alt.Scale(scheme="yelloworangered", domain=[0, 1]),
                                  legend=None),
               "Colour: importance (the default) - area and colour both = how much the output depends on the input")
    bottom = _row(paper, alt.Color("mean:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-1.5, 1.5]),
                                   legend=None),
                  "Colour: class mean (the paper's map) - area = dependence; colour = the input's mean for the phoneme")
    chart = (alt.vconcat(top, bottom, spacing=28).resolve_scale(color="independent")
             .configure_view(stroke=None).configure_title(fontSize=13, fontWeight="normal", anchor="start"))
    out = ROOT / "assets" / "images" / "how_to_read.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    chart.save(str(out), scale_factor=1.5)
    print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
