"""Text that core shows to users (chart builders' titles, errors' sentences): English by default,
translated by the caller.

core/ never knows the interface language and never imports the app's catalogue. Every builder that
writes a title, an axis title, a legend or a tooltip takes a keyword ``tr``, a function from an
English message to the text to show (``Translate``); the default ``english`` shows the English.
The dashboard passes ``i18n.translator(lang)``. Inside a builder a message is written as a literal
call ``tr("mean input (z)")``, and a table of display names (e.g. ``ORDER_NAMES``) marks each
value with ``N_``, so that the catalogue test (tests/test_i18n.py) finds every message by reading
the source. Errors a user can cause carry their English template and its values (``UserError``):
``str(exc)`` is English, ``exc.text(tr)`` the interface's language.
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


class UserError(ValueError):
    """An error a user can cause, as one sentence the interface can show in its language.

    Every module's error type (``AudioError``, ``AlignError``, ...) derives from this. Raise it with
    an English template marked ``N_`` (so ``python -m i18n`` finds it and the catalogue holds its
    Japanese) and the template's values as keywords::

        raise AudioError(N_("The recording is {s:.1f} s long; the limit is {limit:g} s."), s=s, limit=60)

    - ``str(exc)`` is the English sentence (the command line, logs and tests read it);
    - ``exc.text(tr)`` is the sentence in the interface language: ``tr(template).format(**values)``
      (pages and app_state pass ``i18n.translator()``; ``i18n.error_text(exc)`` does it for any
      exception);
    - a value that is itself a ``UserError`` (a cause wrapped by another module's error) is shown
      with the same ``tr``; other values (numbers, file names, words a user typed, a library's own
      message) are shown as they are;
    - without keywords the message is used as it is, never formatted: an unmarked message (e.g. an
      f-string of a command-line-only error) still works and shows in English.

    ``cls.wrap(exc)`` re-raises another module's error as this type with the same template.
    """

    def __init__(self, message: str = "", /, **values: object):
        self.template = str(message)
        self.values = values
        super().__init__(self.text())

    def text(self, tr: Translate = english) -> str:
        """The sentence in the language of ``tr`` (English by default, = ``str(self)``)."""
        if not self.values:
            return tr(self.template)
        shown = {k: v.text(tr) if isinstance(v, UserError) else v for k, v in self.values.items()}
        return tr(self.template).format(**shown)

    @classmethod
    def wrap(cls, exc: BaseException) -> UserError:
        """``exc`` as a ``cls``: its template and values if it is a ``UserError``, else its text."""
        if isinstance(exc, UserError):
            return cls(exc.template, **exc.values)
        return cls(str(exc))

    def __reduce__(self):  # pickling keeps the template and the values (not only the English)
        return (_rebuild, (type(self), self.template, self.values))


def _rebuild(cls: type[UserError], template: str, values: dict) -> UserError:
    return cls(template, **values)
