"""Moved to ``core.viz.units`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import units as _new

sys.modules[__name__] = _new
