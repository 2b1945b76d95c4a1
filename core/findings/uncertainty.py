"""Uncertainty of every verdict: each rule's criteria as signed margins, their seeded bootstrap
intervals, and the verdict "within noise" when an interval crosses a threshold that decides it.

Choices, written down:

- **Margins.** Every rule is a few criteria (``CRITERIA``), each "figure >= threshold" (or ">" when
  ``strict``); its margin is figure minus threshold, positive on the claim's side (the criterion
  met). Pairs: the share of the top cells in the band minus ``SHARE`` (and minus ``SOME``), the
  share of them central minus ``SHARE``; deletion curves: least important first minus random minus
  ``MARGIN``, random minus most important first minus ``MARGIN``, least minus most minus
  ``MARGIN``; Fig 4: /s/ S2's central share minus ``MAP_CONCENTRATION`` x a flat map's, /s/ S2's
  median frequency minus /sh/ S2's (Hz). The verdict is the rule's function of which criteria are
  met (``core.findings.rules``).
- **Bootstrap.** ``N_BOOT`` resamples with replacement, drawn by ``numpy.random.default_rng(SEED)``
  (reproducible), of the clusters a card's figure is computed over: the validation utterances
  (pair cards, Fig 4: neighbouring frames are not independent, so whole utterances are drawn, as the
  method comparison does), the utterances of the evaluation frames (Fig 8, Fig 9) or the held-out
  digits (Fig 13, each digit on its own). The curve cards also draw the random order's seeds with
  replacement (random = the mean of the drawn seeds' curves). A resample recombines sufficient
  statistics, never recomputes a gradient: per-utterance sums of g and g^2 and per-utterance
  histograms (pairs, Fig 4; the bins are the card's), per-example hit shares over the curve's
  points (``PruneCurve.hits``; the curves themselves, the deletion orders and the retrained layers
  are the card's, not redone per resample). The interval is the central ``LEVEL`` (95 %) of the
  resampled margins (percentiles 2.5 and 97.5, numpy's linear interpolation).
- **Within noise.** A criterion is *unsettled* when its interval's two ends and its point margin do
  not all say the same (met / not met): its interval crosses its threshold (also when the point lies
  outside a skewed percentile interval). The verdict is "within noise" when letting every
  unsettled criterion go either way gives more than one verdict; otherwise the verdict stands. The
  card shows one criterion: the unsettled one that would change the verdict (else the one closest
  to changing it, by |margin| / interval width).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from core.findings.claims import (
    CENTRAL_FRAMES,
    MAP_CONCENTRATION,
    MAP_TOP,
    MARGIN,
    SOME,
    TOP_CELLS,
    VERDICTS,
)
from core.importance.explain import FLAT_RATIO
from core.text import N_, Translate, english

N_BOOT = 1000
"""Bootstrap resamples of every card's interval."""
LEVEL = 0.95
"""The interval's coverage: the 2.5th to 97.5th percentiles of the resampled margins."""
SEED = 0
"""``numpy.random.default_rng(SEED)`` draws every card's resamples."""
NOISE = VERDICTS[-1]
"""The verdict of a result whose interval crosses a threshold that decides it."""


@dataclass(frozen=True)
class Criterion:
    """One criterion of a rule: ``label`` (a catalogue message with {fields}), the kind of its
    figure (``accuracy``, ``share``, ``hz``: how the margin is written) and ``strict`` (">" rather
    than ">=")."""

    name: str
    label: str
    kind: str
    strict: bool = False


CRITERIA = {
    c.name: c
    for c in (
        Criterion("band_half", N_("at least half of the top {top} cells in the band"), "share"),
        Criterion("central_half", N_("at least half of the top {top} cells within ±{frames} frames"), "share"),
        Criterion("band_some", N_("at least {some} of the top {top} cells in the band"), "share"),
        Criterion("asc_random", N_("least important first ≥ random + {m}"), "accuracy"),
        Criterion("random_desc", N_("random ≥ most important first + {m}"), "accuracy"),
        Criterion("asc_desc", N_("least important first ≥ most important first + {m}"), "accuracy"),
        Criterion("concentration", N_("/s/ S2's central share ≥ {times}× a flat map's"), "share"),
        Criterion("higher", N_("median frequency of /s/ S2's top {maptop} cells above /sh/ S2's"), "hz", True),
        Criterion("peaked", N_("the chart not flat: a channel at least {flat}× the median channel's share"), "ratio"),
    )
}
LABEL_ARGS = {"top": TOP_CELLS, "frames": CENTRAL_FRAMES, "some": f"{SOME:.0%}", "m": f"{MARGIN:.2f}",
              "times": f"{MAP_CONCENTRATION:g}", "maptop": MAP_TOP, "flat": f"{FLAT_RATIO:g}"}
RESAMPLED = {
    "utterances": N_("validation utterances"),
    "eval_utterances": N_("utterances of the evaluation frames"),
    "digits": N_("held-out digits"),
}
"""What a card's bootstrap draws (``about["resampled"]``), as the card names it."""


def met(name: str, margin: float) -> bool:
    """Whether criterion ``name`` holds at this margin."""
    return bool(margin > 0) if CRITERIA[name].strict else bool(margin >= 0)


def draw_counts(rng: np.random.Generator, n: int, n_boot: int = N_BOOT) -> np.ndarray:
    """(n_boot, n) int64: how often each of ``n`` clusters is drawn in each resample (n draws with
    replacement, i.e. multinomial counts)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of ``samples`` (B,)."""
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(np.asarray(samples, np.float64), [tail, 100 - tail])
    return float(lo), float(hi)


def judge(
    decide: Callable[[Mapping[str, bool]], str],
    margins: Mapping[str, float],
    intervals: Mapping[str, tuple[float, float]],
    about: Mapping[str, object],
) -> tuple[str, dict]:
    """(verdict, the card's ``uncertainty`` values) from the point ``margins``, their ``intervals``
    and the rule's ``decide`` (which criteria are met -> verdict); ``about``: what was resampled
    (``resampled``, ``clusters``, ``seeds``, ``n_boot``). See the module doc."""
    point_met = {n: met(n, m) for n, m in margins.items()}
    point = decide(point_met)
    unsettled = [n for n, m in margins.items()
                 if len({met(n, m), met(n, intervals[n][0]), met(n, intervals[n][1])}) > 1]
    possible = {decide({**point_met, **dict(zip(unsettled, combo, strict=True))})
                for combo in itertools.product((False, True), repeat=len(unsettled))}
    verdict = NOISE if len(possible) > 1 else point
    flips = [n for n in margins if decide({**point_met, n: not point_met[n]}) != point]
    pool = [n for n in flips if n in unsettled] or flips or list(margins)

    def closeness(n: str) -> float:
        lo, hi = intervals[n]
        return abs(margins[n]) / max(hi - lo, 1e-12)

    shown = min(pool, key=closeness)
    return verdict, {
        "point_verdict": point,
        "shown": shown,
        "possible": [v for v in VERDICTS if v in possible],
        "criteria": {n: {"margin": float(m), "lo": intervals[n][0], "hi": intervals[n][1]}
                     for n, m in margins.items()},
        "level": LEVEL,
        "seed": SEED,
        **about,
    }


def judge_samples(decide, margins: Mapping[str, float], samples: Mapping[str, np.ndarray],
                  about: Mapping[str, object]) -> tuple[str, dict]:
    """``judge`` with the intervals of resampled margins (name -> (B,))."""
    return judge(decide, margins, {n: interval(samples[n]) for n in margins}, about)


def curve_resamples(hits: Mapping[str, np.ndarray], groups: np.ndarray | None, n_boot: int = N_BOOT,
                    seed: int = SEED) -> tuple[dict[str, np.ndarray], dict]:
    """The mean accuracy over the curve of every order in ``n_boot`` resamples of the evaluation
    examples' clusters (``groups``; None: each example its own) and of the random order's seeds.

    hits: order -> (runs, N) share of the points at which each example is right
    (``PruneCurve.hits``). Returns ({order: (n_boot,)}, about)."""
    n = next(iter(hits.values())).shape[1]
    g = np.arange(n) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    n_clusters = int(g.max()) + 1
    rng = np.random.default_rng(seed)
    w = draw_counts(rng, n_clusters, n_boot).astype(np.float64)  # (B, U)
    size = np.bincount(g, minlength=n_clusters).astype(np.float64)
    frames = w @ size  # (B,) examples in each resample
    out, seeds = {}, 1
    for order in sorted(hits):  # sorted: the draws do not depend on the dict's order
        h = np.asarray(hits[order], np.float64)
        per = np.stack([np.bincount(g, weights=run, minlength=n_clusters) for run in h])  # (runs, U)
        acc = (w @ per.T) / frames[:, None]  # (B, runs)
        if h.shape[0] > 1:
            seeds = h.shape[0]
            k = draw_counts(rng, seeds, n_boot)
            acc = (acc * k).sum(1) / seeds
        else:
            acc = acc[:, 0]
        out[order] = acc
    about = {"resampled": "digits" if groups is None else "eval_utterances", "clusters": n_clusters,
             "seeds": seeds if seeds > 1 else 0, "n_boot": int(n_boot)}
    return out, about


def _number(v: float, kind: str) -> str:
    if kind == "hz":
        return f"{v:+,.0f} Hz"
    return f"{v:+.3f}" if kind == "accuracy" else f"{v:+.2f}"


def interval_text(values: Mapping[str, object], tr: Translate = english) -> str:
    """The card's line on its uncertainty (``values["uncertainty"]``, '' when it has none), in the
    interface language: the shown criterion, its margin and interval, what was resampled."""
    u = values.get("uncertainty") if isinstance(values, Mapping) else None
    if not u:
        return ""
    name = u["shown"]
    c, crit = CRITERIA[name], u["criteria"][name]
    what = tr(RESAMPLED[u["resampled"]])
    if u.get("seeds"):
        what += tr(" and the {s} seeds of the random order").format(s=u["seeds"])
    args = dict(
        label=tr(c.label).format(**LABEL_ARGS),
        m=_number(crit["margin"], c.kind),
        level=f"{u['level']:.0%}",
        lo=_number(crit["lo"], c.kind),
        hi=_number(crit["hi"], c.kind),
        b=f"{u['n_boot']:,}",
        n=f"{u['clusters']:,}",
        what=what,
    )
    if u["possible"] and len(u["possible"]) > 1:
        return tr(
            "Within noise: {label}, margin {m}, {level} interval {lo} to {hi} ({b} bootstrap resamples of the {n} "
            "{what}); the interval crosses the threshold, so the figure's verdict, {point}, is not settled."
        ).format(**args, point=tr(u["point_verdict"]))
    return tr(
        "Closest criterion: {label}, margin {m}, {level} interval {lo} to {hi} ({b} bootstrap resamples of the {n} "
        "{what})."
    ).format(**args)
