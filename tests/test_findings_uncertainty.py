"""The Findings' uncertainty (issue 27, item 2): margins and seeded bootstrap intervals of every rule,
"within noise" when an interval crosses a deciding threshold, and the sufficient statistics a
resample recombines against the direct computation on the resampled frames (tiny real models)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core import findings as F
from core.findings import bootstrap as B
from core.findings.uncertainty import curve_resamples, draw_counts
from core.models import load_model
from core.pruning import PruneCurve, prune_data, pruning_curve
from core.train import load_validation
from tests.tolerance import gradient_rtol

# --- the verdict with its interval ------------------------------------------------------------------


def _curve(right: dict[str, list[int]], n: int = 1000, groups=None) -> PruneCurve:
    """A one-point curve whose orders have ``right[o]`` examples right (one count per run: the
    seeds of random), with the hits that give it."""
    hits, curves = {}, {}
    for o, counts in right.items():
        runs = np.zeros((len(counts), n))
        for r, c in enumerate(counts):
            runs[r, :c] = 1.0
        hits[o] = runs
        curves[o] = (float(np.mean([c / n for c in counts])),)
    return PruneCurve("m", "filters", 2, (0,), (0.0,), curves, None, {}, (), 1.0, 1, n, True, {},
                      hits=hits, groups=groups)


def test_a_margin_exactly_at_the_threshold_is_within_noise():
    """Fig 13's case: least important first clears most important first by exactly ``MARGIN``."""
    n = 1000
    asc, desc = 520, 500  # 0.52 - (0.50 + 0.02) = 0
    f = F.curve_finding(F.CLAIMS["fig13"], _curve({"imp_asc": [asc], "imp_desc": [desc], "random": [600] * 3}, n))
    assert f.values["margins"]["asc_desc"] == pytest.approx(0.0, abs=1e-12)
    u = f.values["uncertainty"]
    assert f.verdict == "within noise" and u["point_verdict"] in ("partly", "not reproduced")
    lo, hi = u["criteria"]["asc_desc"]["lo"], u["criteria"]["asc_desc"]["hi"]
    se = np.sqrt(asc - desc) / n  # paired: only the 20 digits right for one order alone vary the difference
    assert lo < -se and hi > se and u["shown"] == "asc_desc"
    assert set(u["possible"]) == {"partly", "not reproduced"}
    assert F.interval_text(f.values).startswith("Within noise: least important first ≥ most important first + 0.02")


def test_a_margin_far_from_the_threshold_keeps_its_verdict():
    f = F.curve_finding(F.CLAIMS["fig13"], _curve({"imp_asc": [900], "imp_desc": [100], "random": [480, 500, 520]}))
    assert f.verdict == "reproduced" == f.values["uncertainty"]["point_verdict"]
    for c in f.values["uncertainty"]["criteria"].values():
        assert c["lo"] > 0 and c["hi"] > c["lo"]
    assert F.interval_text(f.values).startswith("Closest criterion: ")
    assert "1,000 bootstrap resamples of the 1,000 held-out digits and the 3 seeds of the random order" in (
        F.interval_text(f.values))


def test_judge_lets_every_unsettled_criterion_go_either_way():
    decide = F.decide_for(F.CLAIMS["fig4"])
    about = {"resampled": "utterances", "clusters": 10, "seeds": 0, "n_boot": 100}
    # "higher" is strict: a margin of exactly 0 Hz is not met, and an interval around it is unsettled
    v, u = F.judge(decide, {"concentration": 0.1, "higher": 0.0}, {"concentration": (0.05, 0.15),
                                                                  "higher": (-50.0, 50.0)}, about)
    assert (v, u["point_verdict"], u["shown"]) == ("within noise", "partly", "higher")
    v, _ = F.judge(decide, {"concentration": 0.1, "higher": 300.0}, {"concentration": (0.05, 0.15),
                                                                    "higher": (100.0, 500.0)}, about)
    assert v == "reproduced"
    # an unsettled criterion that cannot change the verdict leaves it alone (s/sh: central half met,
    # so a fifth in the band does not matter for "partly")
    decide = F.decide_for(F.CLAIMS["s_sh"])
    m = F.band_margins(0.1, 1.0, True)
    v, u = F.judge(decide, m, {"band_half": (-0.4, -0.3), "central_half": (0.5, 0.5), "band_some": (-0.1, 0.0)}, about)
    assert v == "partly" and u["possible"] == ["partly"]


def test_the_bootstrap_interval_is_reproducible_and_seeded():
    c = _curve({"imp_asc": [700], "imp_desc": [600], "random": [640, 650, 660]}, groups=np.arange(1000) // 7)
    a, about = curve_resamples(c.hits, c.groups)
    b, _ = curve_resamples(c.hits, c.groups)
    other, _ = curve_resamples(c.hits, c.groups, seed=1)
    assert about == {"resampled": "eval_utterances", "clusters": 143, "seeds": 3, "n_boot": F.N_BOOT}
    for o in a:
        assert np.array_equal(a[o], b[o]) and not np.array_equal(a[o], other[o])
    f1, f2 = (F.curve_finding(F.CLAIMS["fig8"], c) for _ in range(2))
    assert f1.to_dict() == f2.to_dict()


# --- the sufficient statistics against the direct computation --------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_models_dir):
    net, info = load_model(tiny_models_dir / "speech_en_mfbank")
    return net, info, load_validation(info)


def _repeated(frames, w: np.ndarray) -> np.ndarray:
    """The frames of every utterance repeated as often as the resample ``w`` (U,) draws it."""
    return np.concatenate([np.repeat(np.flatnonzero(frames.frame_utt == u), k) for u, k in enumerate(w) if k])


def test_the_per_utterance_combine_equals_the_direct_computation(tiny):
    """A resample's importance (std of d posterior / dx) and p_e from per-utterance sums and
    histograms equal gradient_stats and class_histograms on the drawn utterances' frames, each
    repeated as often as drawn; with every utterance once they are the card's own figures."""
    from core.importance import gradient_stats
    from core.importance.overlap import class_histograms

    net, info, frames = tiny
    view, labels = frames.spliced(), np.asarray(frames.labels, np.int64)
    a, b = "s", "sh"
    hist = class_histograms(view, labels, n_labels=len(info.phones), bins=30, transform=info.normalizer.apply)
    stats = B.utterance_stats(net, info, frames, (a, b))
    counts = [B.utterance_histograms(info, frames, hist, p) for p in (a, b)]
    n_utt = len(frames.utt_starts)
    w = np.vstack([np.ones(n_utt, np.int64), draw_counts(np.random.default_rng(3), n_utt, 2)])
    assert w[1].max() >= 2 and (w[1] == 0).any()  # a real resample: some drawn twice, some not at all
    rtol = gradient_rtol(net, factors=2)
    la, lb = info.label_index(a), info.label_index(b)
    for r in range(len(w)):
        idx = _repeated(frames, w[r])
        direct = gradient_stats(net, view, labels, [info.outputs_of(a), info.outputs_of(b)], output="posterior",
                                n_labels=len(info.phones), transform=info.normalizer.apply, indices=idx)
        want = direct.stat("std", None)
        for t in (0, 1):
            got = B.weighted_std(w[r : r + 1], stats, t)[0]
            np.testing.assert_allclose(got, want[t], rtol=rtol, atol=rtol * want[t].max())
        h = class_histograms(view, labels, n_labels=len(info.phones), bins=30, value_range=(hist.lo, hist.hi),
                             transform=info.normalizer.apply, indices=idx)
        np.testing.assert_allclose(B.weighted_p_e(w[r : r + 1], *counts)[0], h.overlap(la, lb)[1], rtol=1e-12)
    np.testing.assert_allclose(B.weighted_p_e(w[:1], *counts)[0], hist.overlap(la, lb)[1], rtol=1e-12)


def test_the_pair_card_resamples_are_seeded_and_the_identity_gives_the_card(tiny):
    net, info, frames = tiny
    from core.importance.overlap import class_histograms

    c = F.CLAIMS["s_sh"]
    view = frames.spliced()
    hist = class_histograms(view, frames.labels, n_labels=len(info.phones), bins=30, transform=info.normalizer.apply)
    stats = B.utterance_stats(net, info, frames, c.pair)
    counts = [B.utterance_histograms(info, frames, hist, p) for p in c.pair]
    r1, about = B.pair_resamples(stats, *counts, info.features, c.bands, n_boot=40)
    r2, _ = B.pair_resamples(stats, *counts, info.features, c.bands, n_boot=40)
    assert about == {"resampled": "utterances", "clusters": len(frames.utt_starts), "seeds": 0, "n_boot": 40}
    assert all(np.array_equal(r1[k], r2[k]) for k in r1) and r1["in_band"].shape == (40,)
    r3, _ = B.pair_resamples(stats, *counts, info.features, c.bands, n_boot=40, seed=1)
    assert any(not np.array_equal(r1[k], r3[k]) for k in r1)


def test_the_curve_combine_equals_a_curve_on_the_resampled_frames(tiny_models_dir):
    """The bootstrap of a deletion curve: its first resample's mean accuracies over the curve equal
    those of ``pruning_curve`` run on the evaluation frames of the drawn utterances (each repeated
    as often as drawn) with the drawn seeds of the random order."""
    net, info = load_model(tiny_models_dir / "speech_en_mfbank")
    data = prune_data(info, eval_frames=400, stats_frames=400)
    kw = dict(orders=("imp_asc", "imp_desc", "random"), points=6, data=data, seeds=(0, 1, 2))
    curve = pruning_curve(net, info, "input", **kw)
    assert curve.groups is not None and len(curve.groups) == curve.n_frames
    got, about = curve_resamples(curve.hits, curve.groups, n_boot=1)
    # the draws of curve_resamples, replayed: clusters first, then the seeds (orders sorted; random's)
    g = np.unique(curve.groups, return_inverse=True)[1]
    rng = np.random.default_rng(F.SEED)
    w = draw_counts(rng, about["clusters"], 1)[0]
    k = draw_counts(rng, 3, 1)[0]
    idx = np.concatenate([np.repeat(np.flatnonzero(g == u), c) for u, c in enumerate(w) if c])
    again = dataclasses.replace(data, x_eval=data.x_eval[idx], y_eval=data.y_eval[idx], groups_eval=None)
    seeds = tuple(s for s, c in enumerate(k) for _ in range(c))
    brute = pruning_curve(net, info, "input", **{**kw, "data": again, "seeds": seeds})
    want = F.curve_means(brute.curves)
    for o in ("imp_asc", "imp_desc", "random"):
        assert got[o][0] == pytest.approx(want[o], abs=1e-12), o
    # with every cluster once the hits give the curve's own means
    assert np.mean(curve.hits["imp_asc"][0]) == pytest.approx(F.curve_means(curve.curves)["imp_asc"], abs=1e-12)


def test_the_fig4_resamples_equal_the_rule_on_each_resampled_map(tiny):
    """Every figure Fig 4's bootstrap draws (central share, the two median frequencies, the chart's
    peak-to-median ratio) equals ``map_verdict`` on that resample's two maps."""
    from core.features import input_meaning

    net, info, frames = tiny
    stats = B.utterance_stats(net, info, frames, ("s", "sh"))
    res, about = B.map_resamples(stats, info.features, n_boot=6, seed=2)
    w = draw_counts(np.random.default_rng(2), about["clusters"], 6)
    m = input_meaning(info.features)
    for r in range(6):
        imp_s, imp_sh = (B.weighted_std(w[r : r + 1], stats, t)[0] for t in (0, 1))
        _, v = F.map_verdict(np.asarray(m["offset_frames"]), np.asarray(m["hz"]), imp_s, imp_sh)
        for k in ("central_share", "median_hz_s", "median_hz_sh", "profile_ratio"):
            assert res[k][r] == pytest.approx(v[k], rel=1e-9), (k, r)
