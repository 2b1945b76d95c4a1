"""The dashboard's background warm-up and its "Step i of n" progress (tiny real models; the
warm-up is off in the other tests, see conftest)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _page(path: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if path != "screens/home.py":
        at.switch_page(path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_warmup_computes_every_phoneme_once_and_maps_then_need_nothing(tiny_models, monkeypatch):
    import app_state as S

    monkeypatch.setenv("DNNLENS_WARMUP", "1")
    at = _page("screens/home.py")  # the first page view of the "server" starts the warm-up
    w = S.warmup()
    assert w is not None and w.name == "speech_en_mfbank" and w.output == "posterior"
    phones = S.phones_of("speech_en_mfbank")
    assert w.total == len(phones) + 2  # the histograms, every phoneme, the units' and filters' curves
    assert w.ended.wait(300), "the warm-up did not end within 300 s"
    assert w.finished is not None and w.error is None and w.done == w.total
    for p in phones:
        assert S.stats_ready("speech_en_mfbank", "posterior", S.target_of("speech_en_mfbank", p)), p
    assert S.histograms_ready("speech_en_mfbank", S.DEFAULT_BINS)
    assert w.maps_ready is not None and w.started < w.maps_ready <= w.finished
    root = S.models_root()
    for units in ("input", "hidden"):  # the first views of Units and pruning
        assert S.cache._memo("curves").has(
            (root, "speech_en_mfbank", units, None, S.orders_of(units), "std", "posterior", True)), units
    for pair in (("s", "sh"), ("b", "d")):  # the hollow-squares switch of the start-here pairs
        assert S.cache._memo("solid_mask").has((root, "speech_en_mfbank", "posterior", pair, None, "std")), pair
    assert S.cache._memo("solid_mask").has((root, "speech_en_mfbank", "posterior", ("s",), None, "std"))
    assert S.cache._memo("trust_report").has((root, "speech_en_mfbank", "s", "all", "posterior"))  # trust page
    assert S.cache._memo("digit_stats").has((root, "digits_cnn", "posterior"))  # the Digit CNN page
    assert S.cache._memo("digit_means").has((root, "digits_cnn"))
    for retrain in (True, False):  # and of the Digit CNN's deletions
        assert S.cache._memo("curves").has(
            (root, "digits_cnn", "filters", 2, S.orders_of("filters"), "std", "posterior", retrain)), retrain
    live = S.findings.live_cards(root)  # the Findings page's live cards
    assert {"s_sh", "b_d"} <= set(live)
    for key in live:
        assert S.findings.live_finding_ready(key) is not None, key
    # the sidebar says it is done
    at = _page("screens/home.py")
    assert any("Importance maps of every phoneme of speech_en_mfbank ready" in c.value for c in at.sidebar.caption)
    # any phoneme's map and any pair now open without computing anything
    before = S._stats_cache().computed
    for phone in phones[-3:]:
        at = _page("screens/importance_map.py", {"phone": phone})
        assert not at.error and at.get("vega_lite_chart")
    at = _page("screens/phoneme_pair.py", {"pair_a": phones[-1], "pair_b": phones[-2]})
    assert not at.error and at.get("vega_lite_chart")
    assert S._stats_cache().computed == before


def test_first_view_shows_step_i_of_n(tiny_models, monkeypatch):
    """A cold pair view needs three computations (two phonemes' gradients, histograms with new
    bins): the progress text says "Step i of 3" for each, in order, from its first moment."""
    texts: list[str] = []
    real_st, real_dg = st.progress, DeltaGenerator.progress

    def st_progress(value, text=None, **kw):
        texts.append(text)
        return real_st(value, text=text, **kw)

    def dg_progress(self, value, text=None, **kw):
        texts.append(text)
        return real_dg(self, value, text=text, **kw)

    monkeypatch.setattr(st, "progress", st_progress)
    monkeypatch.setattr(DeltaGenerator, "progress", dg_progress)
    import app_state as S

    phones = S.phones_of("speech_en_mfbank") if S.speech_models() else []
    a, b = phones[3], phones[4]  # not the defaults, so not computed by earlier page tests
    S._stats_cache().clear()
    _page("screens/phoneme_pair.py", {"pair_a": a, "pair_b": b, "bins": "55"})
    steps = [t for t in texts if t and t.startswith("Step ")]
    assert steps, texts
    assert steps[0].startswith("Step 1 of 3") and f"/{a}/" in steps[0]
    assert any(t.startswith("Step 2 of 3") and f"/{b}/" in t for t in steps)
    assert steps[-1].startswith("Step 3 of 3") and "histograms" in steps[-1]
    order = [int(t.split()[1]) for t in steps]
    assert order == sorted(order)
