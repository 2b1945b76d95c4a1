"""Text that core's chart builders show to users: English by default, translated by the caller.

core/ never knows the interface language and never imports the app's catalogue. Every builder that
writes a title, an axis title, a legend or a tooltip takes a keyword ``tr``, a function from an
English message to the text to show (``Translate``); the default ``english`` shows the English.
The dashboard passes ``i18n.translator(lang)``. Inside a builder a message is written as a literal
call ``tr("mean input (z)")``, and a table of display names (e.g. ``ORDER_NAMES``) marks each
value with ``N_``, so that the catalogue test (tests/test_i18n.py) finds every message by reading
the source.
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]
"""English message -> the text to show (the same message in the interface language)."""


def english(text: str) -> str:
    """The default ``tr`` of every chart builder: the English message itself."""
    return text


def N_(text: str) -> str:  # noqa: N802 (the gettext convention for "translated later")
    """Mark a message stored in a table: returned unchanged, translated where it is shown."""
    return text
