"""User-visible text of the dashboard in English or Japanese.

How it works (the choices written down):

- **Messages are keyed by their English text.** Pages and app_state write ``tr("Importance map")``,
  so the code reads as the English interface; ``tr`` returns the text in the session's language.
  Texts with values use named fields and ``.format`` after ``tr``
  (``tr("{n:,} frames").format(n=n)``), never an f-string inside ``tr``.
- **One catalogue, both languages side by side**: ``i18n/messages.toml``, one ``[[message]]``
  table per message with ``en`` and ``ja`` (a reviewer sees each translation next to its source;
  no message can exist in one language only). A third language adds one field per table.
- **The language** is the session's ``st.session_state["lang"]`` (``LANG_KEY``), chosen in the
  sidebar and kept in the URL (``?lang=ja``) by ``app_state.language_switch``; outside a Streamlit
  run (CLI, tests of core) the text is English.
- **core/ stays free of Streamlit and of this catalogue**: chart builders take ``tr=`` (a
  ``core.text.Translate``); pages pass ``translator()``, the current language's function.
- **Messages kept in tables** (labels of options, help texts) are marked ``N_("...")`` where they
  are defined and translated where they are shown (``tr(HELP["z"])``).
- **Errors a user can cause** are raised in core with an English template marked ``N_`` and its
  values (``core.text.UserError``); pages show ``error_text(exc)``, the sentence in the session's
  language (``str(exc)`` stays English for the command line and logs).
- A message missing from the catalogue is shown in English; tests/test_i18n.py fails on it (every
  literal ``tr``/``N_``/page title in the source must be in the catalogue, translated, with the
  same ``{fields}``). ``python -m i18n check`` lists what is missing; ``python -m i18n update``
  adds missing messages with an empty ``ja`` for a translator and drops messages no longer used.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from core.text import N_, Translate, english

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "LANG_KEY",
    "CATALOGUE",
    "N_",
    "tr",
    "translate",
    "translator",
    "error_text",
    "current_language",
    "messages",
]

LANGUAGES = {"en": "English", "ja": "日本語"}
"""Interface languages: code -> its own name (as the sidebar switch shows it)."""

DEFAULT_LANGUAGE = "en"
LANG_KEY = "lang"
"""The session-state key (and URL parameter) holding the interface language."""

CATALOGUE = Path(__file__).resolve().parent / "messages.toml"


@lru_cache(maxsize=4)
def messages(path: Path = CATALOGUE) -> tuple[dict[str, str], ...]:
    """The catalogue's entries in file order, each ``{"en": ..., "ja": ...}``."""
    with open(path, "rb") as fh:
        return tuple(tomllib.load(fh).get("message", []))


@lru_cache(maxsize=8)
def _table(lang: str, path: Path = CATALOGUE) -> dict[str, str]:
    return {m["en"]: m[lang] for m in messages(path) if m.get("en") and m.get(lang)}


def translate(text: str, lang: str) -> str:
    """``text`` (an English message) in ``lang``; the English itself when the catalogue has no
    translation (or for English)."""
    if lang == DEFAULT_LANGUAGE or not text:
        return text
    return _table(lang).get(text, text)


_last_run_language = DEFAULT_LANGUAGE


def current_language() -> str:
    """The session's interface language. Outside a Streamlit script run: the language of the last
    script run in this process (a widget's ``format_func`` may be called again after the run, e.g.
    by Streamlit's AppTest from the test's own thread), ``DEFAULT_LANGUAGE`` if there was none (CLI)."""
    global _last_run_language
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return _last_run_language
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    except Exception:  # no Streamlit, or no session (bare mode)
        return _last_run_language
    _last_run_language = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return _last_run_language


def tr(text: str, lang: str | None = None) -> str:
    """The English message ``text`` in ``lang`` (default: the session's language)."""
    return translate(text, current_language() if lang is None else lang)


def translator(lang: str | None = None) -> Translate:
    """A ``core.text.Translate`` for core's chart builders (default: the session's language)."""
    lang = current_language() if lang is None else lang
    if lang == DEFAULT_LANGUAGE:
        return english
    return lambda text: translate(text, lang)


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """The sentence of an error in ``lang`` (default: the session's language): ``exc.text(tr)`` for
    core's errors (``core.text.UserError``: template and values), ``str(exc)`` for any other."""
    text = getattr(exc, "text", None)
    return text(translator(lang)) if callable(text) else str(exc)
