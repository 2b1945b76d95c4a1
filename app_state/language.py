"""The interface language: the sidebar's English / 日本語 switch, kept in the session and the URL."""

from __future__ import annotations

import re

import streamlit as st

from app_state.session import choice, one_of, widget_args
from i18n import DEFAULT_LANGUAGE, LANG_KEY, LANGUAGES, N_, tr

__all__ = ["language_switch", "record_text"]


def language_switch() -> str:
    """The session's interface language (``i18n.LANGUAGES``), drawn as a switch at the top of the
    sidebar; dashboard.py calls it before building the navigation, so page names, every page and
    core's charts (through ``i18n.tr``) use it. Set once from the URL (``?lang=ja``; an unknown value
    falls back to English and is reported like every repaired link value) and written back to the
    URL on every run, so a shared link opens in the same language. The label is bilingual, so a
    user who reads only one of the two languages finds it."""
    langs = list(LANGUAGES)
    choice(LANG_KEY, LANG_KEY, one_of(langs), DEFAULT_LANGUAGE, widget=f"w_{LANG_KEY}")
    st.sidebar.radio(
        "Language / 言語",
        langs,
        format_func=LANGUAGES.get,
        horizontal=True,
        **widget_args(LANG_KEY, LANG_KEY),
    )
    lang = st.session_state[LANG_KEY]
    st.query_params[LANG_KEY] = lang
    return lang


RECORDS = [
    (r"all (\d+) held-out digits", N_("all {0} held-out digits")),
    (
        r"(\d+) training digits, stratified by class, default_rng\((\d+)\)",
        N_("{0} training digits, stratified by class, default_rng({1})"),
    ),
    (
        r"all (\d+) training digits \(no shift augmentation\)",
        N_("all {0} training digits (no shift augmentation)"),
    ),
    (r"(\d+) of (\d+) validation frames", N_("{0} of {1} validation frames")),
    (
        r"(\d+) of (\d+) validation frames \(every frame not used for statistics\)",
        N_("{0} of {1} validation frames (every frame not used for statistics)"),
    ),
    (r"(\d+) validation frames", N_("{0} validation frames")),
]
"""core.pruning's records of the data it used (``PruneData.settings``: English, also written into
CSV and model files), as shown in captions: each pattern's numbers go into its message."""


def record_text(text: str) -> str:
    """One of core.pruning's data records in the interface language (unknown text as it is)."""
    for pattern, message in RECORDS:
        m = re.fullmatch(pattern, str(text))
        if m:
            return tr(message).format(*m.groups())
    return str(text)
