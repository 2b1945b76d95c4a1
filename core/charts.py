"""Moved to ``core.viz.maps`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import maps as _new

sys.modules[__name__] = _new
