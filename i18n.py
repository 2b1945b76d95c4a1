"""User-visible text of the dashboard, ready for translation.

Every title and label on a page goes through ``tr``; a new language adds one dict to
``TRANSLATIONS`` (keys are the English texts). Missing entries fall back to English.
"""

from __future__ import annotations

LANGUAGES = {"en": "English"}

TRANSLATIONS: dict[str, dict[str, str]] = {"en": {}}


def tr(text: str, lang: str = "en") -> str:
    """The text in ``lang`` (English if there is no translation yet)."""
    return TRANSLATIONS.get(lang, {}).get(text, text)
