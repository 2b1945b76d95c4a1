"""Charts built once per server (app_state.figures) and the pair page's one-column detail."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

MODEL = "speech_en_mfbank"


def _page(cached: bool, lang: str) -> None:
    """A page that draws the /s/-/sh/ pair map once, cached (``S.draw``) or not (``st.altair_chart``)."""
    if True:  # (AppTest runs this function's source as a script)
        import streamlit as st

        import app_state as S
        from app_state.session import Settings
        from core.viz import maps as charts

        st.session_state["lang"] = lang
        model = "speech_en_mfbank"
        cfg = Settings(model, "all", "std", "posterior")
        fc = S.model(model)[1].features
        table, _ = S.pair_data(cfg, "s", "sh", 30)
        ext = charts.Extent.full(fc)
        cells = charts.select_cells(table, "score", ext.time, ext.channels, 40)

        def build():
            st.session_state["built"] = st.session_state.get("built", 0) + 1
            return charts.pair_map(cells, fc, "s", "sh", whole=table, extent=ext, contrast=1.0, selected=(0, 30),
                                   tr=S.tr)

        if cached:
            S.draw(st, ("test-pair", cfg), build, on_select="rerun", selection_mode=charts.PAIR_SELECTION,
                   key="c", width="stretch")
        else:
            st.altair_chart(charts.drawn_unvalidated(build()), on_select="rerun",
                            selection_mode=charts.PAIR_SELECTION, key="c", width="stretch")


def _script(cached: bool, lang: str = "en") -> AppTest:
    return AppTest.from_function(_page, args=(cached, lang), default_timeout=600)


def _element(at: AppTest):
    assert not at.exception, at.exception
    protos = [e.proto for e in at.get("vega_lite_chart")]
    assert len(protos) == 1
    return protos[0]


@pytest.fixture(autouse=True)
def _fresh_store():
    import app_state.cache as shared

    shared._memo.clear()
    yield
    shared._memo.clear()


def test_a_cached_chart_is_the_element_altair_chart_draws():
    plain = _script(False)
    plain.run()
    cached = _script(True)
    cached.run()
    a, b = _element(plain), _element(cached)
    assert a.spec == b.spec
    assert [(d.name, d.data.data) for d in a.datasets] == [(d.name, d.data.data) for d in b.datasets]
    assert list(a.selection_mode) == list(b.selection_mode) and a.id == b.id


def test_the_chart_is_built_once_per_server_and_per_language():
    first = _script(True)
    first.run()
    again = _script(True)  # another session, same choices
    again.run()
    assert first.session_state["built"] == 1 and "built" not in again.session_state
    assert _element(first).spec == _element(again).spec
    ja = _script(True, "ja")
    ja.run()
    assert ja.session_state["built"] == 1  # another language: its own spec (translated titles)
    assert _element(ja).spec != _element(first).spec


def test_pair_detail_reads_one_column_as_the_spliced_frames_would():
    """Brute force: normalise every spliced input of each class's frames and take the column."""
    import app_state as S
    from core.importance.overlap import full_range_detail

    _, info = S.model(MODEL)
    frames, view = S.validation(MODEL)
    la, lb = S.label_index(MODEL, "s"), S.label_index(MODEL, "sh")
    rng = np.random.default_rng(0)
    for i in rng.choice(view.dim, 4, replace=False):
        got = S.pair_detail(MODEL, "s", "sh", int(i), 30)
        cols = [info.normalizer.apply(view[np.flatnonzero(frames.labels == lab)])[:, i] for lab in (la, lb)]
        want = full_range_detail(S.histograms(MODEL, 30), la, lb, int(i), *cols)
        # same float32 values (one subtraction and one division each): identical densities
        np.testing.assert_array_equal(got.p_a, want.p_a)
        np.testing.assert_array_equal(got.p_b, want.p_b)
        np.testing.assert_array_equal(got.centres, want.centres)
        assert (got.eps, got.p_e) == (want.eps, want.p_e)
