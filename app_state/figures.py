"""Charts drawn from a Vega-Lite spec built once per server for each set of choices.

A page's chart is the same for every session that makes the same choices (model, settings, the
phonemes, the view, the language). Building it costs Altair's encoding, pandas' tooltip columns,
``to_dict`` and the Arrow serialisation of its data: tens of milliseconds holding the interpreter,
which thirty sessions at once queue behind (docs/BENCHMARKS.md, "A class at once"). So the
finished spec, with its data already as Arrow bytes (what ``st.altair_chart`` sends), is kept in a
server-wide store keyed by everything the chart depends on, and every later session with the same
choices only copies it into its page (``st.vega_lite_chart``).

The choices are the caller's: they must name every input of ``build`` (a test draws each page's charts
through this and through ``st.altair_chart`` and compares the specs). Interactive charts
(``on_select``) work the same: selections are declared in the spec; the widget is registered by
the page's call, per session, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import altair as alt
import numpy as np
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from app_state.cache import _memo
from app_state.resources import models_root
from core.viz import maps
from i18n import current_language

CHART_ENTRIES = 256
"""Charts kept per server (least recently used dropped); a map or pair spec is 50-200 kB."""


def _spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec ``st.altair_chart`` would send, data as Arrow bytes in ``datasets``.

    Streamlit's own conversion (a private function of its ``vega_charts`` module: Streamlit is
    pinned in requirements.txt, and tests/test_figures.py checks that the element it draws equals
    ``st.altair_chart``'s)."""
    return _convert_altair_to_vega_lite_spec(chart)


def chart_spec(choices: tuple, build: Callable[[], alt.TopLevelMixin]) -> dict:
    """The spec of ``build()``, built once per server for ``choices`` (+ the models folder and the
    session's language). Do not change the result: copy it (``draw`` does)."""
    full = (models_root(), current_language(), *choices)
    return _memo("charts", CHART_ENTRIES).get(full, lambda: _spec(maps.drawn_unvalidated(build())))


def draw(container, choices: tuple, build: Callable[[], alt.TopLevelMixin], **kwargs):
    """``container.altair_chart(build(), **kwargs)``, with the spec built once per server for
    ``choices`` (see the module's docstring). Returns what ``vega_lite_chart`` returns (the
    selection state when ``on_select`` is given)."""
    spec = chart_spec(choices, build)
    # Streamlit moves the datasets out of the spec it is given: hand it a copy of the top level
    fresh = {**spec, "datasets": dict(spec["datasets"])} if "datasets" in spec else dict(spec)
    return container.vega_lite_chart(spec=fresh, **kwargs)


def digest(*parts) -> str:
    """A short fingerprint of what a chart is drawn from, for ``draw``'s choices when they are data
    (a recording's posteriors, its alignments) rather than settings: arrays by their bytes, shape and
    type, anything else by its ``repr``. Two different inputs get different keys, so no session is
    ever shown another's chart."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(f"{p.dtype}{p.shape}".encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]
