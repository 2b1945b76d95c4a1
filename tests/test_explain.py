"""The "why these differ" block (issue 27 items 3-4): the flatness rule, the class means and the
release bursts against brute force, the paper's-cue rule on constructed spectra, Fig 4's verdict on
a flat chart, and the pages' block figures against the core computation for the same settings."""

from __future__ import annotations

import numpy as np
import pytest

from core import findings as F
from core.features import FeatureConfig, input_meaning
from core.importance import explain as X

FC = FeatureConfig()
M = input_meaning(FC)
C = FC.n_channels


# --- the flatness rule ----------------------------------------------------------------------------


def test_a_flat_curve_is_flat_and_a_peaked_one_is_not():
    rng = np.random.default_rng(0)
    flat = 1.0 + 0.05 * rng.standard_normal(C)  # +-5 % ripple: peak / median ~ 1.1
    peaked = np.ones(C)
    peaked[30] = 3.0
    assert X.peak_to_median(flat) < X.FLAT_RATIO and X.is_flat(flat)
    assert X.peak_to_median(peaked) == pytest.approx(3.0) and not X.is_flat(peaked)
    edge = np.ones(C)
    edge[5] = X.FLAT_RATIO  # exactly at the threshold: not flat (flat is strictly below)
    assert not X.is_flat(edge)
    edge[5] = X.FLAT_RATIO * (1 - 1e-9)
    assert X.is_flat(edge)


def test_channel_profile_sums_each_channel_over_the_offsets():
    rng = np.random.default_rng(1)
    imp = rng.random(FC.input_dim)
    want = np.array([imp[M["channel"] == c].sum() for c in range(C)])
    np.testing.assert_allclose(X.channel_profile(imp, C), want / want.sum(), rtol=1e-12)


def _bump(channel: int, height: float) -> np.ndarray:
    """A map of ones with ``height`` added on 21 cells: the 7 central frames of 3 channels around
    ``channel`` (each of those channels then sums to 35 + 7 x height against 35 elsewhere)."""
    imp = np.ones(FC.input_dim)
    imp[(np.abs(M["channel"] - channel) <= 1) & (np.abs(M["offset_frames"]) <= 3)] += height
    return imp


def test_fig4_on_a_flat_chart_is_not_read_as_a_frequency_difference():
    # /s/'s top cells higher than /sh/'s, but each curve's peak channel carries 1.4x the median's
    s, sh = _bump(35, 2.0), _bump(10, 2.0)
    verdict, v = F.map_verdict(M["offset_frames"], M["hz"], s, sh)
    assert v["median_hz_s"] > v["median_hz_sh"]
    assert v["profile_ratio"] < X.FLAT_RATIO
    assert v["profile_ratio"] == pytest.approx(49 / 35)
    # within +-3 frames: (280 + 42) / (1,400 + 42) = 22 %, below 2 x a flat map's 20 %
    assert verdict == "not reproduced"
    found = F.map_finding(F.CLAIMS["fig4"], FC, s, sh)
    assert "The chart is flat" in found.figure and F.figure_text(found) == found.figure
    # the same maps with a real peak (and so central too): both criteria hold
    s, sh = _bump(35, 40.0), _bump(10, 40.0)
    verdict, v = F.map_verdict(M["offset_frames"], M["hz"], s, sh)
    assert v["profile_ratio"] == pytest.approx((35 + 7 * 40) / 35) and verdict == "reproduced"
    assert "The chart peaks" in F.map_finding(F.CLAIMS["fig4"], FC, s, sh).figure


# --- class means and bursts against brute force ----------------------------------------------------


def _corpus(seed: int = 2):
    """Random frames in 6 utterances with runs of labels 0..4 (0 = silence)."""
    rng = np.random.default_rng(seed)
    labels, utt = [], []
    for u in range(6):
        for _ in range(rng.integers(5, 12)):
            labels += [int(rng.integers(0, 5))] * int(rng.integers(1, 6))
            utt += [u] * (len(labels) - len(utt))
    labels, utt = np.array(labels, np.int16), np.array(utt, np.int32)
    feats = rng.standard_normal((len(labels), C)).astype(np.float32) * 3
    return feats, labels, utt


def test_burst_frames_are_the_last_frames_of_each_run():
    feats, labels, utt = _corpus()
    for label in range(5):
        want = []
        i = 0
        while i < len(labels):  # brute force: walk the runs
            j = i
            while j + 1 < len(labels) and labels[j + 1] == labels[i] and utt[j + 1] == utt[i]:
                j += 1
            if labels[i] == label:
                want += list(range(max(i, j - X.BURST_FRAMES + 1), j + 1))
            i = j + 1
        np.testing.assert_array_equal(X.burst_frames(labels, utt, label), want)


def test_map_story_class_means_equal_a_brute_force_mean():
    feats, labels, utt = _corpus()
    rng = np.random.default_rng(3)
    imp = rng.random(FC.input_dim)
    st = X.map_story("x", imp, M["hz"], M["offset_frames"], C, feats, labels, 2, 0)
    own = [f for f, la in zip(feats.astype(np.float64), labels, strict=True) if la == 2]
    other = [f for f, la in zip(feats.astype(np.float64), labels, strict=True) if la not in (0, 2)]
    want = 10 / np.log(10) * (np.sum(own, axis=0) / len(own) - np.sum(other, axis=0) / len(other))
    # float64 sums of float32 values: the two orders of summation agree to ~1e-15 relative
    np.testing.assert_allclose(st.diff_db, want, rtol=0, atol=1e-9)
    low = M["hz"][:C] < X.LOW_HZ
    assert st.low_db == pytest.approx(want[low].mean(), abs=1e-9)
    assert (st.n_frames, st.n_other) == (len(own), len(other))
    top = np.argsort(-imp)[: X.TOP_CELLS]
    assert st.cells.hz == tuple(float(M["hz"][i]) for i in top)


def test_pair_story_of_stops_compares_the_bursts_and_judges_the_cue():
    feats, labels, utt = _corpus()
    hz = M["hz"][:C]
    band = F.in_bands(hz, F.CLAIMS["b_d"].bands)
    ib, idd = X.burst_frames(labels, utt, 1), X.burst_frames(labels, utt, 2)
    for where, cue in ((band, True), (~band, False)):
        f = np.zeros_like(feats)
        f[np.ix_(idd, np.flatnonzero(where))] = 2.0  # /d/ bursts louder only there
        st = X.pair_story("b", "d", np.ones(FC.input_dim), M["hz"], M["offset_frames"], C, f, labels, utt, 1, 2, band)
        assert st.burst and st.cue is cue
        want = 10 / np.log(10) * (f[idd].astype(np.float64).mean(0) - f[ib].astype(np.float64).mean(0))
        np.testing.assert_allclose(st.diff_db, want, atol=1e-9)
    no_band = X.pair_story("s", "sh", np.ones(FC.input_dim), M["hz"], M["offset_frames"], C, feats, labels, utt,
                           1, 2)
    assert not no_band.burst and no_band.cue is None
    assert no_band.n_a == int((labels == 1).sum())


# --- the pages' block against the core computation -------------------------------------------------


def _expected(root, name: str, target: str, phone: str, partner: str):
    """The block's figures computed with core only, with the pages' default settings (every frame,
    σ of d posterior / dx, 30 bins): the same calls as ``core.findings.compute``."""
    from core.findings.compute import _Speech

    sp = _Speech(root, name)
    fr = sp.frames
    silence = sp.info.label_index(sp.info.phone_set.silence)
    ms = X.map_story(phone, sp.importance(target), M["hz"], M["offset_frames"], C, fr.feats, fr.labels,
                     sp.info.label_index(phone), silence)
    claim = next((c for c in F.CLAIMS.values() if c.pair and set(c.pair) == {phone, partner}), None)
    band = F.in_bands(M["hz"][:C], claim.bands) if claim else None
    ps = X.pair_story(phone, partner, sp.pair_table(phone, partner)["score"].to_numpy(), M["hz"], M["offset_frames"],
                      C, fr.feats, fr.labels, fr.frame_utt, sp.info.label_index(phone), sp.info.label_index(partner),
                      band)
    return ms, ps


def _block(at) -> str:
    exp = [e for e in at.expander if e.label.startswith(("Why do the pages", "Why the top cells"))]
    assert exp, [e.label for e in at.expander]
    return " ".join([m.value for e in exp for m in e.markdown] + [c.value for e in exp for c in e.caption])


def _drawn_line(expander) -> np.ndarray:
    """The dB line the block's chart draws (its data as the browser gets it)."""
    import pyarrow as pa

    (chart,) = expander.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
    line = next(f for f in frames if "db" in f and "answer" not in f)
    return line.sort_values("hz")["db"].to_numpy()


def _span(c: X.Cells) -> str:
    lo, hi = f"{c.lo_hz:,.0f}", f"{c.hi_hz:,.0f}"
    return lo if lo == hi else f"{lo}–{hi}"


def _assert_map(text: str, ms: X.MapStory) -> None:
    assert f"top {X.TOP_CELLS} cells at {_span(ms.cells)} Hz, {ms.cells.below(X.LOW_HZ)} of them below" in text
    assert f"/{ms.phone}/ frames are {abs(ms.low_db):.1f} dB" in text
    assert f"that band holds {ms.low_share:.0%} of the map (a flat map: {ms.flat_low_share:.0%})" in text


def _assert_pair(text: str, ps: X.PairStory) -> None:
    assert f"/{ps.a}/ vs /{ps.b}/" in text and f"top {X.TOP_CELLS} cells at {_span(ps.cells)} Hz." in text
    assert f"{abs(ps.top_db):.1f} dB" in text
    if ps.cue is not None:
        assert f"{ps.band_max:.1f} dB" in text and f"({ps.other_max:.1f} dB at {ps.other_hz:,.0f} Hz)" in text
        assert ("have the paper's cue" in text) is ps.cue and ("lack the cue the paper found" in text) is (not ps.cue)


def test_the_map_and_pair_pages_block_equals_the_core_computation(tiny_models):
    from tests.test_pages import no_errors, run_page

    ms, ps = _expected(tiny_models, "speech_en_mfbank", "s", "s", "sh")
    at = run_page("screens/importance_map.py")
    no_errors(at)
    text = _block(at)
    _assert_map(text, ms)
    _assert_pair(text, ps)
    (exp,) = [e for e in at.expander if e.label.startswith("Why do the pages")]
    np.testing.assert_allclose(_drawn_line(exp), ms.diff_db, rtol=0, atol=1e-9)  # /s/ vs other speech

    ms, ps = _expected(tiny_models, "speech_en_mfbank", "b", "b", "d")
    at = run_page("screens/phoneme_pair.py")
    at.button(key="sugg_b_d").click().run()  # the paper's second pair
    no_errors(at)
    text = _block(at)
    _assert_map(text, ms)
    _assert_pair(text, ps)
    assert ps.burst and f"of {ps.n_a:,} /b/ and {ps.n_b:,} /d/ segments" in text
    (exp,) = [e for e in at.expander if e.label.startswith("Why do the pages")]
    np.testing.assert_allclose(_drawn_line(exp), ps.diff_db, rtol=0, atol=1e-9)  # /d/ bursts minus /b/'s


def test_the_findings_cards_block_equals_the_core_computation(tiny_models):
    from tests.test_pages import no_errors, run_page

    at = run_page("screens/findings.py")
    no_errors(at)
    exp = {e.label: " ".join([m.value for m in e.markdown] + [c.value for c in e.caption]) for e in at.expander}
    ms, ps = _expected(tiny_models, "speech_en_mfbank", "s", "s", "sh")
    fig4 = exp["Why do the pages name different frequencies for /s/?"]
    _assert_map(fig4, ms)
    _assert_pair(fig4, ps)
    assert "**Fig 4 card**" in fig4
    _, ps = _expected(tiny_models, "speech_en_mfbank", "b", "b", "d")
    card = exp["Why the top cells of /b/ vs /d/ lie where they do"]
    _assert_pair(card, ps)
    assert "Importance map" not in card  # the card's block is the pair's only
    seen = [m.value for m in at.markdown if m.value.startswith("**Why:**")]  # and the card says it outside it
    want = "have the paper's cue" if ps.cue else "lack the cue the paper found"
    assert len(seen) == 1 and want in seen[0] and f"{ps.band_max:.1f} dB" in seen[0]


def test_the_trust_pages_block_equals_the_core_computation(tiny_models):
    from core.trust import METHOD_NAMES
    from tests.test_pages import no_errors, run_page
    from tests.test_pages_methods import _core_report

    at = run_page("screens/methods.py")
    no_errors(at)
    text = _block(at)
    ms, ps = _expected(tiny_models, "speech_en_mfbank", "s", "s", "sh")
    _assert_map(text, ms)
    _assert_pair(text, ps)
    rep = _core_report(tiny_models)  # the comparison straight from core.trust, same frames and settings
    best = rep.verdict.best
    cells = X.top_cells(np.abs(rep.cells.value[rep.maps.methods.index(best)]), M["hz"], M["offset_frames"])
    db = X.level_at(ms.hz, ms.diff_db, cells)
    assert f"the evidence favours {METHOD_NAMES[best]}" in text
    assert f"top {X.TOP_CELLS} cells at {_span(cells)} Hz. There /s/ frames are {abs(db):.1f} dB" in text


def test_level_at_averages_the_channels_of_the_cells():
    hz = M["hz"][:C]
    diff = np.arange(C, dtype=float)
    cells = X.Cells((float(hz[3]), float(hz[3]), float(hz[10])), (0, 1, 0))
    assert X.level_at(hz, diff, cells) == pytest.approx((3 + 3 + 10) / 3)


def test_the_block_of_one_state_on_a_state_model(tiny_models):
    from tests.test_pages import no_errors, run_page

    at = run_page("screens/importance_map.py", model="speech_en_states")
    at.radio(key="w_map_part").set_value("S2").run()
    no_errors(at)
    text = _block(at)
    ms, ps = _expected(tiny_models, "speech_en_states", "s_S2", "s", "sh")
    assert "σ of the gradient of /s/ S2 over" in text
    _assert_map(text, ms)
    _assert_pair(text, ps)
