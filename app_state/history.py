"""The browser's history: one entry per page, not one per setting.

Streamlit's browser side adds a history entry (``history.pushState``) for every change of the
address it is sent, and it is sent one for every ``st.query_params`` write. Every run writes the
session's settings into the address (language, model, sample set, phonemes, view controls, ...), so
one click on a Findings card's link added seven entries and Back went to the same page with half its
settings (issue 28). Two parts mend it:

- ``one_address_per_run``: the writes of one run reach the browser as one address, sent when the
  run ends (the run itself reads its own writes at once, as before);
- ``history_policy``: a small script installed in the page (once per browser tab) makes an address
  that differs from the current one only in its query string *replace* the current entry; a new page
  (another path) adds one.

So a page change is one entry, a setting changed inside a page replaces it, and Back returns to the
page before with the settings it had when it was left (Streamlit's own Back handling, which re-runs
the page of the address it returns to, is unchanged). The script is in place only once the tab's
first run has been drawn, so a freshly opened address may keep one entry of its own before the
settings were added to it.

``one_address_per_run`` replaces, for the duration of a run, the method by which Streamlit 1.67
(pinned in requirements.txt) sends the address; tests/test_browser_history.py checks the result in
Chromium.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from streamlit.components.v2 import component
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

__all__ = ["history_policy", "one_address_per_run", "scroll_to", "HISTORY_JS", "SCROLL_JS"]

HISTORY_JS = """
export default function () {
    const h = window.history;
    if (h.__dnnlensOneEntryPerPage) return;
    h.__dnnlensOneEntryPerPage = true;
    const push = h.pushState.bind(h);
    h.pushState = function (state, title, url) {
        if (url !== undefined && url !== null) {
            const next = new URL(String(url), window.location.href);
            if (next.origin === window.location.origin && next.pathname === window.location.pathname) {
                return h.replaceState(state, title, url);  // the same page: its settings changed
            }
        }
        return push(state, title, url);  // another page: a new entry
    };
}
"""
"""The script: ``history.pushState`` to the current path becomes ``history.replaceState``."""

_component = component("dnnlens_history", js=HISTORY_JS)


SCROLL_JS = """
export default function (component) {
    const id = component.data && component.data.id;
    if (!id) return;
    let tries = 0;
    const go = () => {  // the element may be drawn a moment after this script runs
        const el = document.getElementById(id);
        if (el) el.scrollIntoView({block: "start"});
        else if (++tries < 100) setTimeout(go, 50);
    };
    go();
}
"""
"""The script: scroll the element with the id ``data.id`` into view (tried for up to 5 s)."""

_scroll = component("dnnlens_scroll", js=SCROLL_JS)


def scroll_to(element_id: str) -> None:
    """Scroll the page to the element with this HTML id (e.g. a heading's ``anchor``) when drawn."""
    _scroll(key=f"dnnlens_scroll_{element_id}", data={"id": element_id}, width="content", height=0)


def history_policy() -> None:
    """Install the one-entry-per-page history script (an invisible element; idempotent)."""
    _component(key="dnnlens_history", width="content", height=0)


@contextlib.contextmanager
def one_address_per_run() -> Iterator[None]:
    """Within the block, ``st.query_params`` writes change the address at once for the script but
    are sent to the browser once, when the block ends (also through ``st.stop`` or ``st.rerun``)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        yield
        return
    with ctx.session_state.query_params() as qp:
        pass
    written: list[bool] = []
    qp._send_query_param_msg = lambda: written.append(True)  # the instance's, for this block only
    try:
        yield
    finally:
        # back to the class's method. pop, not del: when a rerun is asked for while a run ends,
        # Streamlit may start the next run in a new thread before this one has left the block, and
        # that run's block then owns (or has already removed) the attribute of the same session's
        # QueryParams (an AttributeError here was seen in tests/test_browser.py)
        qp.__dict__.pop("_send_query_param_msg", None)
        if written:
            qp._send_query_param_msg()
