"""Moved to ``core.viz.home_picture`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import home_picture as _new

sys.modules[__name__] = _new
