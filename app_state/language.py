"""The interface language: the sidebar's English / 日本語 switch, kept in the session and the URL."""

from __future__ import annotations

import streamlit as st

from app_state.session import choice, one_of, widget_args
from i18n import DEFAULT_LANGUAGE, LANG_KEY, LANGUAGES

__all__ = ["language_switch"]


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
