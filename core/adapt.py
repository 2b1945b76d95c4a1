"""Moved to ``core.voice.adapt`` (issue 26); this old path is kept for one release."""

import sys

from core.voice import adapt as _new

sys.modules[__name__] = _new
