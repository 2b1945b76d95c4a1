"""Moved to the package ``core.data`` (issue 26; loading in ``core.data.corpus``, synthesis in
``core.data.synth``); this old path is kept for one release."""

import sys

from core import data as _new

sys.modules[__name__] = _new
