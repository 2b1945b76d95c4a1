"""dnnlens entry point: page config, language and navigation. Nothing else.

Each page draws the shared settings sidebar itself (``app_state.sidebar()``); the choices live in
session state, so they survive page changes. The language switch is drawn here, above every page's
sidebar, before the page names are translated.
"""

import sys
import time

import streamlit as st

from i18n import LANGUAGES, tr

st.set_page_config(page_title="dnnlens", page_icon="🔎", layout="wide")
starting = None
if "app_state" not in sys.modules:
    # the server's first page view imports PyTorch and the models' code (several seconds, the import
    # below): say so at once, in the link's language (the session has none yet)
    lang = st.query_params.get("lang")
    starting = st.empty()
    starting.caption(tr("Starting up: loading PyTorch and the models…", lang if lang in LANGUAGES else None))
    time.sleep(0.2)  # let the server send it before the imports hold the interpreter for seconds

import app_state as S  # noqa: E402  (after the start-up message)

S.history_policy()  # one browser history entry per page, not one per setting (app_state/history.py)


def pages() -> list:
    return [
        st.Page("screens/home.py", title=tr("Home"), icon="🏠", default=True),
        st.Page("screens/importance_map.py", title=tr("Importance map"), icon="🗺️"),
        st.Page("screens/phoneme_pair.py", title=tr("Phoneme pair"), icon="⚖️"),
        st.Page("screens/units_pruning.py", title=tr("Units and pruning"), icon="✂️"),
        st.Page("screens/digit_cnn.py", title=tr("Digit CNN"), icon="🔢"),
        st.Page("screens/your_voice.py", title=tr("Your voice"), icon="🎙️"),
        st.Page("screens/findings.py", title=tr("Findings"), icon="📋"),
        st.Page("screens/methods.py", title=tr("Which importance to trust"), icon="🧪"),
    ]


try:
    with S.one_address_per_run():  # the run's address reaches the browser once, at its end
        S.language_switch()
        st.navigation(pages()).run()
finally:
    if starting is not None:
        starting.empty()
