"""The sentences of a Finding: its figure in the interface language, rebuilt from its values
(``figure_text``), and the parts the builders of ``core.findings.rules`` share with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.findings.claims import (
    CENTRAL_FRAMES,
    CLAIMS,
    MAP_CENTRAL_FRAMES,
    MAP_TOP,
    VERDICTS,
)
from core.text import N_, Translate, english

Finding = Any
"""A ``core.findings.rules.Finding`` (not imported here: the rules import this module)."""


def _layers_text(layers: Mapping[str, Mapping], tr: Translate) -> str:
    """Fig 9's sentence on the per-layer verdicts (the layers whose interval crosses a threshold
    counted apart, by the verdict their point figures give)."""
    n = {x: sum(y["verdict"] == x for y in layers.values()) for x in VERDICTS}
    point = {x: sum(y.get("point_verdict", y["verdict"]) == x for y in layers.values()) for x in VERDICTS}
    parts = [tr("One layer at a time (same rule): reproduced in {r} of {n} layers, partly in {p}, not in {x}.").format(
        r=point["reproduced"], n=len(layers), p=point["partly"], x=point["not reproduced"])]
    if n[VERDICTS[-1]]:
        parts.append(tr("Within noise (the interval crosses a threshold): {w} of the {n} layers.").format(
            w=n[VERDICTS[-1]], n=len(layers)))
    return "".join(_sep(t) + t for t in parts)



_UNIT_NAMES = {"input": N_("input units"), "hidden": N_("hidden units"), "filters": N_("filters")}


def figure_text(found: Finding, tr: Translate = english) -> str:
    """A finding's ``figure`` in the interface language, rebuilt from its ``values`` with the same
    sentence as the builders above. The stored (English) ``figure`` is returned as it is when the
    rebuilt English differs from it (e.g. a shipped file written by another version), so a
    translation never shows other figures than the English."""
    try:
        built = {lang: _figure(found, t) for lang, t in (("en", english), ("tr", tr))}
    except (KeyError, TypeError, ValueError, IndexError):
        return found.figure
    return built["tr"] if built["en"] == found.figure else found.figure


def _figure(found: Finding, tr: Translate) -> str:
    claim, v = CLAIMS[found.key], found.values
    to = tr(" to ")

    def span(values, unit: str, fmt: str = "{:,.0f}") -> str:
        lo, hi = min(values), max(values)
        return (fmt.format(lo) if lo == hi else f"{fmt.format(lo)}{to}{fmt.format(hi)}") + unit

    if claim.pair:
        args = dict(
            n=len(v["top_hz"]),
            hz=span(v["top_hz"], " Hz"),
            off=span(v["top_offsets"], "", "{:+d}"),
            band=v["in_band"],
        )
        if claim.central:
            return tr(
                "Top {n} cells by score: {hz}, offsets {off} frames; {band:.0%} in the paper's band, {c:.0%} "
                "within ±{f} frames."
            ).format(**args, c=v["central"], f=CENTRAL_FRAMES)
        return tr(
            "Top {n} cells by score: {hz}, offsets {off} frames; {band:.0%} in the paper's band."
        ).format(**args)
    if claim.units:
        half = v["at_half"]
        text = tr(
            "Mean accuracy over the curve: least important first {asc:.3f}, random {rnd:.3f}, most important "
            "first {desc:.3f} (full model {full:.3f}); with {k:,} of {units:,} {what} deleted: "
            "{h_asc:.3f} / {h_rnd:.3f} / {h_desc:.3f}."
        ).format(
            asc=v["mean_imp_asc"],
            rnd=v["mean_random"],
            desc=v["mean_imp_desc"],
            full=v["full_accuracy"],
            k=v["k_half"],
            units=v["units"],
            what=tr(_UNIT_NAMES[claim.units]),
            h_asc=half["imp_asc"],
            h_rnd=half["random"],
            h_desc=half["imp_desc"],
        )
        layers = v.get("per_layer")
        if layers:
            text += _layers_text(layers, tr)
        return text
    return tr(
        "/s/ S2: {c:.0%} of its importance within ±{f} frames (a flat map: {flat:.0%}); median frequency of "
        "its top {top} cells {s:,.0f} Hz, /sh/ S2's {sh:,.0f} Hz."
    ).format(
        c=v["central_share"],
        f=MAP_CENTRAL_FRAMES,
        flat=v["flat_share"],
        top=MAP_TOP,
        s=v["median_hz_s"],
        sh=v["median_hz_sh"],
    ) + _flat_text(v, tr)


def _flat_text(v: Mapping, tr: Translate) -> str:
    """Fig 4: what the card's chart shows, in words (its curves' peak / median per channel)."""
    from core.importance.explain import FLAT_RATIO

    if "profile_ratio" not in v:  # a result written before the rule looked at the chart
        return ""
    msg = (
        N_("The chart is flat: no channel carries more than {r:.2f}x the median channel's share (flat: below "
           "{th:g}x), so neither map lies higher in frequency than the other.")
        if v["profile_ratio"] < FLAT_RATIO
        else N_("The chart peaks: the largest channel carries {r:.2f}x the median channel's share.")
    )
    text = tr(msg).format(r=v["profile_ratio"], th=FLAT_RATIO)
    return _sep(text) + text


def _sep(sentence: str) -> str:
    """What goes before a sentence appended to a figure: a space, except in Japanese (a sentence
    with kana or kanji follows the previous one's 。 directly)."""
    return "" if any("\u3040" <= ch <= "\u9fff" for ch in sentence) else " "
