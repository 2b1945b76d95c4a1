"""The interface language: the sidebar's English / 日本語 switch, kept in the session and the URL."""

from __future__ import annotations

import re

import streamlit as st

from app_state.session import _from_widget, choice, one_of
from i18n import DEFAULT_LANGUAGE, LANG_KEY, LANGUAGES, N_, current_language, tr

__all__ = ["language_switch", "record_text", "picture"]


def _switched() -> None:
    """The user chose another language: store it (session, URL), and hand every choice widget its
    value again. Streamlit's browser side keeps a widget's value as the *displayed* text of the
    option (its format_func's output), so after a change of language a select box would go on
    showing the old language's text and a radio none; a value set from a callback is sent again,
    drawn in the new language. Buttons, uploads and table selections (bool / None / objects)
    cannot be set and need not be."""
    _from_widget(LANG_KEY, f"w_{LANG_KEY}", LANG_KEY)
    for key in list(st.session_state):
        value = st.session_state[key]
        if (
            key != f"w_{LANG_KEY}"
            and isinstance(value, str | int | float | tuple | list)
            and not isinstance(value, bool)
        ):
            st.session_state[key] = value


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
        key=f"w_{LANG_KEY}",
        on_change=_switched,
    )
    lang = st.session_state[LANG_KEY]
    st.query_params[LANG_KEY] = lang
    return lang


RECORDS = [
    (r"all (\d+) held-out digits", N_("all {0:,} held-out digits")),
    (
        r"(\d+) training digits, stratified by class, default_rng\((\d+)\)",
        N_("{0:,} training digits, stratified by class, random seed {1}"),
    ),
    (
        r"all (\d+) training digits \(no shift augmentation\)",
        N_("all {0:,} training digits (no shift augmentation)"),
    ),
    (r"(\d+) of (\d+) validation frames", N_("{0:,} of {1:,} validation frames")),
    (
        r"(\d+) of (\d+) validation frames \(every frame not used for statistics\)",
        N_("{0:,} of {1:,} validation frames (every frame not used for statistics)"),
    ),
    (r"(\d+) validation frames", N_("{0:,} validation frames")),
]
"""core.pruning's records of the data it used (``PruneData.settings``: English, also written into
CSV and model files), as shown in captions: each pattern's numbers go into its message (counts
written 1,999 like every other figure on the pages; the seed as it is)."""


def record_text(text: str) -> str:
    """One of core.pruning's data records in the interface language (unknown text as it is)."""
    for pattern, message in RECORDS:
        m = re.fullmatch(pattern, str(text))
        if m:
            return tr(message).format(*(int(g) for g in m.groups()))  # counts with the pages' separators
    return str(text)


def picture(name: str, lang: str | None = None) -> str:
    """Path of the shipped picture ``assets/images/<name>.png`` in ``lang`` (default: the session's
    language): ``<name>_<lang>.png`` when it exists (pictures with text, e.g. how_to_read_ja.png made
    by scripts/make_home_image.py), else the English ``<name>.png``."""
    from core.models import ASSETS_DIR

    lang = current_language() if lang is None else lang
    own = ASSETS_DIR / "images" / f"{name}_{lang}.png"
    return str(own if lang != DEFAULT_LANGUAGE and own.exists() else ASSETS_DIR / "images" / f"{name}.png")
