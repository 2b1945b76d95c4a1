"""Moved to ``core.voice.align.readings_ja`` (issue 26); this old path is kept for one release."""

import sys

from core.voice.align import readings_ja as _new

sys.modules[__name__] = _new
