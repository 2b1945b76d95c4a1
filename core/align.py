"""Moved to ``core.voice.align`` (issue 26); this old path is kept for one release."""

import sys

from core.voice import align as _new

sys.modules[__name__] = _new
