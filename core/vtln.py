"""Moved to ``core.voice.vtln`` (issue 26); this old path is kept for one release."""

import sys

from core.voice import vtln as _new

sys.modules[__name__] = _new
