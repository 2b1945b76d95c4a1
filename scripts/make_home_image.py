"""Regenerate assets/images/how_to_read.png, the home page's "how to read a map" picture.

    .venv/bin/python scripts/make_home_image.py     (needs vl-convert-python: requirements-dev.txt)

Three squares on a small grid with their meaning; drawn with Altair like the real maps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import altair as alt
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    df = pd.DataFrame({
        "x": [0, 1, 2, 3],
        "importance": [1.0, 0.25, 1.0, 0.04],
        "mean": [1.2, 1.2, -1.2, 0.0],
        "text": ["output depends a lot;\ninput is high here", "depends a little", "depends a lot;\ninput is low here",
                 "barely matters"],
    })
    squares = alt.Chart(df).mark_square(opacity=1).encode(
        x=alt.X("x:O", axis=None),
        size=alt.Size("importance:Q", scale=alt.Scale(domain=[0, 1], range=[0, 2600]), legend=None),
        color=alt.Color("mean:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-1.5, 1.5]), legend=None),
    )
    text = alt.Chart(df).mark_text(dy=48, fontSize=12, lineBreak="\n", color="#333").encode(x="x:O", text="text:N")
    chart = (alt.layer(squares, text).properties(width=560, height=130,
                                                 title="area = how much the output depends on the input; "
                                                       "colour = the input's mean for the phoneme")
             .configure_view(stroke=None).configure_title(fontSize=13, fontWeight="normal"))
    out = ROOT / "assets" / "images" / "how_to_read.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    chart.save(str(out), scale_factor=1.5)
    print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
