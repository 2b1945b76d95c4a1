"""Moved to ``core.viz.voice`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import voice as _new

sys.modules[__name__] = _new
