"""Moved to ``core.viz.trust`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import trust as _new

sys.modules[__name__] = _new
