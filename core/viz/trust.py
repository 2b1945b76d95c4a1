"""Altair builders of the method comparison (core.trust): deletion / insertion curves, sanity
correlations across the randomisation cascade, split-half stability. Data in, ``alt.Chart`` out;
one colour per method everywhere (the paper's index dark red, random grey)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.text import Translate, english
from core.trust.maps import METHOD_NAMES
from core.trust.sanity import SANITY_THRESHOLD, Sanity
from core.viz.maps import FIT_X

METHOD_COLOURS = {
    "std": "#b2182b",
    "mean_abs": "#ef8a62",
    "rms": "#8c510a",
    "smoothgrad": "#2166ac",
    "integrated_gradients": "#5ab4ac",
    "grad_x_input": "#762a83",
    "weights": "#1b7837",
    "random": "#999999",
}


def _method_colour(methods: list[str], tr: Translate = english) -> alt.Color:
    names = [tr(METHOD_NAMES[m]) for m in methods]
    return alt.Color(
        "name:N",
        title=None,
        scale=alt.Scale(domain=names, range=[METHOD_COLOURS[m] for m in methods]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=260),
    )


def curves_chart(
    table: pd.DataFrame, curve: str, measure: str, *, height: int = 260, tr: Translate = english
) -> alt.Chart:
    """One line per method: ``measure`` of the target's frames against the share of inputs removed
    (deletion) or inserted (insertion). table: ``Faithfulness.table()`` rows."""
    df = table[(table["curve"] == curve) & (table["measure"] == measure)].copy()
    methods = list(dict.fromkeys(df["method"]))
    df["name"] = [tr(METHOD_NAMES[m]) for m in df["method"]]
    deletion = curve == "deletion"
    title = (
        tr("deletion: top inputs removed first") if deletion else tr("insertion: top inputs inserted first")
    )
    x_title = tr("share of inputs removed") if deletion else tr("share of inputs inserted")
    y_title = tr("mean posterior of the target") if measure == "posterior" else tr("recall of the target")
    return (
        alt.Chart(df, width="container", height=height, title=title)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X(
                "fraction:Q",
                title=x_title,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1], nice=False),
            ),
            y=alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, 1])),
            color=_method_colour(methods, tr),
            strokeDash=alt.condition(alt.datum.method == "random", alt.value([4, 3]), alt.value([1, 0])),
            tooltip=[
                alt.Tooltip("name:N", title=tr("method")),
                alt.Tooltip("fraction:Q", title=tr("share"), format=".0%"),
                alt.Tooltip("value:Q", title=y_title, format=".3f"),
            ],
        )
        .properties(autosize=FIT_X)
    )


def stage_names(san: Sanity, tr: Translate = english) -> list[str]:
    """Readable names of the cascade's stages: which layers are randomised ("output layer", "top 2
    layers", ..., "all 8 layers"), not PyTorch's module names (``linears.7``)."""
    if len(san.n_top) != len(san.stages):  # no counts recorded: the lowest layer's module name
        return [f"…{layer}" for layer in san.stages]
    total = san.n_top[-1]
    return [tr("output layer") if n == 1 and total > 1 else
            tr("all {n} layers").format(n=n) if n == total else tr("top {n} layers").format(n=n)
            for n in san.n_top]


def sanity_table(san: Sanity, tr: Translate = english) -> pd.DataFrame:
    """Long rows: method, name, test ("cascade" | "shuffled"), stage (1 = top layer randomised;
    len(stages) + 1 = the shuffled-label twin), layer, rho."""
    rows = []
    for s, layer in enumerate(stage_names(san, tr)):
        for j, m in enumerate(san.methods):
            rows.append((m, tr(METHOD_NAMES[m]), "cascade", s + 1, layer, float(san.rho_cascade[s, j])))
    for j, m in enumerate(san.methods):
        rows.append(
            (
                m,
                tr(METHOD_NAMES[m]),
                "shuffled",
                len(san.stages) + 1,
                tr("shuffled labels"),
                float(san.rho_shuffled[j]),
            )
        )
    return pd.DataFrame(rows, columns=["method", "name", "test", "stage", "layer", "rho"])


def sanity_chart(san: Sanity, *, height: int = 280, tr: Translate = english) -> alt.LayerChart:
    """Spearman correlation with the trained model's map as the layers are randomised from the top
    (lines), and for the shuffled-label twin (points at the right); the flag threshold dashed."""
    df = sanity_table(san, tr)
    order = stage_names(san, tr) + [tr("shuffled labels")]
    colour = _method_colour(list(san.methods), tr)
    x = alt.X(
        "layer:N",
        sort=order,
        title=tr("layers randomised (from the output down) | twin trained on shuffled labels"),
        axis=alt.Axis(labelAngle=-30, labelLimit=240),
    )
    y = alt.Y("rho:Q", title=tr("rank correlation with the trained map"), scale=alt.Scale(domain=[-0.2, 1]))
    tip = [
        alt.Tooltip("name:N", title=tr("method")),
        alt.Tooltip("layer:N", title=tr("randomised")),
        alt.Tooltip("rho:Q", title=tr("Spearman ρ"), format=".2f"),
    ]
    lines = (
        alt.Chart(df[df["test"] == "cascade"])
        .mark_line(point=True)
        .encode(x=x, y=y, color=colour, tooltip=tip)
    )
    dots = (
        alt.Chart(df[df["test"] == "shuffled"])
        .mark_point(filled=True, size=80, shape="diamond")
        .encode(x=x, y=y, color=colour, tooltip=tip)
    )
    rule = (
        alt.Chart(pd.DataFrame({"rho": [SANITY_THRESHOLD]}))
        .mark_rule(strokeDash=[4, 3], color="#444")
        .encode(y="rho:Q")
    )
    return alt.layer(lines, dots, rule).properties(
        width="container",
        height=height,
        autosize=FIT_X,
        title=tr("sanity: does the map change with the network?"),
    )


def stability_chart(rows: pd.DataFrame, *, height: int = 220, digits: bool = False,
                    tr: Translate = english) -> alt.Chart:
    """Split-half rank correlation per method (bars). rows: method, name, split_half; ``digits``:
    the halves are of digits, not of utterances."""
    methods = list(rows["method"])
    rows = rows.assign(name=[tr(METHOD_NAMES[m]) for m in methods])
    names = [tr(METHOD_NAMES[m]) for m in methods]
    return (
        alt.Chart(
            rows,
            width="container",
            height=height,
            title=tr("split-half rank correlation (halves of the digits)") if digits
            else tr("split-half rank correlation (halves of the utterances)"),
        )
        .mark_bar()
        .encode(
            x=alt.X(
                "split_half:Q",
                title=tr("Spearman ρ between the two halves' maps"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("name:N", sort=names, title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color(
                "name:N",
                legend=None,
                scale=alt.Scale(domain=names, range=[METHOD_COLOURS[m] for m in methods]),
            ),
            tooltip=[
                alt.Tooltip("name:N", title=tr("method")),
                alt.Tooltip("split_half:Q", title=tr("split-half ρ"), format=".2f"),
            ],
        )
        .properties(autosize=FIT_X)
    )
