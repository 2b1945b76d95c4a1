"""Moved to ``core.voice.compare`` (issue 26); this old path is kept for one release."""

import sys

from core.voice import compare as _new

sys.modules[__name__] = _new
