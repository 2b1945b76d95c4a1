"""``Finding`` (our figure and verdict for one claim), the verdict rules as pure functions, and the
builders that turn what the pages compute into a Finding (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.findings.claims import (
    BAND_TOLERANCE,
    CENTRAL_FRAMES,
    CLAIMS,
    MAP_CENTRAL_FRAMES,
    MAP_CONCENTRATION,
    MAP_TOP,
    MARGIN,
    SETTINGS,
    SHARE,
    SOME,
    TOP_CELLS,
    VERDICTS,
    Claim,
    FindingsError,
)
from core.findings.figures import _flat_text, _layers_text, figure_text  # noqa: F401 - figure_text: its old home
from core.findings.uncertainty import curve_resamples, judge, judge_samples
from core.findings.uncertainty import met as criterion_met
from core.text import N_, english


@dataclass(frozen=True)
class Finding:
    """Our figure for one claim: ``figure`` (one sentence), ``verdict`` (in ``VERDICTS``),
    ``values`` (the numbers the verdict came from, JSON-able) and ``chart`` (rows of its small
    chart, JSON-able dicts)."""

    key: str
    verdict: str
    figure: str
    values: Mapping[str, object] = field(hash=False)
    chart: tuple[Mapping[str, object], ...] = field(hash=False, default=())

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "verdict": self.verdict,
            "figure": self.figure,
            "values": _jsonable(self.values),
            "chart": [_jsonable(r) for r in self.chart],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Finding:
        if d.get("verdict") not in VERDICTS or d.get("key") not in CLAIMS:
            raise FindingsError(
                N_("A shipped finding has an unknown key or verdict: {key!r}, {verdict!r}."),
                key=d.get("key"),
                verdict=d.get("verdict"),
            )
        return cls(
            str(d["key"]),
            str(d["verdict"]),
            str(d["figure"]),
            dict(d.get("values", {})),
            tuple(dict(r) for r in d.get("chart", ())),
        )


def _jsonable(v):
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


# ---------------------------------------------------------------------------------------------
# The rules (pure functions of numbers)


def in_bands(
    hz: np.ndarray, bands: Sequence[tuple[float, float]], tolerance: float = BAND_TOLERANCE
) -> np.ndarray:
    """(n,) bool: each frequency inside one of ``bands`` widened by ``tolerance`` (relative) on each side."""
    hz = np.asarray(hz, dtype=np.float64)
    hit = np.zeros(hz.shape, bool)
    for lo, hi in bands:
        hit |= (hz >= lo * (1 - tolerance)) & (hz <= hi * (1 + tolerance))
    return hit


def band_verdict(
    offsets: Sequence[int], hz: Sequence[float], bands: Sequence[tuple[float, float]], central: bool
) -> tuple[str, dict]:
    """Verdict of a pair claim from its top cells' time offsets (frames) and centre frequencies (Hz).
    Returns (verdict, values: in_band, central share, criteria met)."""
    offsets, hz = np.asarray(offsets), np.asarray(hz, dtype=np.float64)
    if len(offsets) == 0 or len(offsets) != len(hz):
        raise FindingsError("A pair verdict needs the same, non-zero number of offsets and frequencies.")
    band_share = float(in_bands(hz, bands).mean())
    central_share = float((np.abs(offsets) <= CENTRAL_FRAMES).mean())
    margins = band_margins(band_share, central_share, central)
    met = [margins["band_half"] >= 0] + ([margins["central_half"] >= 0] if central else [])
    return band_decide({n: m >= 0 for n, m in margins.items()}), {
        "in_band": band_share,
        "central": central_share,
        "criteria_met": int(sum(met)),
        "criteria": len(met),
    }


def band_margins(band_share, central_share, central: bool) -> dict:
    """The pair rule's criteria as margins (figure minus threshold; numbers or (B,) arrays)."""
    m = {"band_half": band_share - SHARE}
    if central:
        m["central_half"] = central_share - SHARE
    m["band_some"] = band_share - SOME
    return m


def band_decide(met: Mapping[str, bool]) -> str:
    """The pair rule: every main criterion (half in the band, half central when the paper names
    the time): reproduced; one of them, or a fifth in the band: partly; else not reproduced."""
    main = [met["band_half"]] + ([met["central_half"]] if "central_half" in met else [])
    if all(main):
        return "reproduced"
    return "partly" if any(main) or met["band_some"] else "not reproduced"


def curve_means(curves: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Mean accuracy over the points of each curve."""
    return {o: float(np.mean(v)) for o, v in curves.items()}


def order_verdict(curves: Mapping[str, Sequence[float]]) -> tuple[str, dict]:
    """Verdict of a deletion-curve claim from the curves (order -> accuracy per point; needs
    imp_asc, imp_desc and random). Returns (verdict, the three means)."""
    missing = [o for o in ("imp_asc", "imp_desc", "random") if o not in curves]
    if missing:
        raise FindingsError(
            f"A curve verdict needs the orders imp_asc, imp_desc and random; missing {', '.join(missing)}."
        )
    m = curve_means(curves)
    asc, rnd, desc = m["imp_asc"], m["random"], m["imp_desc"]
    verdict = order_decide({n: v >= 0 for n, v in order_margins(asc, rnd, desc).items()})
    return verdict, {"mean_imp_asc": asc, "mean_random": rnd, "mean_imp_desc": desc}


def order_margins(asc, rnd, desc) -> dict:
    """The curve rule's criteria as margins (numbers or (B,) arrays of mean accuracies)."""
    return {"asc_random": asc - (rnd + MARGIN), "random_desc": rnd - (desc + MARGIN),
            "asc_desc": asc - (desc + MARGIN)}


def order_decide(met: Mapping[str, bool]) -> str:
    """Least >= random + MARGIN and random >= most + MARGIN: reproduced; least >= most + MARGIN:
    partly; else not reproduced."""
    if met["asc_random"] and met["random_desc"]:
        return "reproduced"
    return "partly" if met["asc_desc"] else "not reproduced"


def map_verdict(
    offsets: np.ndarray, hz: np.ndarray, imp_s: np.ndarray, imp_sh: np.ndarray
) -> tuple[str, dict]:
    """Verdict of Fig 4 from the inputs' offsets (frames) and centre frequencies (Hz) and the two
    importance vectors (/s/ S2, /sh/ S2; all (input_dim,)). Returns (verdict, values)."""
    offsets, hz = np.asarray(offsets), np.asarray(hz, dtype=np.float64)
    imp_s, imp_sh = np.asarray(imp_s, np.float64), np.asarray(imp_sh, np.float64)
    if (
        not (offsets.shape == hz.shape == imp_s.shape == imp_sh.shape)
        or imp_s.sum() <= 0
        or imp_sh.sum() <= 0
    ):
        raise FindingsError("A map verdict needs equal-length, non-zero importance vectors.")
    from core.importance.explain import peak_to_median

    near = np.abs(offsets) <= MAP_CENTRAL_FRAMES
    share = float(imp_s[near].sum() / imp_s.sum())
    flat = float(near.mean())
    top = lambda imp: float(np.median(hz[np.argsort(-imp, kind="stable")[:MAP_TOP]]))  # noqa: E731
    hz_s, hz_sh = top(imp_s), top(imp_sh)
    # the card's chart: each output's share per channel (summed over offsets); flat = no peak
    ch = np.unique(hz, return_inverse=True)[1]
    ratio = max(peak_to_median(np.bincount(ch, imp) / imp.sum()) for imp in (imp_s, imp_sh))
    margins = map_margins(share, flat, hz_s, hz_sh, ratio)
    met = {name: criterion_met(name, m) for name, m in margins.items()}
    verdict = map_decide(met)
    return verdict, {
        "central_share": share,
        "flat_share": flat,
        "median_hz_s": hz_s,
        "median_hz_sh": hz_sh,
        "profile_ratio": float(ratio),
        "criteria_met": int(met["concentration"]) + int(met["higher"] and met["peaked"]),
    }


def map_margins(share, flat, hz_s, hz_sh, ratio=None) -> dict:
    """Fig 4's criteria as margins: central share minus ``MAP_CONCENTRATION`` x a flat map's, /s/
    S2's median frequency minus /sh/ S2's (Hz; met when > 0) and, given the chart's peak-to-median
    ratio (the larger of the two curves'), that ratio minus ``FLAT_RATIO`` (the chart is not flat)."""
    out = {"concentration": share - MAP_CONCENTRATION * flat, "higher": hz_s - hz_sh}
    if ratio is not None:
        from core.importance.explain import FLAT_RATIO

        out["peaked"] = ratio - FLAT_RATIO
    return out


def map_decide(met: Mapping[str, bool]) -> str:
    """Two criteria: the central share, and /s/ higher in frequency than /sh/ on a chart that is not
    flat (``peaked``; a result without it counts as peaked). Both: reproduced; one: partly; neither:
    not reproduced."""
    n = int(bool(met["concentration"])) + int(bool(met["higher"]) and bool(met.get("peaked", True)))
    return "reproduced" if n == 2 else "partly" if n else "not reproduced"


DECIDE = {"pair": band_decide, "curve": order_decide, "map": map_decide}


def decide_for(claim: Claim):
    """The rule (which criteria are met -> verdict) of a claim."""
    return DECIDE["pair" if claim.pair else "curve" if claim.units else "map"]


def _with_uncertainty(found: Finding, margins: Mapping[str, float], samples: Mapping | None,
                      about: Mapping | None) -> Finding:
    """``found`` with its point margins in ``values["margins"]`` and, given resampled margins
    (``samples``: name -> (B,)), their intervals and the verdict they allow (``judge``)."""
    values = {**found.values, "margins": {n: float(m) for n, m in margins.items()}}
    verdict = found.verdict
    if samples is not None:
        verdict, values["uncertainty"] = judge_samples(decide_for(CLAIMS[found.key]), margins, samples, about)
    return Finding(found.key, verdict, found.figure, values, found.chart)


def adopt_uncertainty(live: Finding, shipped: Finding) -> Finding:
    """``live`` (computed without a bootstrap) judged with the intervals of ``shipped``, the same card
    computed ahead on the same models, validation set and code (the caller checks that): the
    intervals are the shipped ones, the margins and the verdict the live card's."""
    u = shipped.values.get("uncertainty")
    if not u or "margins" not in live.values or live.values["margins"].keys() != u["criteria"].keys():
        return live
    about = {k: u[k] for k in ("resampled", "clusters", "seeds", "n_boot")}
    verdict, unc = judge(decide_for(CLAIMS[live.key]), live.values["margins"],
                         {n: (c["lo"], c["hi"]) for n, c in u["criteria"].items()}, about)
    return Finding(live.key, verdict, live.figure, {**live.values, "uncertainty": unc}, live.chart)


# ---------------------------------------------------------------------------------------------
# Findings from what the pages compute


def _span(values, unit: str, fmt: str = "{:,.0f}") -> str:
    lo, hi = min(values), max(values)
    return (fmt.format(lo) if lo == hi else f"{fmt.format(lo)} to {fmt.format(hi)}") + unit


def pair_finding(claim: Claim, table, resampled: tuple[Mapping, Mapping] | None = None) -> Finding:
    """The finding of a pair claim from the pair page's table (``core.importance.pairs.pair_table``).

    ``resampled``: ({"in_band": (B,), "central": (B,)} the figures in B bootstrap resamples, about)
    (``core.findings.bootstrap.pair_resamples``); None: no interval (the point verdict)."""
    from core.importance.pairs import ranked

    top = ranked(table, SETTINGS["rank"], TOP_CELLS)
    verdict, values = band_verdict(
        top["offset_frames"].to_numpy(), top["hz"].to_numpy(), claim.bands, claim.central
    )
    hz = top["hz"].to_numpy(dtype=float)
    off = top["offset_frames"].to_numpy(dtype=int)
    a, b = claim.pair
    figure = (
        f"Top {len(top)} cells by score: {_span(hz, ' Hz')}, offsets {_span(off, '', '{:+d}')} frames; "
        f"{values['in_band']:.0%} in the paper's band"
        + (f", {values['central']:.0%} within ±{CENTRAL_FRAMES} frames." if claim.central else ".")
    )
    values = {
        **values,
        "top_hz": [float(v) for v in hz],
        "top_offsets": [int(v) for v in off],
        "top_score": [float(v) for v in top["score"]],
        "top_p_e": [float(v) for v in top["p_e"]],
        "pair": [a, b],
    }
    rows = tuple(
        {"offset_frames": int(o), "hz": float(h), "score": float(s), "p_e": float(p), "in_band": bool(i)}
        for o, h, s, p, i in zip(off, hz, top["score"], top["p_e"], in_bands(hz, claim.bands), strict=True)
    )
    margins = band_margins(values["in_band"], values["central"], claim.central)
    samples = None if resampled is None else band_margins(resampled[0]["in_band"], resampled[0]["central"],
                                                          claim.central)
    return _with_uncertainty(Finding(claim.key, verdict, figure, values, rows), margins, samples,
                             None if resampled is None else resampled[1])


def curve_finding(claim: Claim, curve, per_layer: Mapping[int, object] | None = None) -> Finding:
    """The finding of a deletion-curve claim from a ``PruneCurve`` (or its ``to_dict()``). A
    ``PruneCurve`` with ``hits`` also gives the verdict's bootstrap interval (``curve_resamples``:
    evaluation utterances or digits, and the random order's seeds); a dict gives the point verdict.

    ``per_layer`` (Fig 9): {hidden layer: its own curve}, judged by the same rule one layer at a
    time and reported next to the figure; the verdict stays the claim's (all layers at once)."""
    d = curve.to_dict() if hasattr(curve, "to_dict") else dict(curve)
    hits, groups = getattr(curve, "hits", None), getattr(curve, "groups", None)
    verdict, values = order_verdict(d["curves"])
    k = list(d["k"])
    half = int(np.argmin(np.abs(np.asarray(k) - d["units"] / 2)))
    at_half = {o: float(v[half]) for o, v in d["curves"].items()}
    what = {"input": "input units", "hidden": "hidden units", "filters": "filters"}[d["unit_kind"]]
    figure = (
        f"Mean accuracy over the curve: least important first {values['mean_imp_asc']:.3f}, random "
        f"{values['mean_random']:.3f}, most important first {values['mean_imp_desc']:.3f} (full model "
        f"{d['full_accuracy']:.3f}); with {k[half]:,} of {d['units']:,} {what} deleted: "
        f"{at_half['imp_asc']:.3f} / {at_half['random']:.3f} / {at_half['imp_desc']:.3f}."
    )
    values = {
        **values,
        "full_accuracy": float(d["full_accuracy"]),
        "k_half": int(k[half]),
        "at_half": at_half,
        "units": int(d["units"]),
        "frames": int(d["frames"]),
        "mean_l1": float(np.mean(d["curves"]["l1"])) if "l1" in d["curves"] else None,
        "retrained": d.get("retrained"),
    }
    if per_layer:
        layers = {}
        for layer, c in sorted(per_layer.items()):
            cd = c.to_dict() if hasattr(c, "to_dict") else dict(c)
            layers[str(layer)] = _layer_verdict(cd["curves"], getattr(c, "hits", None), getattr(c, "groups", None))
        values["per_layer"] = layers
        figure += _layers_text(layers, english)
    band = d.get("random_band")
    rows = []
    for o, acc in d["curves"].items():
        for i, (kk, f, a) in enumerate(zip(k, d["fraction"], acc, strict=True)):
            lo, hi = (band[0][i], band[1][i]) if o == "random" and band else (a, a)
            rows.append(
                {
                    "k": int(kk),
                    "fraction": float(f),
                    "order": o,
                    "accuracy": float(a),
                    "lo": float(lo),
                    "hi": float(hi),
                }
            )
    margins = order_margins(values["mean_imp_asc"], values["mean_random"], values["mean_imp_desc"])
    samples = about = None
    if hits is not None and {"imp_asc", "random", "imp_desc"} <= set(hits):
        res, about = curve_resamples({o: hits[o] for o in ("imp_asc", "random", "imp_desc")}, groups)
        samples = order_margins(res["imp_asc"], res["random"], res["imp_desc"])
    return _with_uncertainty(Finding(claim.key, verdict, figure, values, tuple(rows)), margins, samples, about)


def _layer_verdict(curves: Mapping, hits, groups) -> dict:
    """Fig 9, one hidden layer: the rule's verdict on its own curve, with its bootstrap interval
    when the curve kept its per-example hits (``point_verdict``: the verdict without it)."""
    point, m = order_verdict(curves)
    out = {"verdict": point, **m}
    if hits is not None and {"imp_asc", "random", "imp_desc"} <= set(hits):
        res, about = curve_resamples({o: hits[o] for o in ("imp_asc", "random", "imp_desc")}, groups)
        margins = order_margins(m["mean_imp_asc"], m["mean_random"], m["mean_imp_desc"])
        out["verdict"], out["uncertainty"] = judge_samples(
            order_decide, margins, order_margins(res["imp_asc"], res["random"], res["imp_desc"]), about)
        out["point_verdict"] = point
    return out


def map_finding(claim: Claim, features, imp_s: np.ndarray, imp_sh: np.ndarray,
                resampled: tuple[Mapping, Mapping] | None = None) -> Finding:
    """The finding of Fig 4 from the importance of /s/ S2 and /sh/ S2 (``(input_dim,)`` each) on a
    model with these ``features``. ``resampled``: ({"central_share", "median_hz_s", "median_hz_sh":
    (B,)}, about) (``core.findings.bootstrap.map_resamples``); None: no interval."""
    from core.features import input_meaning

    m = input_meaning(features)
    verdict, values = map_verdict(m["offset_frames"], m["hz"], imp_s, imp_sh)
    figure = (
        f"/s/ S2: {values['central_share']:.0%} of its importance within ±{MAP_CENTRAL_FRAMES} frames "
        f"(a flat map: {values['flat_share']:.0%}); median frequency of its top {MAP_TOP} cells "
        f"{values['median_hz_s']:,.0f} Hz, /sh/ S2's {values['median_hz_sh']:,.0f} Hz."
        + _flat_text(values, english)
    )
    rows = []
    n_ch = features.n_channels
    hz = m["hz"][:n_ch]
    for name, imp in (("s_S2", imp_s), ("sh_S2", imp_sh)):
        per_ch = np.asarray(imp, np.float64).reshape(-1, n_ch).sum(0)
        per_ch = per_ch / per_ch.sum()
        rows += [{"output": name, "hz": float(h), "share": float(v)} for h, v in zip(hz, per_ch, strict=True)]
    margins = map_margins(values["central_share"], values["flat_share"], values["median_hz_s"], values["median_hz_sh"],
                          values["profile_ratio"])
    samples = None
    if resampled is not None:
        r = resampled[0]
        samples = map_margins(r["central_share"], values["flat_share"], r["median_hz_s"], r["median_hz_sh"],
                              r["profile_ratio"])
    return _with_uncertainty(Finding(claim.key, verdict, figure, values, tuple(rows)), margins, samples,
                             None if resampled is None else resampled[1])
